"""The audit log: admin-only reads, filters, and the append-only guard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError

from core import audit
from core.access import AccessDenied
from core.audit import AuditFilter, list_entries
from db.models import AuditEntry
from db.session import session_scope
from db.types import utcnow
from tests.accounts.conftest import People, count_entries


def _record_some(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        audit.record(
            session,
            people.officer,
            "record_viewed",
            target_kind="student",
            target_id=people.student_id,
        )
        audit.record(
            session,
            people.admin,
            "role_changed",
            target_kind="user",
            target_id=people.staff.user_id,
            detail={"to": "officer"},
        )


def test_admin_filters_by_action(engine: Engine, people: People) -> None:
    _record_some(engine, people)

    with session_scope(engine) as session:
        entries = list_entries(
            session, people.admin, AuditFilter(action="record_viewed")
        )

    assert entries["actor_username"].tolist() == [people.officer.username]
    assert entries["target_id"].tolist() == [str(people.student_id)]


def test_admin_filters_by_actor(engine: Engine, people: People) -> None:
    _record_some(engine, people)

    with session_scope(engine) as session:
        entries = list_entries(
            session, people.admin, AuditFilter(actor_username=people.admin.username)
        )

    assert entries["action"].tolist() == ["role_changed"]
    assert '"to": "officer"' in entries["detail"].iloc[0]


@pytest.mark.parametrize("role_name", ["student", "officer", "staff"])
def test_non_admin_cannot_read_log(
    engine: Engine, people: People, role_name: str
) -> None:
    with session_scope(engine) as session, pytest.raises(AccessDenied):
        list_entries(session, getattr(people, role_name))


def test_audit_entries_cannot_be_changed(engine: Engine, people: People) -> None:
    _record_some(engine, people)

    with pytest.raises(DBAPIError, match="append-only"):
        with session_scope(engine) as session:
            session.execute(update(AuditEntry).values(action="nothing"))

    with pytest.raises(DBAPIError, match="365 days"):
        with session_scope(engine) as session:
            entry = session.scalars(select(AuditEntry)).first()
            session.delete(entry)


def _view(engine: Engine, people: People, student_id: int) -> bool:
    with session_scope(engine) as session:
        return audit.record_view(
            session,
            people.officer,
            "view_trajectory",
            target_kind="student",
            target_id=student_id,
        )


def test_repeated_view_audited_once(engine: Engine, people: People) -> None:
    first = _view(engine, people, people.student_id)
    again = _view(engine, people, people.student_id)
    other = _view(engine, people, people.other_student_id)

    assert first is True
    assert again is False
    assert other is True
    assert count_entries(engine, "view_trajectory", people.officer.user_id) == 2


def test_view_after_visit_window_audited(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        session.add(
            AuditEntry(
                at=utcnow() - audit.VIEW_VISIT_WINDOW - timedelta(minutes=1),
                actor_user_id=people.officer.user_id,
                actor_username=people.officer.username,
                action="view_trajectory",
                target_kind="student",
                target_id=str(people.student_id),
                detail={},
            )
        )

    assert _view(engine, people, people.student_id) is True
    assert count_entries(engine, "view_trajectory", people.officer.user_id) == 2
