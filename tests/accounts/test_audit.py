"""The audit log: admin-only reads, filters, and the append-only guard."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError

from core import audit
from core.access import AccessDenied
from core.audit import AuditFilter, list_entries
from db.models import AuditEntry
from db.session import session_scope
from tests.accounts.conftest import People


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
