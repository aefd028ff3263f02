"""Figure builders of the cohort overview: titles, axes and tier colours."""

from __future__ import annotations

import pandas as pd

from core.cohort import tier_counts, trend_counts
from dashboard import charts

COHORT = pd.DataFrame(
    {
        "roll_number": ["A", "B", "C", "D"],
        "major": ["Civil", "Civil", "Mechanical", "Mechanical"],
        "score": [30.0, 70.0, 55.0, float("nan")],
        "predicted_tier": ["Tier3", "Tier1", "Tier2", None],
        "trend": ["declining", "improving", None, None],
    }
)


def test_score_distribution_leaves_out_unscored() -> None:
    figure = charts.score_distribution(COHORT)

    plotted = [value for trace in figure.data for value in trace.x]
    assert sorted(plotted) == [30.0, 55.0, 70.0]
    assert figure.layout.title.text == "Latest trajectory score by major"
    assert figure.layout.xaxis.title.text == "Trajectory score (0-100)"
    assert tuple(figure.layout.xaxis.range) == (0, 100)


def test_score_distribution_is_horizontal() -> None:
    figure = charts.score_distribution(COHORT)

    assert all(trace.orientation == "h" for trace in figure.data)
    assert figure.layout.yaxis.title.text == "Major"


def test_tier_counts_colour_per_tier() -> None:
    figure = charts.tier_counts(tier_counts(COHORT))

    colours = {trace.name: trace.marker.color for trace in figure.data}
    heights = {trace.name: list(trace.y) for trace in figure.data}
    assert colours == charts.TIER_COLOURS
    assert heights["Tier1"] == [1]
    assert heights["No prediction"] == [1]
    assert heights["Not Placed"] == [0]
    assert figure.layout.xaxis.title.text == "Predicted outcome"


def test_trend_counts_colour_per_trend() -> None:
    figure = charts.trend_counts(trend_counts(COHORT))

    colours = {trace.name: trace.marker.color for trace in figure.data}
    assert colours == charts.TREND_COLOURS
    assert figure.layout.yaxis.title.text == "Students"
