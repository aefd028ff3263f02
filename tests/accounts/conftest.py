"""Fixtures for the account, access and privacy tests: one viewer per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from core.access import Viewer
from db.models import AuditEntry, Role
from db.session import session_scope
from tests.factories import make_student, make_viewer


@dataclass(frozen=True)
class People:
    """Two students with accounts, and one viewer of every other role."""

    student: Viewer
    other_student: Viewer
    officer: Viewer
    staff: Viewer
    admin: Viewer

    @property
    def student_id(self) -> int:
        assert self.student.student_id is not None
        return self.student.student_id

    @property
    def other_student_id(self) -> int:
        assert self.other_student.student_id is not None
        return self.other_student.student_id


@pytest.fixture
def people(engine: Engine) -> People:
    with session_scope(engine) as session:
        first = make_student(session)
        second = make_student(session)
        return People(
            student=make_viewer(session, Role.STUDENT, first),
            other_student=make_viewer(session, Role.STUDENT, second),
            officer=make_viewer(session, Role.OFFICER),
            staff=make_viewer(session, Role.STAFF),
            admin=make_viewer(session, Role.ADMIN),
        )


def count_entries(engine: Engine, action: str, user_id: int | None = None) -> int:
    """Return how many audit entries of ``action`` (by ``user_id``) exist."""
    query = select(func.count(AuditEntry.id)).where(AuditEntry.action == action)
    if user_id is not None:
        query = query.where(AuditEntry.actor_user_id == user_id)
    with session_scope(engine) as session:
        return int(session.scalar(query) or 0)
