"""A student's own record, corrections, export rules and retention."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from core.access import AccessDenied
from core.cli import main
from core.privacy import (
    allowed_export_columns,
    apply_retention,
    export_student_record,
    list_corrections,
    request_correction,
    resolve_correction,
    student_record,
    suppress_small_groups,
)
from core.student_data import grant_consent, save_skill, save_wellbeing_day
from db.models import AuditEntry, CorrectionStatus, Role, Student, User
from db.session import session_scope
from tests.accounts.conftest import People, count_entries
from tests.factories import make_student, make_viewer


@pytest.mark.parametrize(
    ("role_name", "allowed"),
    [
        ("student", True),
        ("officer", True),
        ("admin", True),
        ("staff", False),
        ("other_student", False),
    ],
)
def test_student_record_by_role(
    engine: Engine, people: People, role_name: str, allowed: bool
) -> None:
    viewer = getattr(people, role_name)

    with session_scope(engine) as session:
        if allowed:
            record = student_record(session, viewer, people.student_id)
            assert record["student"][0]["name"].startswith("Student")
        else:
            with pytest.raises(AccessDenied):
                student_record(session, viewer, people.student_id)

    assert count_entries(engine, "record_viewed", viewer.user_id) == int(allowed)
    assert count_entries(engine, "access_denied", viewer.user_id) == int(not allowed)


def test_student_record_has_every_section(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "SQL", 40)
        grant_consent(session, people.student)
    with session_scope(engine) as session:
        save_wellbeing_day(session, people.student, date(2026, 11, 1), 6, 2, 2, 8)

    with session_scope(engine) as session:
        record = student_record(session, people.student, people.student_id)

    assert [row["name"] for row in record["skills"]] == ["SQL"]
    assert len(record["wellbeing"]) == 1
    assert len(record["consents"]) == 1
    assert record["account"][0]["username"] == people.student.username
    assert "password_hash" not in record["account"][0]


def test_export_json_is_complete_and_audited(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "=HYPERLINK(1)", 40)
    with session_scope(engine) as session:
        name, content, mime = export_student_record(
            session, people.student, people.student_id, "json"
        )

    assert re.fullmatch(r"my-data-R\d{5}-\d{8}-\d{6}\.json", name)
    assert mime == "application/json"
    data = json.loads(content)
    assert data["skills"][0]["name"] == "=HYPERLINK(1)"
    assert count_entries(engine, "record_exported", people.student.user_id) == 1


def test_export_xlsx_is_formula_safe(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "=HYPERLINK(1)", 40)
    with session_scope(engine) as session:
        name, content, _ = export_student_record(
            session, people.student, people.student_id, "xlsx"
        )

    assert name.endswith(".xlsx")
    skills = pd.read_excel(io.BytesIO(content), sheet_name="skills", engine="openpyxl")
    assert skills.loc[0, "name"] == "'=HYPERLINK(1)"


def test_other_student_cannot_export(engine: Engine, people: People) -> None:
    with session_scope(engine) as session, pytest.raises(AccessDenied):
        export_student_record(session, people.other_student, people.student_id, "json")

    assert count_entries(engine, "record_exported") == 0


def test_correction_accepted_updates_record(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        request_id = request_correction(
            session, people.student, "gpa", "8.9", "last semester missing"
        )

    with session_scope(engine) as session:
        open_requests = list_corrections(session, people.officer, CorrectionStatus.OPEN)
        assert [row.request_id for row in open_requests] == [request_id]
        resolve_correction(session, people.officer, request_id, True, "checked")

    with session_scope(engine) as session:
        student = session.get(Student, people.student_id)
        assert student is not None
        assert student.gpa == 8.9
        assert list_corrections(session, people.officer, CorrectionStatus.OPEN) == []
    assert count_entries(engine, "correction_resolved", people.officer.user_id) == 1


@pytest.mark.parametrize("requested", ["high", "11"])
def test_correction_invalid_value_changes_nothing(
    engine: Engine, people: People, requested: str
) -> None:
    with session_scope(engine) as session:
        request_id = request_correction(session, people.student, "gpa", requested, "")

    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="not a valid gpa"),
    ):
        resolve_correction(session, people.officer, request_id, True, "")

    with session_scope(engine) as session:
        student = session.get(Student, people.student_id)
        assert student is not None
        assert student.gpa == 7.5


@pytest.mark.parametrize("role_name", ["student", "staff"])
def test_resolving_needs_officer(
    engine: Engine, people: People, role_name: str
) -> None:
    with session_scope(engine) as session:
        request_id = request_correction(session, people.student, "name", "Asha", "")
    viewer = getattr(people, role_name)

    with session_scope(engine) as session, pytest.raises(AccessDenied):
        resolve_correction(session, viewer, request_id, True, "")

    assert count_entries(engine, "access_denied", viewer.user_id) == 1


def test_officer_export_drops_wellbeing(engine: Engine, people: People) -> None:
    frame = pd.DataFrame(
        {"roll_number": ["R1"], "gpa": [8.0], "focus_score": [70.0], "sleep_hours": [7]}
    )

    with session_scope(engine) as session:
        exported = allowed_export_columns(session, people.officer, frame)

    assert list(exported.columns) == ["roll_number", "gpa"]


@pytest.mark.parametrize("role_name", ["student", "staff"])
def test_export_columns_refused_for_role(
    engine: Engine, people: People, role_name: str
) -> None:
    frame = pd.DataFrame({"roll_number": ["R1"]})

    with session_scope(engine) as session, pytest.raises(AccessDenied):
        allowed_export_columns(session, getattr(people, role_name), frame)


def test_small_groups_suppressed() -> None:
    frame = pd.DataFrame(
        {"major": ["CS", "Civil"], "students": [12, 4], "mean_score": [61.5, 48.0]}
    )

    result = suppress_small_groups(frame, "students")

    assert result["suppressed"].tolist() == [False, True]
    assert result.loc[0, "mean_score"] == 61.5
    assert result.loc[0, "students"] == 12
    assert pd.isna(result.loc[1, "mean_score"])
    assert pd.isna(result.loc[1, "students"])
    assert result.loc[1, "major"] == "Civil"


def test_retention_deletes_old_graduates(engine: Engine) -> None:
    with session_scope(engine) as session:
        old = make_student(session, expected_graduation_year=2022)
        edge = make_student(session, expected_graduation_year=2023)
        make_viewer(session, Role.STUDENT, old)
        old_id, edge_id = old.id, edge.id

    with session_scope(engine) as session:
        deleted = apply_retention(session, 3, today=date(2026, 6, 1))

    assert deleted == [old_id]
    with session_scope(engine) as session:
        assert session.get(Student, old_id) is None
        assert session.get(Student, edge_id) is not None
        accounts = session.scalar(
            select(func.count(User.id)).where(User.student_id == old_id)
        )
        assert accounts == 0
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention_deleted")
        ).one()
        assert entry.detail["student_ids"] == [old_id]


def test_retention_dry_run_deletes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        old_id = make_student(session, expected_graduation_year=2015).id

    with session_scope(engine) as session:
        deleted = apply_retention(session, 3, today=date(2026, 6, 1), dry_run=True)

    assert deleted == [old_id]
    with session_scope(engine) as session:
        assert session.get(Student, old_id) is not None
    assert count_entries(engine, "retention_deleted") == 0


def test_retention_command_prints_count(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        old_id = make_student(session, expected_graduation_year=2000).id
        recent_id = make_student(session, expected_graduation_year=2030).id

    status = main(["retention", "--years", "5"])

    assert status == 0
    assert "Deleted 1 students" in capsys.readouterr().out
    with session_scope(engine) as session:
        assert session.get(Student, old_id) is None
        assert session.get(Student, recent_id) is not None
    assert count_entries(engine, "retention_deleted") == 1
