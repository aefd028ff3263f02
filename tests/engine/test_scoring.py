"""Matching and scoring on small hand-built alumni sets, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.engine.charts import history_figure
from core.engine.matching import MIN_MAJOR_ALUMNI
from core.engine.recommending import feature_recommendations
from core.engine.scoring import (
    ABSTAIN_NO_ALUMNI,
    ABSTAIN_NO_SHARED,
    FALLBACK_CONFIDENCE_FACTOR,
    READINESS_WEIGHT,
    TrajectoryModel,
    outcome_rows,
)

# Two alumni at each GPA from 5 to 9; outcomes improve with GPA.
GPAS = [5.0, 5.0, 6.0, 6.0, 7.0, 7.0, 8.0, 8.0, 9.0, 9.0]
OUTCOMES = [
    ("Not Placed", None),
    ("Not Placed", None),
    ("Not Placed", None),
    ("Not Placed", None),
    ("Placed", "Tier3"),
    ("Placed", "Tier3"),
    ("Placed", "Tier2"),
    ("Placed", "Tier2"),
    ("Placed", "Tier1"),
    ("Placed", "Tier1"),
]


def ladder(major: str = "Computer Science") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "major": major,
            "gpa": GPAS,
            "attendance": 80.0,
            "placement_status": [status for status, _ in OUTCOMES],
            "company_tier": [tier for _, tier in OUTCOMES],
        }
    )


def student(
    gpa: float, major: str = "Computer Science", **values: float
) -> pd.DataFrame:
    return pd.DataFrame([{"major": major, "gpa": gpa, "attendance": 80.0, **values}])


def test_hand_built_ladder_scores_as_computed() -> None:
    model = TrajectoryModel(ladder(), ["gpa", "attendance"], k=4)

    result = model.score(student(9.0))

    # GPA has population standard deviation sqrt(2); attendance is constant, so it
    # is dropped. The two 9.0 alumni are at distance 0, the two 8.0 at 1/sqrt(2).
    assert sorted(result.neighbours.alumni[0]) == [6, 7, 8, 9]
    d = 1 / math.sqrt(2)
    np.testing.assert_allclose(sorted(result.neighbours.distances[0]), [0, 0, d, d])
    e = math.exp(-(d**2) / 2)
    shares = np.array([2, 2 * e, 0, 0]) / (2 + 2 * e)
    base_rates = np.array([0.2, 0.2, 0.2, 0.4])
    expected = (4 * shares + 1 * base_rates) / 5
    np.testing.assert_allclose(result.probabilities[0], expected)
    expected_score = expected @ np.array([100, 75, 50, 0])
    assert result.score[0] == pytest.approx(expected_score)
    assert result.predicted[0] == 0

    weights = np.array([1, 1, e, e])
    values = np.array([100, 100, 75, 75])
    mean = (weights * values).sum() / weights.sum()
    variance = (weights * (values - mean) ** 2).sum() / weights.sum()
    effective = weights.sum() ** 2 / (weights**2).sum()
    mean_distance = (weights * np.array([0, 0, d, d])).sum() / weights.sum()
    margin = 1.96 * math.sqrt((variance * effective + 2500) / (effective + 1) ** 2)
    assert result.margin[0] == pytest.approx(margin * (1 + mean_distance))
    confidence = effective / (effective + 5) / (1 + mean_distance)
    assert result.confidence[0] == pytest.approx(confidence)


def test_readiness_shifts_score_only() -> None:
    model = TrajectoryModel(ladder(), ["gpa"], k=4)

    plain = model.score(student(8.0))
    ready = model.score(student(8.0, skill_score=90.0, focus_score=70.0))

    np.testing.assert_allclose(ready.probabilities, plain.probabilities)
    assert ready.readiness[0] == pytest.approx(80.0)
    assert ready.score[0] == pytest.approx(plain.score[0] + READINESS_WEIGHT * 30)


def test_major_without_alumni_abstains() -> None:
    model = TrajectoryModel(ladder(), ["gpa"])

    result = model.score(student(8.0, major="Philosophy"))

    assert result.abstain_reason[0] == ABSTAIN_NO_ALUMNI
    assert np.isnan(result.score[0])
    assert result.predicted[0] == -1
    assert result.neighbour_count[0] == 0


def test_no_alumni_at_all_abstains() -> None:
    empty = ladder().iloc[:0]
    model = TrajectoryModel(empty, ["gpa"])

    result = model.score(student(8.0))

    assert result.abstain_reason[0] is not None
    assert np.isnan(result.score[0])


def test_thin_major_falls_back_to_all() -> None:
    alumni = pd.concat([ladder(), ladder("Biotechnology").iloc[[4, 9]]])
    model = TrajectoryModel(alumni, ["gpa"], k=4)

    result = model.score(pd.concat([student(8.0), student(8.0, major="Biotechnology")]))

    assert MIN_MAJOR_ALUMNI > 2
    assert list(result.neighbours.fallback) == [False, True]
    assert result.neighbour_count[1] == 4
    assert (
        result.confidence[1] < result.confidence[0] * FALLBACK_CONFIDENCE_FACTOR + 1e-9
    )
    assert result.margin[1] > result.margin[0]


def test_k_is_clipped_to_pool() -> None:
    model = TrajectoryModel(ladder(), ["gpa"], k=50)

    result = model.score(student(7.0))

    assert result.neighbour_count[0] == len(GPAS)
    assert (result.neighbours.alumni[0] >= 0).all()


def test_missing_student_values_abstain() -> None:
    model = TrajectoryModel(ladder(), ["gpa"], k=4)

    result = model.score(student(float("nan")))

    assert np.isnan(result.score[0])
    assert result.neighbour_count[0] == 0
    assert result.abstain_reason[0] is not None
    assert "shares a comparable" in result.abstain_reason[0]


def test_no_shared_features_abstains() -> None:
    # Alumni shaped like Placement_Data_Full_Class.csv: no GPA or attendance, only
    # columns the student lacks or shares outside GPA and attendance.
    alumni = pd.DataFrame(
        {
            "major": "Commerce",
            "gpa": np.nan,
            "attendance": np.nan,
            "internship_count": [0.0, 1.0, 2.0, 3.0] * 3,
            "placement_status": ["Placed", "Not Placed", "Placed"] * 4,
            "company_tier": None,
        }
    )
    no_values = pd.DataFrame(
        [{"major": "Commerce", "gpa": np.nan, "attendance": np.nan}]
    )
    internships_only = no_values.assign(internship_count=2.0)
    features = ["gpa", "attendance", "internship_count"]

    for frame in (no_values, internships_only):
        result = TrajectoryModel(alumni, features, k=5).score(frame)

        assert np.isnan(result.score[0])
        assert np.isnan(result.confidence[0])
        assert result.neighbour_count[0] == 0
        assert result.abstain_reason[0] == ABSTAIN_NO_SHARED.format(pool="Commerce")


def test_alumni_without_student_base_excluded() -> None:
    alumni = ladder().assign(attendance=[70.0, 90.0] * 5)
    alumni.loc[[8, 9], "gpa"] = np.nan
    alumni.loc[[8], "attendance"] = np.nan

    result = TrajectoryModel(alumni, ["gpa", "attendance"], k=10).score(
        student(9.0, attendance=np.nan)
    )

    kept = result.neighbours.alumni[0]
    assert 8 not in kept
    assert 9 not in kept
    assert result.neighbour_count[0] == 8
    assert np.isfinite(result.neighbours.distances[0][:8]).all()


def test_confidence_falls_with_compared_share() -> None:
    alumni = ladder().assign(attendance=[70.0, 90.0] * 5)
    model = TrajectoryModel(alumni, ["gpa", "attendance"], k=4)

    both = model.score(student(9.0, attendance=90.0))
    gpa_only = model.score(student(9.0, attendance=np.nan))

    assert both.neighbours.share_present[0] == pytest.approx(1.0)
    assert gpa_only.neighbours.share_present[0] == pytest.approx(0.5)
    assert gpa_only.confidence[0] < both.confidence[0]


def test_constant_column_is_dropped() -> None:
    alumni = ladder().assign(backlogs=0.0)
    with_column = TrajectoryModel(alumni, ["gpa", "backlogs"], k=4)
    without_column = TrajectoryModel(alumni, ["gpa"], k=4)

    widened = with_column.score(student(6.0, backlogs=5.0))
    plain = without_column.score(student(6.0))

    np.testing.assert_array_equal(widened.neighbours.alumni, plain.neighbours.alumni)
    assert widened.score[0] == pytest.approx(plain.score[0])


def test_untiered_placed_rows_spread_by_known_tiers() -> None:
    alumni = pd.DataFrame(
        {
            "major": ["A"] * 6 + ["B"],
            "placement_status": ["Placed"] * 5 + ["Not Placed", "Placed"],
            "company_tier": ["Tier1", "Tier1", "Tier2", None, None, None, None],
        }
    )
    untiered_only = alumni.assign(company_tier=None)

    rows = outcome_rows(alumni)
    even = outcome_rows(untiered_only)

    # Major A's known tiers are Tier1, Tier1, Tier2.
    np.testing.assert_allclose(rows[3], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(rows[4], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(rows[5], [0, 0, 0, 1])
    # Major B has no known tier, so it takes the shares of all alumni.
    np.testing.assert_allclose(rows[6], [2 / 3, 1 / 3, 0, 0])
    # With no tier known anywhere the placed mass is split evenly.
    np.testing.assert_allclose(even[0], [1 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(even[5], [0, 0, 0, 1])


def test_untiered_neighbours_keep_known_tier() -> None:
    tiered = ladder().assign(gpa=9.0, placement_status="Placed", company_tier="Tier1")
    untiered = ladder().assign(gpa=9.5, placement_status="Placed", company_tier=None)
    unplaced = ladder().assign(gpa=5.0, placement_status="Not Placed")
    alumni = pd.concat([tiered, untiered, unplaced], ignore_index=True)
    model = TrajectoryModel(alumni, ["gpa"], k=10)

    result = model.score(student(9.5))

    # The ten untiered neighbours are spread by the major's known shares: Tier1.
    assert result.predicted[0] == 0
    np.testing.assert_allclose(model.base_rates, [2 / 3, 0, 0, 1 / 3])
    expected = (10 * np.array([1, 0, 0, 0]) + model.base_rates) / 11
    np.testing.assert_allclose(result.probabilities[0], expected)
    assert result.score[0] == pytest.approx(expected @ np.array([100, 75, 50, 0]))


def test_count_recommendations_use_whole_numbers() -> None:
    # Each placed tier has a median of 1.5 internships.
    alumni = ladder().assign(internship_count=[0, 0, 0, 0, 1, 2, 1, 2, 1, 2])
    model = TrajectoryModel(alumni, ["gpa", "internship_count"], k=4)
    students = student(7.0, internship_count=0.0)
    result = model.score(students)

    rows = feature_recommendations(model, students, result)

    titles = [row["title"] for row in rows]
    assert "Raise internships to 2" in titles
    described = [row["description"] for row in rows if "internships" in row["title"]]
    assert "had a median of 2 for internships, and yours is 0." in described[0]


def test_history_axis_ends_at_latest_score() -> None:
    history = pd.DataFrame(
        {
            "computed_at": pd.to_datetime(["2026-10-01", "2026-11-01"], utc=True),
            "score": [60.0, 70.0],
            "margin_of_error": [10.0, 40.0],
        }
    )

    figure = history_figure(history)

    end = pd.Timestamp(figure.layout.xaxis.range[1])
    assert end == history["computed_at"].max()


def test_history_keeps_last_score_per_day() -> None:
    history = pd.DataFrame(
        {
            "computed_at": pd.to_datetime(
                ["2026-12-04 09:00", "2026-11-01 10:00", "2026-12-04 17:30"], utc=True
            ),
            "score": [60.0, 50.0, 64.0],
            "margin_of_error": [10.0, 10.0, 10.0],
        }
    )

    figure = history_figure(history)

    scores = figure.data[1]
    assert list(scores.y) == [50.0, 64.0]
    assert len(scores.x) == 2
