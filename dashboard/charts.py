"""Plotly figure builders for the pages. They take frames and never query.

Each builder expects a non-empty frame. Pages show an empty state instead of
calling them when a filter matches no student.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

# One colour per outcome, the same on every chart: the best tier darkest green,
# no placement red, no prediction grey.
TIER_COLOURS = {
    "Tier1": "#1b7837",
    "Tier2": "#5aae61",
    "Tier3": "#a6dba0",
    "Not Placed": "#d6604d",
    "No prediction": "#bababa",
}
TREND_COLOURS = {"improving": "#1b7837", "stable": "#878787", "declining": "#b2182b"}
SCORE_AXIS_RANGE = (0, 100)


def _layout(figure: go.Figure, title: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        showlegend=False,
    )
    return figure


def score_distribution(frame: pd.DataFrame) -> go.Figure:
    """Return a box plot of the latest scores per major, with every student shown.

    ``frame`` has ``major`` and ``score`` columns. Rows without a score are
    left out.
    """
    scored = frame.dropna(subset=["score"]).sort_values("major", ascending=False)
    # Horizontal boxes keep long major names readable, where rotated x labels
    # overlapped.
    figure = px.box(
        scored,
        x="score",
        y="major",
        orientation="h",
        points="all",
        hover_data={"roll_number": True} if "roll_number" in scored else None,
        labels={"major": "Major", "score": "Trajectory score (0-100)"},
        color_discrete_sequence=["#2166ac"],
    )
    figure.update_xaxes(range=SCORE_AXIS_RANGE)
    figure.update_layout(height=max(320, 60 + 40 * scored["major"].nunique()))
    return _layout(figure, "Latest trajectory score by major")


def tier_counts(counts: pd.DataFrame) -> go.Figure:
    """Return a bar chart of students per predicted tier.

    ``counts`` has ``tier`` and ``students`` columns, as from
    ``core.cohort.tier_counts``.
    """
    figure = px.bar(
        counts,
        x="tier",
        y="students",
        color="tier",
        color_discrete_map=TIER_COLOURS,
        text="students",
        labels={"tier": "Predicted outcome", "students": "Students"},
    )
    return _layout(figure, "Predicted outcome of each student")


def trend_counts(counts: pd.DataFrame) -> go.Figure:
    """Return a bar chart of students per trend of their latest score.

    ``counts`` has ``trend`` and ``students`` columns, as from
    ``core.cohort.trend_counts``.
    """
    figure = px.bar(
        counts,
        x="trend",
        y="students",
        color="trend",
        color_discrete_map=TREND_COLOURS,
        text="students",
        labels={"trend": "Trend since the previous score", "students": "Students"},
    )
    return _layout(figure, "Where scores are heading")
