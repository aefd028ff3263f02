"""Predicted outcome, pool base rates, thin majors, constant columns and targets."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest

from core.engine.explaining import build_explanations
from core.engine.recommending import (
    ANY_PLACED,
    feature_recommendations,
    target_medians,
)
from core.engine.scoring import (
    NOT_PLACED,
    TrajectoryModel,
    abstain_advice,
    predicted_outcomes,
)


def _alumni(major: str, gpas: list[float], tiers: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "major": major,
            "gpa": gpas,
            "attendance": [70.0 + 2 * number for number in range(len(gpas))],
            "placement_status": [
                "Not Placed" if tier == "none" else "Placed" for tier in tiers
            ],
            "company_tier": [
                None if tier in (None, "none") else tier for tier in tiers
            ],
        }
    )


def _ladder(major: str = "Computer Science", count: int = 40) -> pd.DataFrame:
    gpas = [5.0 + 5.0 * number / (count - 1) for number in range(count)]
    tiers: list[str | None] = [
        "none"
        if gpa < 6.5
        else "Tier3"
        if gpa < 7.5
        else "Tier2"
        if gpa < 8.5
        else "Tier1"
        for gpa in gpas
    ]
    return _alumni(major, gpas, tiers)


def _students(gpas: list[float], major: str, attendance: float = 80.0) -> pd.DataFrame:
    return pd.DataFrame({"major": major, "gpa": gpas, "attendance": attendance})


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [
        ([0.24, 0.26, 0.19, 0.30], 1),
        ([0.10, 0.10, 0.10, 0.70], NOT_PLACED),
        ([0.20, 0.20, 0.20, 0.40], 2),
        ([0.50, 0.00, 0.00, 0.50], 0),
    ],
)
def test_placed_decided_before_tier(probabilities: list[float], expected: int) -> None:
    assert predicted_outcomes(np.array([probabilities]))[0] == expected


def test_other_major_leaves_score_unchanged() -> None:
    own = _ladder()
    unrelated = _alumni("Commerce", [6.0] * 200, ["none"] * 200)
    students = _students([6.0, 7.5, 9.0], "Computer Science")

    alone = TrajectoryModel(own, ["gpa", "attendance"]).score(students)
    mixed = TrajectoryModel(pd.concat([own, unrelated]), ["gpa", "attendance"]).score(
        students
    )

    np.testing.assert_allclose(mixed.score, alone.score)


def test_thin_major_wider_margin_lower_confidence() -> None:
    thin = _alumni("Biotechnology", [7.0, 8.0], ["Tier2", "Tier1"])
    model = TrajectoryModel(pd.concat([_ladder(), thin]), ["gpa", "attendance"])
    gpas = [5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0]

    large = model.score(_students(gpas, "Computer Science"))
    fallback = model.score(_students(gpas, "Biotechnology"))

    assert fallback.neighbours.fallback.all()
    assert (fallback.margin > large.margin).all()
    assert (fallback.confidence < large.confidence).all()


def test_constant_column_needs_same_value() -> None:
    alumni = _alumni("Civil", [8.0] * 12, ["Tier1"] * 6 + ["none"] * 6)
    alumni["attendance"] = np.nan
    model = TrajectoryModel(alumni, ["gpa", "attendance"])

    result = model.score(_students([8.0, 4.0], "Civil", attendance=np.nan))

    assert not np.isnan(result.score[0])
    assert np.isnan(result.score[1])
    assert result.abstain_reason[1] is not None
    assert "Civil" in result.abstain_reason[1]


def test_untiered_files_still_get_recommendations() -> None:
    count = 40
    gpas = [5.0 + 5.0 * number / (count - 1) for number in range(count)]
    tiers: list[str | None] = ["none" if gpa < 7.0 else None for gpa in gpas]
    model = TrajectoryModel(_alumni("Mechanical", gpas, tiers), ["gpa"])
    students = _students([5.5], "Mechanical")
    result = model.score(students)

    rows = feature_recommendations(model, students, result)

    assert [row["category"] for row in rows] == ["gpa"]
    assert rows[0]["description"].startswith("Placed alumni in your comparison group")
    assert rows[0]["estimated_points"] > 0


def test_small_group_evidence_hides_details() -> None:
    large = _ladder().assign(graduation_year=2023, role_title="Analyst")
    thin = _alumni("Biotechnology", [7.0, 8.0], ["Tier2", "Tier1"]).assign(
        graduation_year=2023, role_title="Research Associate", salary_text="4-6 LPA"
    )
    model = TrajectoryModel(pd.concat([large, thin]), ["gpa", "attendance"])
    students = _students([7.0], "Biotechnology", attendance=70.0)
    result = model.score(students)

    evidence = build_explanations(model, students, result)[0]["evidence"]

    thin_rows = [row for row in evidence if row["major"] == "Biotechnology"]
    large_rows = [row for row in evidence if row["major"] == "Computer Science"]
    assert thin_rows
    assert large_rows
    for row in thin_rows:
        assert row["graduation_year"] is None
        assert row["gpa_band"] is None
        assert row["salary_band"] is None
        assert row["role"] is None
        assert row["outcome"] == "Placed"
    assert all(row["graduation_year"] == 2023 for row in large_rows)
    assert all(row["gpa_band"] is not None for row in large_rows)


def test_driver_is_score_change_at_pool_mean() -> None:
    alumni = _ladder()
    model = TrajectoryModel(alumni, ["gpa", "attendance"])
    students = _students([9.5], "Computer Science", attendance=74.0)
    result = model.score(students)
    at_mean_gpa = model.score(students.assign(gpa=alumni["gpa"].mean()))
    expected = round(float(result.score[0] - at_mean_gpa.score[0]), 2)

    explanation = build_explanations(model, students, result)[0]

    drivers = explanation["drivers_up"] + explanation["drivers_down"]
    gpa = next(driver for driver in drivers if driver["feature"] == "gpa")
    assert gpa["points"] == pytest.approx(expected)
    assert gpa["points"] > 0
    assert all(abs(driver["points"]) <= 100 for driver in drivers)


def test_tiny_tier_group_gives_no_target() -> None:
    gpas = [5.0 + 0.1 * number for number in range(40)]
    tiers: list[str | None] = ["none"] * 20 + ["Tier3"] * 17 + ["Tier1"] * 3
    model = TrajectoryModel(_alumni("Civil", gpas, tiers), ["gpa", "attendance"])
    model.score(_students([6.0], "Civil"))

    medians = target_medians(model)

    assert ("Civil", 2) in medians
    assert ("Civil", 0) not in medians
    assert ("Civil", ANY_PLACED) in medians


@pytest.mark.parametrize(
    "spelling", ["computer science", "COMPUTER  SCIENCE", "Computer Science"]
)
def test_major_spellings_share_a_pool(spelling: str) -> None:
    model = TrajectoryModel(_ladder(), ["gpa", "attendance"])

    result = model.score(_students([7.0], spelling))

    assert result.abstain_reason[0] is None
    assert result.neighbours.pool_key == ["Computer Science"]
    assert not result.neighbours.fallback[0]


def test_accent_encodings_share_a_pool() -> None:
    composed = unicodedata.normalize("NFC", "Génie Électrique")
    decomposed = unicodedata.normalize("NFD", "Génie Électrique")
    alumni = pd.concat([_ladder(composed, 30), _ladder(decomposed, 10)])
    model = TrajectoryModel(alumni, ["gpa", "attendance"])

    result = model.score(_students([7.0], decomposed))

    assert result.neighbours.pool_key == [composed]
    assert result.neighbours.own_major_alumni[0] == 40


def test_abstain_advice_follows_reason() -> None:
    model = TrajectoryModel(_ladder(), ["gpa"])
    missing_values = model.score(_students([float("nan")], "Computer Science"))
    no_alumni = model.score(_students([7.0], "Aerospace"))

    assert missing_values.abstain_reason[0] is not None
    assert no_alumni.abstain_reason[0] is not None
    assert abstain_advice(missing_values.abstain_reason[0]).startswith("Check")
    assert abstain_advice(no_alumni.abstain_reason[0]).startswith("Staff can import")
