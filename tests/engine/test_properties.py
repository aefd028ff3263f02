"""Property tests of the engine: monotonicity, constant columns, margin shrinkage."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.engine.scoring import TrajectoryModel

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


def outcome_for(gpa: float) -> tuple[str, str | None]:
    if gpa >= 8.5:
        return "Placed", "Tier1"
    if gpa >= 7.5:
        return "Placed", "Tier2"
    if gpa >= 6.5:
        return "Placed", "Tier3"
    return "Not Placed", None


def alumni_from(gpas: list[float], attendances: list[float]) -> pd.DataFrame:
    outcomes = [outcome_for(gpa) for gpa in gpas]
    return pd.DataFrame(
        {
            "major": "Computer Science",
            "gpa": gpas,
            "attendance": attendances,
            "placement_status": [status for status, _ in outcomes],
            "company_tier": [tier for _, tier in outcomes],
        }
    )


gpa_values = st.floats(min_value=4.0, max_value=10.0, allow_nan=False)
attendance_values = st.floats(min_value=50.0, max_value=100.0, allow_nan=False)


@PROPERTY_SETTINGS
@given(
    pool=st.lists(st.tuples(gpa_values, attendance_values), min_size=10, max_size=60),
    low=gpa_values,
    high=gpa_values,
    attendance=attendance_values,
    k=st.integers(min_value=1, max_value=20),
)
def test_score_monotone_in_gpa(
    pool: list[tuple[float, float]],
    low: float,
    high: float,
    attendance: float,
    k: int,
) -> None:
    low, high = min(low, high), max(low, high)
    alumni = alumni_from([g for g, _ in pool], [a for _, a in pool])
    model = TrajectoryModel(alumni, ["gpa", "attendance"], k=k)
    students = pd.DataFrame(
        {"major": "Computer Science", "gpa": [low, high], "attendance": attendance}
    )

    result = model.score(students)

    assert result.score[0] <= result.score[1] + 1e-9


@PROPERTY_SETTINGS
@given(
    pool=st.lists(st.tuples(gpa_values, attendance_values), min_size=10, max_size=60),
    students=st.lists(st.tuples(gpa_values, attendance_values), min_size=1, max_size=8),
    constant=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    student_value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_constant_column_changes_no_ranking(
    pool: list[tuple[float, float]],
    students: list[tuple[float, float]],
    constant: float,
    student_value: float,
) -> None:
    alumni = alumni_from([g for g, _ in pool], [a for _, a in pool])
    frame = pd.DataFrame(
        {
            "major": "Computer Science",
            "gpa": [g for g, _ in students],
            "attendance": [a for _, a in students],
        }
    )
    plain = TrajectoryModel(alumni, ["gpa", "attendance"], k=5).score(frame)
    widened = TrajectoryModel(
        alumni.assign(constant=constant), ["gpa", "attendance", "constant"], k=5
    ).score(frame.assign(constant=student_value))

    np.testing.assert_allclose(widened.neighbours.distances, plain.neighbours.distances)
    np.testing.assert_allclose(widened.score, plain.score)
    assert list(np.argsort(widened.score, kind="stable")) == list(
        np.argsort(plain.score, kind="stable")
    )


@PROPERTY_SETTINGS
@given(
    outcomes=st.lists(
        st.sampled_from(
            [
                ("Placed", "Tier1"),
                ("Placed", "Tier2"),
                ("Placed", "Tier3"),
                ("Not Placed", None),
            ]
        ),
        min_size=1,
        max_size=4,
    ),
    copies=st.integers(min_value=1, max_value=3),
)
def test_margin_shrinks_as_neighbourhood_grows(
    outcomes: list[tuple[str, str | None]], copies: int
) -> None:
    # The same mix of outcomes, all at the student's own features, repeated more
    # often: a larger neighbourhood that agrees in the same way. Ten filler alumni
    # far away keep the major above the fallback threshold and the scaling fixed.
    def margin_for(repeats: int) -> float:
        near = outcomes * repeats
        alumni = pd.DataFrame(
            {
                "major": "Computer Science",
                "gpa": [8.0] * len(near) + [2.0] * 10,
                "attendance": 80.0,
                "placement_status": [s for s, _ in near] + ["Not Placed"] * 10,
                "company_tier": [t for _, t in near] + [None] * 10,
            }
        )
        model = TrajectoryModel(alumni, ["gpa"], k=len(near))
        student = pd.DataFrame({"major": ["Computer Science"], "gpa": [8.0]})
        return float(model.score(student).margin[0])

    assert margin_for(copies + 1) < margin_for(copies)
