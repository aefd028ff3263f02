"""Cohort data layer: access rules, latest scores, risk order, counts, exports."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from core.access import AccessDenied
from core.cohort import (
    AT_RISK,
    NO_PREDICTION,
    NOT_ASSESSED,
    ON_TRACK,
    CohortFilter,
    export_risk_list,
    export_tier_summary,
    filter_options,
    latest_scores,
    rank_by_risk,
    tier_counts,
    tier_counts_by_major,
    trend_counts,
)
from db.models import AuditEntry, PredictedOutcome, Role, Trend
from db.session import session_scope
from tests.cohort.scores import add_score
from tests.factories import make_student, make_viewer


@pytest.mark.parametrize("role", [Role.STUDENT, Role.STAFF])
def test_cohort_queries_reject_role(engine: Engine, role: Role) -> None:
    with session_scope(engine) as session:
        student = make_student(session)
        viewer = make_viewer(session, role, student if role is Role.STUDENT else None)

    with session_scope(engine) as session:
        with pytest.raises(AccessDenied, match="read cohort scores"):
            latest_scores(session, viewer)
        with pytest.raises(AccessDenied, match="read cohort filter options"):
            filter_options(session, viewer)
        with pytest.raises(AccessDenied, match="export student records"):
            export_risk_list(session, viewer, pd.DataFrame({"student_id": []}), "csv")
        with pytest.raises(AccessDenied, match="export cohort summary"):
            export_tier_summary(session, viewer, pd.DataFrame(), "csv")

    with session_scope(engine) as session:
        denials = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access_denied")
        ).all()
    assert len(denials) == 4
    assert {entry.actor_user_id for entry in denials} == {viewer.user_id}


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMIN])
def test_latest_scores_picks_newest_row(engine: Engine, role: Role) -> None:
    with session_scope(engine) as session:
        viewer = make_viewer(session, role)
        rising = make_student(session, roll_number="A1")
        # Inserted out of time order, so the id order differs from the time order.
        add_score(session, rising, days_ago=0, score=71.5, trend=Trend.IMPROVING)
        add_score(session, rising, days_ago=14, score=40.0)
        add_score(session, rising, days_ago=7, score=55.0, trend=Trend.IMPROVING)
        abstained = make_student(session, roll_number="B2")
        add_score(session, abstained, days_ago=7, score=60.0)
        add_score(session, abstained, days_ago=1, score=None)
        make_student(session, roll_number="C3")

    with session_scope(engine) as session:
        frame = latest_scores(session, viewer).set_index("roll_number")

    assert len(frame) == 3
    assert frame.loc["A1", "score"] == 71.5
    assert frame.loc["A1", "trend"] == "improving"
    assert frame.loc["A1", "predicted_tier"] == "Tier2"
    assert frame.loc["A1", "status"] == "scored"
    assert pd.isna(frame.loc["B2", "score"])
    assert frame.loc["B2", "abstain_reason"] == "no alumni in this major"
    assert frame.loc["B2", "status"] == "abstained"
    assert pd.isna(frame.loc["C3", "computed_at"])
    assert frame.loc["C3", "status"] == "not scored"


def test_latest_scores_number_columns_are_float64(engine: Engine) -> None:
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.OFFICER)
        add_score(session, make_student(session), days_ago=0, score=33.3, velocity=-2.5)

    with session_scope(engine) as session:
        frame = latest_scores(session, viewer)

    for column in ("gpa", "attendance", "score", "margin_of_error", "confidence"):
        assert frame[column].dtype == "float64", column
    assert frame["velocity"].dtype == "float64"
    assert frame["velocity"].iloc[0] == -2.5


def test_latest_scores_applies_every_filter(engine: Engine) -> None:
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.OFFICER)
        make_student(session, roll_number="CS27", expected_graduation_year=2027)
        make_student(session, roll_number="CS28", expected_graduation_year=2028)
        make_student(session, roll_number="ME27", major="Mechanical", semester=3)

    def rolls(cohort_filter: CohortFilter) -> set[str]:
        with session_scope(engine) as session:
            return set(latest_scores(session, viewer, cohort_filter)["roll_number"])

    assert rolls(CohortFilter()) == {"CS27", "CS28", "ME27"}
    assert rolls(CohortFilter(majors=("Computer Science",))) == {"CS27", "CS28"}
    assert rolls(CohortFilter(graduation_years=(2027,))) == {"CS27", "ME27"}
    assert rolls(CohortFilter(semesters=(3,))) == {"ME27"}
    assert rolls(CohortFilter(("Mechanical",), (2028,))) == set()


def test_filter_options_lists_present_values(engine: Engine) -> None:
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.ADMIN)
        make_student(session, major="Civil", semester=2, expected_graduation_year=2029)
        make_student(session, major="Civil", semester=6)

    with session_scope(engine) as session:
        options = filter_options(session, viewer)

    assert options.majors == ["Civil"]
    assert options.graduation_years == [2027, 2029]
    assert options.semesters == [2, 6]


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    defaults = {"trend": None, "velocity": float("nan"), "status": "scored"}
    frame = pd.DataFrame([defaults | row for row in rows])
    frame["student_id"] = range(1, len(frame) + 1)
    return frame


def test_rank_by_risk_order() -> None:
    frame = _frame(
        [
            {"name": "steady high", "score": 90.0, "trend": "stable"},
            {"name": "declining high", "score": 80.0, "trend": "declining"},
            {"name": "low", "score": 20.0, "trend": "stable"},
            {"name": "abstained", "score": float("nan"), "status": "abstained"},
            {"name": "middle", "score": 60.0, "trend": "improving"},
        ]
    )

    ranked = rank_by_risk(frame)

    assert list(ranked["name"]) == [
        "abstained",
        "low",
        "declining high",
        "middle",
        "steady high",
    ]
    assert list(ranked["risk"]) == [NOT_ASSESSED, AT_RISK, AT_RISK, ON_TRACK, ON_TRACK]


def test_tier_and_trend_counts_include_zero_groups() -> None:
    frame = pd.DataFrame(
        {
            "predicted_tier": ["Tier1", "Tier1", None],
            "trend": ["declining", None, None],
        }
    )

    tiers = tier_counts(frame).set_index("tier")["students"]
    trends = trend_counts(frame).set_index("trend")["students"]

    assert tiers.to_dict() == {
        "Tier1": 2,
        "Tier2": 0,
        "Tier3": 0,
        "Not Placed": 0,
        NO_PREDICTION: 1,
    }
    assert trends.to_dict() == {"improving": 0, "declining": 1, "stable": 0}


def test_tier_counts_by_major_suppresses_small_majors() -> None:
    frame = pd.DataFrame(
        {
            "major": ["Civil"] * 3 + ["Computer Science"] * 6,
            "predicted_tier": ["Tier1"] * 3 + ["Tier2"] * 5 + [None],
        }
    )

    table = tier_counts_by_major(frame).set_index("major")

    assert table.loc["Civil", "suppressed"]
    assert pd.isna(table.loc["Civil", "students"])
    assert pd.isna(table.loc["Civil", "Tier1"])
    assert not table.loc["Computer Science", "suppressed"]
    assert table.loc["Computer Science", "students"] == 6
    assert table.loc["Computer Science", "Tier2"] == 5


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_risk_list_is_safe_and_audited(engine: Engine, file_format: str) -> None:
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.OFFICER)
        risky = make_student(session, name="=HYPERLINK(1)")
        add_score(session, risky, days_ago=0, score=12.0, tier=PredictedOutcome.TIER3)
        make_student(session)

    with session_scope(engine) as session:
        ranked = rank_by_risk(latest_scores(session, viewer))
        ranked["focus_score"] = 55.0
        file_name, contents = export_risk_list(
            session, viewer, ranked, file_format, CohortFilter(majors=("Civil",))
        )

    assert re.fullmatch(rf"cohort-risk-list-\d{{8}}-\d{{6}}\.{file_format}", file_name)
    if file_format == "csv":
        exported = pd.read_csv(io.BytesIO(contents), encoding="utf-8-sig")
    else:
        exported = pd.read_excel(io.BytesIO(contents), engine="openpyxl")
    assert len(exported) == 2
    assert "focus_score" not in exported.columns
    assert "score" in exported.columns
    assert "'=HYPERLINK(1)" in set(exported["name"])

    with session_scope(engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export_cohort_list")
        ).one()
    assert entry.actor_user_id == viewer.user_id
    assert entry.detail["rows"] == 2
    assert entry.detail["format"] == file_format
    assert entry.detail["filter"]["majors"] == ["Civil"]
    assert sorted(entry.detail["student_ids"]) == sorted(ranked["student_id"])


def test_export_tier_summary_blanks_small_majors(engine: Engine) -> None:
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.ADMIN)
        for _ in range(5):
            student = make_student(session)
            add_score(session, student, days_ago=0, tier=PredictedOutcome.TIER1)
        make_student(session, major="Civil")

    with session_scope(engine) as session:
        frame = latest_scores(session, viewer)
        file_name, contents = export_tier_summary(session, viewer, frame, "csv")

    assert re.fullmatch(r"cohort-tier-summary-\d{8}-\d{6}\.csv", file_name)
    table = pd.read_csv(io.BytesIO(contents), encoding="utf-8-sig").set_index("major")
    assert table.loc["Computer Science", "Tier1"] == 5
    assert table.loc["Computer Science", "students"] == 5
    assert pd.isna(table.loc["Civil", "students"])
    assert pd.isna(table.loc["Civil", NO_PREDICTION])
    assert bool(table.loc["Civil", "suppressed"])

    with session_scope(engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export_cohort_summary")
        ).one()
    assert entry.detail["suppressed_majors"] == 1
