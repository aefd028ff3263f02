"""Backtest on collegePlace.csv against both baselines, and the CLI report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from core.cli import main
from core.engine.backtest import run_backtest
from core.engine.features import STUDENT_NUMERIC_FEATURES, shared_features
from db.models import PlacementStatus
from db.session import session_scope
from tests.engine.frames import college_place_alumni
from tests.engine.helpers import add_ladder
from tests.factories import make_alumnus


@pytest.fixture(scope="module")
def college_report(shared_data: Path) -> dict:
    return run_backtest(college_place_alumni(shared_data / "collegePlace.csv"))


def test_engine_beats_base_rate(college_report: dict) -> None:
    engine, base = college_report["engine"], college_report["base_rate"]
    logistic = college_report["logistic_regression"]
    print(
        f"\ncollegePlace: engine AUC {engine['auc']:.3f} Brier {engine['brier']:.3f}; "
        f"base rate AUC {base['auc']:.3f} Brier {base['brier']:.3f}; "
        f"logistic AUC {logistic['auc']:.3f} Brier {logistic['brier']:.3f}"
    )
    assert college_report["split"] == "5-fold cross-validation"
    assert engine["coverage"] == 1.0
    assert engine["auc"] > base["auc"]
    assert engine["auc"] > 0.75
    assert engine["brier"] < base["brier"]


def test_base_rate_auc_is_chance(college_report: dict) -> None:
    # A constant prediction within each fold ranks nothing.
    assert college_report["base_rate"]["auc"] == pytest.approx(0.5)


def test_gender_is_never_a_feature(college_report: dict) -> None:
    assert "gender" not in college_report["features"]
    groups = {row["group"] for row in college_report["fairness"]["gender"]}
    assert groups == {"Female", "Male"}
    assert len(college_report["fairness"]["major"]) == 6


def test_newest_year_is_held_out() -> None:
    report = run_backtest(pd.DataFrame(_yearly_rows()))

    assert report["split"] == "train before 2024, test 2024"
    assert report["engine"]["rows"] == 30
    assert report["test_rows"] == 30


def _yearly_rows(newest_rows: int = 30) -> list[dict]:
    """Return 30 alumni a year for 2022 and 2023 and ``newest_rows`` for 2024."""
    rows = []
    for year, count in ((2022, 30), (2023, 30), (2024, newest_rows)):
        for number in range(count):
            gpa = (5.0, 6.0, 7.0, 8.0, 9.0)[number % 5]
            rows.append(
                {
                    "major": "Computer Science",
                    "graduation_year": year,
                    "gpa": gpa,
                    "attendance": 80.0,
                    "placement_status": "Placed" if gpa >= 7 else "Not Placed",
                    "company_tier": "Tier2" if gpa >= 7 else None,
                }
            )
    return rows


def test_coverage_divides_by_test_rows() -> None:
    rows = _yearly_rows()
    # Five test rows with no GPA or attendance, so the engine abstains on them.
    for _ in range(5):
        rows.append(
            {
                "major": "Computer Science",
                "graduation_year": 2024,
                "gpa": None,
                "attendance": None,
                "placement_status": "Placed",
                "company_tier": None,
            }
        )

    report = run_backtest(pd.DataFrame(rows))

    assert report["base_rate"]["coverage"] == 1.0
    assert report["logistic_regression"]["coverage"] == 1.0
    assert report["engine"]["coverage"] == pytest.approx(30 / 35)
    assert report["base_rate"]["rows"] == 35
    assert report["engine"]["rows"] == 30


def test_features_match_rescoring() -> None:
    rows = _yearly_rows()
    for number, row in enumerate(rows):
        # A student attribute on a fifth of the rows: rescoring uses it.
        row["internship_count"] = float(number % 3) if number % 5 == 0 else None
        # Alumni-only columns, on every row: rescoring cannot use them.
        row["age"] = 21.0 + number % 4
        row["hostel"] = float(number % 2)
        row["backlogs"] = float(number % 2)
        row["gender"] = "Female" if number % 2 else "Male"
    alumni = pd.DataFrame(rows)

    report = run_backtest(alumni)

    training = alumni[alumni["graduation_year"] < 2024]
    assert report["features"] == shared_features(training, STUDENT_NUMERIC_FEATURES)
    assert report["features"] == ["gpa", "attendance", "internship_count"]
    assert "gender" not in report["features"]


def test_small_newest_year_uses_folds() -> None:
    report = run_backtest(pd.DataFrame(_yearly_rows(newest_rows=1)))

    assert report["split"].startswith("5-fold cross-validation")
    assert "2024" in report["split"]
    assert "1 alumnus" in report["split"]
    assert "fewer than 30" in report["split"]
    assert report["test_rows"] == 61


@pytest.mark.parametrize(
    ("status", "tier"), [("Placed", "Tier2"), ("Not Placed", None)]
)
def test_one_outcome_class_has_null_auc(status: str, tier: str | None) -> None:
    rows = _yearly_rows()
    for row in rows:
        row["placement_status"] = status
        row["company_tier"] = tier

    report = run_backtest(pd.DataFrame(rows))

    for name in ("engine", "base_rate", "logistic_regression"):
        metrics = report[name]
        assert metrics["auc"] is None
        assert f"every scored test alumnus is {status}" in metrics["auc_note"]
        assert 0.0 <= metrics["brier"] <= 1.0
        for value in metrics["reliability"]["predicted"]:
            assert 0.0 <= value <= 1.0


def test_huge_feature_value_is_ignored() -> None:
    rows = _yearly_rows()
    for number, row in enumerate(rows):
        row["internship_count"] = float(number % 3)
    rows[3]["internship_count"] = 1e308
    rows[4]["internship_count"] = -1e308

    report = run_backtest(pd.DataFrame(rows))

    assert report["logistic_regression"]["auc"] is not None
    assert report["engine"]["auc"] is not None
    assert "internship_count" in report["features"]
    assert any("2 feature values" in note for note in report["notes"])


def test_tier_accuracy_counts_placed_tiers() -> None:
    rows = _yearly_rows()
    report = run_backtest(pd.DataFrame(rows))
    # The base rate predicts Tier2, the most common training outcome, for everyone.
    # Over placed alumni, all in Tier2, that is right every time, and the Not
    # Placed alumni it gets wrong do not count.
    assert report["base_rate"]["tier_accuracy"] == 1.0

    for row in rows:
        row["company_tier"] = None
    report = run_backtest(pd.DataFrame(rows))
    for name in ("engine", "base_rate", "logistic_regression"):
        assert report[name]["tier_accuracy"] is None


def test_cli_backtest_prints_text(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 30)

    assert main(["backtest"]) == 0

    output = capsys.readouterr().out
    assert "30 test alumni" in output
    assert "rows 30" in output


def test_cli_backtest_one_class_json(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        for number in range(12):
            make_alumnus(
                session,
                gpa=5.0 + number * 0.3,
                placement_status=PlacementStatus.NOT_PLACED,
            )

    assert main(["backtest", "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    for name in ("engine", "base_rate", "logistic_regression"):
        assert report[name]["auc"] is None
        assert report[name]["brier"] is not None
        assert report[name]["coverage"] == 1.0


def test_cli_backtest_prints_json(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 30)

    assert main(["backtest", "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    for name in ("engine", "base_rate", "logistic_regression"):
        assert {"auc", "brier", "coverage"} <= set(report[name])
    assert report["run_id"] >= 1


def test_cli_backtest_too_few_alumni(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 3)

    assert main(["backtest"]) == 0

    output = capsys.readouterr().out
    assert "because there are 3 alumni and a backtest needs at least 10." in output
