"""Eligible-neighbour matching, checked by hand and against a numpy reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.engine.matching import _MAX_TREE_DIMENSIONS, Matcher
from core.engine.scoring import ABSTAIN_NO_SHARED, TrajectoryModel

NAN = float("nan")


def mixed_pool() -> pd.DataFrame:
    """Return ten alumni: six without GPA or attendance, then four with both.

    Over the four with values, GPA has mean 7 and population variance 3.5
    (deviations -3, 1, 2, 0), and attendance has mean 80 and population variance
    150 (deviations 0, 10, -20, 10). The six without values are imputed with the
    means, so they sit at the scaled origin.
    """
    return pd.DataFrame(
        {
            "major": "Computer Science",
            "gpa": [NAN] * 6 + [4.0, 8.0, 9.0, 7.0],
            "attendance": [NAN] * 6 + [80.0, 90.0, 60.0, 90.0],
            "placement_status": ["Placed", "Not Placed"] * 5,
            "company_tier": ["Tier2", None] * 5,
        }
    )


def student_at_means() -> pd.DataFrame:
    # At the pool means the student is at distance 0 from the six alumni that
    # lack both values, so they are its nearest alumni by distance.
    return pd.DataFrame([{"major": "Computer Science", "gpa": 7.0, "attendance": 80.0}])


def test_nearest_eligible_alumni_kept() -> None:
    matcher = Matcher(mixed_pool(), ["gpa", "attendance"], k=3)
    pool = matcher.pools["Computer Science"]
    student_scaled, _ = pool.scaling.transform(np.array([[7.0, 80.0]]))

    found = matcher.neighbours(student_at_means())

    # The six alumni without values share the student's scaled point (0, 0).
    assert not pool.scaled[:6].any()
    assert not student_scaled.any()
    # Squared scaled distances: alumnus 9 is 0 + 10^2/150 = 2/3, alumnus 7 is
    # 1/3.5 + 10^2/150 = 2/7 + 2/3, alumnus 6 is 3^2/3.5 = 18/7 and alumnus 8
    # is 2^2/3.5 + 20^2/150 = 8/7 + 8/3.
    assert found.alumni[0].tolist() == [9, 7, 6]
    expected = [math.sqrt(2 / 3), math.sqrt(2 / 7 + 2 / 3), math.sqrt(18 / 7)]
    np.testing.assert_allclose(found.distances[0], expected)
    assert found.share_present[0] == pytest.approx(1.0)


def test_k_clipped_to_eligible_count() -> None:
    matcher = Matcher(mixed_pool(), ["gpa", "attendance"], k=8)

    found = matcher.neighbours(student_at_means())

    # The output has k = 8 columns because the pool has ten alumni, but only
    # four of them are eligible.
    assert found.alumni.shape == (1, 8)
    assert found.alumni[0, :4].tolist() == [9, 7, 6, 8]
    assert (found.alumni[0, 4:] == -1).all()
    assert np.isfinite(found.distances[0, :4]).all()
    assert np.isinf(found.distances[0, 4:]).all()
    assert found.distances[0, 3] == pytest.approx(math.sqrt(8 / 7 + 8 / 3))


def test_attendance_only_student_abstains() -> None:
    alumni = pd.DataFrame(
        {
            "major": "Computer Science",
            "gpa": [5.0 + 0.5 * number for number in range(10)],
            "attendance": NAN,
            "internship_count": [float(number % 3) for number in range(10)],
            "placement_status": "Placed",
            "company_tier": "Tier3",
        }
    )
    students = pd.DataFrame(
        {
            "major": "Computer Science",
            "gpa": [NAN, 7.0],
            "attendance": [80.0, 80.0],
            "internship_count": [1.0, 1.0],
        }
    )
    features = ["gpa", "attendance", "internship_count"]

    found = Matcher(alumni, features, k=4).neighbours(students)
    result = TrajectoryModel(alumni, features, k=4).score(students)

    assert (found.alumni[0] == -1).all()
    assert np.isinf(found.distances[0]).all()
    assert found.share_present[0] == 0.0
    assert result.abstain_reason[0] == ABSTAIN_NO_SHARED.format(pool="Computer Science")
    assert np.isnan(result.score[0])
    # The student with a GPA in the same batch keeps all four neighbours.
    assert (found.alumni[1] >= 0).all()
    assert result.abstain_reason[1] is None


def test_pool_without_usable_column_takes_first_eligible() -> None:
    # GPA is the same for every alumnus that has it, so no column varies and
    # every eligible alumnus is at distance 0.
    alumni = mixed_pool().assign(gpa=[NAN] * 6 + [7.0] * 4, attendance=NAN)
    student = student_at_means()

    found = Matcher(alumni, ["gpa", "attendance"], k=3).neighbours(student)

    assert found.alumni[0].tolist() == [6, 7, 8]
    assert found.distances[0].tolist() == [0.0, 0.0, 0.0]


def reference_neighbours(
    alumni: pd.DataFrame, students: pd.DataFrame, features: list[str], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return each student's k nearest alumni of its major by exhaustive search.

    Features are standardised with the population mean and standard deviation of
    the major's alumni, and distances are Euclidean in those units.
    """
    positions = np.empty((len(students), k), dtype=np.int64)
    distances = np.empty((len(students), k))
    for number, row in enumerate(students.itertuples(index=False)):
        rows = np.flatnonzero(alumni["major"].to_numpy() == row.major)
        pool = alumni[features].to_numpy(dtype=float)[rows]
        mean = pool.mean(axis=0)
        std = pool.std(axis=0)
        point = (np.array([getattr(row, name) for name in features]) - mean) / std
        gaps = np.sqrt((((pool - mean) / std - point) ** 2).sum(axis=1))
        order = np.argsort(gaps, kind="stable")[:k]
        positions[number] = rows[order]
        distances[number] = gaps[order]
    return positions, distances


@pytest.mark.parametrize("dimensions", [3, _MAX_TREE_DIMENSIONS + 2])
def test_complete_data_matches_reference(dimensions: int) -> None:
    rng = np.random.default_rng(11)
    features = ["gpa", "attendance"] + [f"signal_{n}" for n in range(dimensions - 2)]
    alumni = pd.DataFrame(rng.normal(size=(400, dimensions)), columns=features)
    alumni["major"] = rng.choice(["Civil", "Mechanical"], size=400)
    students = pd.DataFrame(rng.normal(size=(60, dimensions)), columns=features)
    students["major"] = rng.choice(["Civil", "Mechanical"], size=60)

    found = Matcher(alumni, features, k=7).neighbours(students)
    positions, distances = reference_neighbours(alumni, students, features, 7)

    np.testing.assert_array_equal(found.alumni, positions)
    np.testing.assert_allclose(found.distances, distances, rtol=1e-10, atol=1e-12)
