"""Server-side sessions: token hashing, resume, sign-out and idle expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from core import sessions
from core.accounts import set_active
from db.models import UserSession
from db.session import session_scope
from db.types import utcnow
from tests.accounts.conftest import People, count_entries


def _start(engine: Engine, people: People) -> str:
    with session_scope(engine) as session:
        return sessions.start(session, people.officer)


def test_session_stores_only_token_hash(engine: Engine, people: People) -> None:
    token = _start(engine, people)

    with session_scope(engine) as session:
        stored = session.scalars(select(UserSession.token_hash)).one()
    assert stored == sessions.hash_token(token)
    assert token not in stored


def test_resume_returns_viewer(engine: Engine, people: People) -> None:
    token = _start(engine, people)

    with session_scope(engine) as session:
        viewer = sessions.resume(session, token)

    assert viewer == people.officer


def test_resume_unknown_token_is_none(engine: Engine, people: People) -> None:
    _start(engine, people)

    with session_scope(engine) as session:
        assert sessions.resume(session, "not-a-token") is None


def test_revoke_ends_session_and_audits(engine: Engine, people: People) -> None:
    token = _start(engine, people)

    with session_scope(engine) as session:
        sessions.revoke(session, token, people.officer)
    with session_scope(engine) as session:
        assert sessions.resume(session, token) is None
    assert count_entries(engine, "sign_out", people.officer.user_id) == 1


def test_idle_session_expires(
    engine: Engine, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAJECTORY_SESSION_IDLE_MINUTES", "10")
    token = _start(engine, people)
    with session_scope(engine) as session:
        row = session.scalars(select(UserSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=11)

    with session_scope(engine) as session:
        assert sessions.resume(session, token) is None
    with session_scope(engine) as session:
        assert session.scalars(select(UserSession.revoked_at)).one() is not None


def test_recent_session_stays_open(
    engine: Engine, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAJECTORY_SESSION_IDLE_MINUTES", "10")
    token = _start(engine, people)
    with session_scope(engine) as session:
        row = session.scalars(select(UserSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=9)

    with session_scope(engine) as session:
        assert sessions.resume(session, token) == people.officer


def test_deactivation_ends_open_sessions(engine: Engine, people: People) -> None:
    token = _start(engine, people)

    with session_scope(engine) as session:
        set_active(session, people.admin, people.officer.user_id, False)

    with session_scope(engine) as session:
        assert sessions.resume(session, token) is None
