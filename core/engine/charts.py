"""Plotly figures of the trajectory and engine pages, built from view data."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from core.engine.scoring import OUTCOMES


def history_figure(history: pd.DataFrame) -> go.Figure:
    """Line chart of score over time with the margin of error as a band.

    Each UTC day shows its last score only: several rescorings on one day would
    otherwise pile up as points a few pixels apart.
    """
    times = pd.to_datetime(history["computed_at"], utc=True)
    history = (
        history.assign(day=times.dt.floor("D"), computed_at=times)
        .sort_values("computed_at")
        .groupby("day")
        .tail(1)
    )
    figure = go.Figure()
    upper = (history["score"] + history["margin_of_error"]).clip(upper=100)
    lower = (history["score"] - history["margin_of_error"]).clip(lower=0)
    figure.add_trace(
        go.Scatter(
            x=pd.concat([history["computed_at"], history["computed_at"][::-1]]),
            y=pd.concat([upper, lower[::-1]]),
            fill="toself",
            line={"width": 0},
            opacity=0.2,
            name="margin of error",
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=history["computed_at"],
            y=history["score"],
            mode="lines+markers",
            name="score",
        )
    )
    # The x axis ends at the latest score, because padding past it suggests a
    # forecast the engine does not make.
    figure.update_layout(
        xaxis={"range": [history["computed_at"].min(), history["computed_at"].max()]},
        yaxis={"range": [0, 100], "title": "score"},
        height=320,
    )
    return figure


def probabilities_figure(probabilities: dict[str, float]) -> go.Figure:
    """Bar chart of the four outcome probabilities."""
    values = [probabilities.get(name, 0.0) for name in OUTCOMES]
    figure = go.Figure(go.Bar(x=list(OUTCOMES), y=values))
    figure.update_layout(
        yaxis={"range": [0, 1], "title": "probability", "tickformat": ".0%"},
        height=280,
    )
    return figure


def reliability_figure(report: dict[str, Any]) -> go.Figure:
    """Reliability curve of each model in a backtest report, with the diagonal."""
    figure = go.Figure(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot"}
        )
    )
    for name in ("engine", "logistic_regression", "base_rate"):
        curve = report.get(name, {}).get("reliability")
        if curve:
            figure.add_trace(
                go.Scatter(
                    x=curve["predicted"],
                    y=curve["observed"],
                    mode="lines+markers",
                    name=name.replace("_", " "),
                )
            )
    figure.update_layout(
        xaxis={"title": "predicted probability of placement", "range": [0, 1]},
        yaxis={"title": "observed share placed", "range": [0, 1]},
        height=360,
    )
    return figure


def metrics_table(report: dict[str, Any]) -> pd.DataFrame:
    """Tabulate AUC, Brier score, tier accuracy, coverage and rows per model."""
    rows = []
    for name in ("engine", "base_rate", "logistic_regression"):
        metrics = report.get(name, {})
        rows.append(
            {
                "model": name.replace("_", " "),
                "AUC": metrics.get("auc"),
                "Brier": metrics.get("brier"),
                "tier accuracy": metrics.get("tier_accuracy"),
                "coverage": metrics.get("coverage"),
                "rows": metrics.get("rows"),
            }
        )
    return pd.DataFrame(rows)
