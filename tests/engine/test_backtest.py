"""Backtest on collegePlace.csv against both baselines, and the CLI report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from core.cli import main
from core.engine.backtest import run_backtest
from db.session import session_scope
from tests.engine.frames import college_place_alumni
from tests.engine.helpers import add_ladder


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


def test_gender_is_never_a_feature(college_report: dict) -> None:
    assert "gender" not in college_report["features"]
    groups = {row["group"] for row in college_report["fairness"]["gender"]}
    assert groups == {"Female", "Male"}
    assert len(college_report["fairness"]["major"]) == 6


def test_newest_year_is_held_out() -> None:
    rows = []
    for year in (2022, 2023, 2024):
        for gpa in (5.0, 6.0, 7.0, 8.0, 9.0) * 3:
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
    report = run_backtest(pd.DataFrame(rows))

    assert report["split"] == "train before 2024, test 2024"
    assert report["engine"]["rows"] == 15


def _yearly_rows() -> list[dict]:
    rows = []
    for year in (2022, 2023, 2024):
        for gpa in (5.0, 6.0, 7.0, 8.0, 9.0) * 3:
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
    assert report["engine"]["coverage"] == pytest.approx(15 / 20)
    assert report["base_rate"]["rows"] == 20
    assert report["engine"]["rows"] == 15


def test_minority_columns_are_not_features() -> None:
    rows = _yearly_rows()
    for number, row in enumerate(rows):
        row["internship_count"] = float(number % 3)
        # Another file's column, present on a fifth of the rows.
        row["ssc_p"] = 60.0 + number if number % 5 == 0 else None

    report = run_backtest(pd.DataFrame(rows))

    assert "internship_count" in report["features"]
    assert "ssc_p" not in report["features"]


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
