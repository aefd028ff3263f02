"""Password storage, sign-in failures, rate limiting and password changes."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from core import auth
from core.auth import (
    MAX_FAILED_ATTEMPTS,
    SIGN_IN_FAILED,
    SignInError,
    change_password,
    sign_in,
)
from db.models import AuditEntry, Role, User
from db.session import session_scope
from tests.accounts.conftest import People, count_entries
from tests.factories import TEST_PASSWORD


def _user(engine: Engine, username: str) -> User:
    with session_scope(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(user)
        return user


def test_hash_is_argon2id_not_password(engine: Engine, people: People) -> None:
    user = _user(engine, people.admin.username)

    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash
    assert not auth.PASSWORD_HASHER.check_needs_rehash(user.password_hash)


def test_hash_parameters_meet_owasp_minimum() -> None:
    hasher = auth.PASSWORD_HASHER
    # OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
    assert hasher.memory_cost >= 19 * 1024
    assert hasher.time_cost >= 2
    assert hasher.parallelism >= 1


def test_sign_in_success_returns_viewer(engine: Engine, people: People) -> None:
    result = sign_in(engine, people.officer.username, TEST_PASSWORD)

    assert result.viewer is not None
    assert result.viewer.user_id == people.officer.user_id
    assert result.viewer.role is Role.OFFICER
    assert _user(engine, people.officer.username).last_login_at is not None
    assert count_entries(engine, "sign_in", people.officer.user_id) == 1


def test_wrong_password_same_message_as_unknown(engine: Engine, people: People) -> None:
    with pytest.raises(SignInError) as wrong_password:
        sign_in(engine, people.officer.username, "wrong password")
    with pytest.raises(SignInError) as unknown_user:
        sign_in(engine, "nobody-here", "wrong password")

    assert str(wrong_password.value) == SIGN_IN_FAILED
    assert str(unknown_user.value) == SIGN_IN_FAILED


def test_failed_sign_in_audited_without_password(
    engine: Engine, people: People
) -> None:
    with pytest.raises(SignInError):
        sign_in(engine, people.officer.username, "secret typed wrongly")

    with session_scope(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sign_in_failed")
        ).all()
        assert len(entries) == 1
        assert entries[0].target_id == str(people.officer.user_id)
        assert "secret typed wrongly" not in repr(entries[0].detail)


def test_lockout_after_max_failures(engine: Engine, people: People) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInError):
            sign_in(engine, people.officer.username, "wrong password")

    assert _user(engine, people.officer.username).locked_until is not None
    with pytest.raises(SignInError, match="locked for a while"):
        sign_in(engine, people.officer.username, TEST_PASSWORD)


def test_failures_below_limit_do_not_lock(engine: Engine, people: People) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInError):
            sign_in(engine, people.officer.username, "wrong password")

    result = sign_in(engine, people.officer.username, TEST_PASSWORD)

    assert result.viewer is not None
    assert _user(engine, people.officer.username).failed_attempts == 0


def test_inactive_account_cannot_sign_in(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        user = session.get(User, people.staff.user_id)
        assert user is not None
        user.is_active = False

    with pytest.raises(SignInError) as error:
        sign_in(engine, people.staff.username, TEST_PASSWORD)
    assert str(error.value) == SIGN_IN_FAILED


def test_sign_in_rehashes_weaker_parameters(engine: Engine, people: People) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with session_scope(engine) as session:
        user = session.get(User, people.staff.user_id)
        assert user is not None
        user.password_hash = weak.hash(TEST_PASSWORD)

    sign_in(engine, people.staff.username, TEST_PASSWORD)

    stored = _user(engine, people.staff.username).password_hash
    assert stored.startswith("$argon2id$")
    assert not auth.PASSWORD_HASHER.check_needs_rehash(stored)


def test_change_password_clears_flag(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        user = session.get(User, people.student.user_id)
        assert user is not None
        user.must_change_password = True

    with session_scope(engine) as session:
        change_password(session, people.student, TEST_PASSWORD, "a new long password")

    result = sign_in(engine, people.student.username, "a new long password")
    assert result.must_change_password is False
    with pytest.raises(SignInError):
        sign_in(engine, people.student.username, TEST_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong password", "a new long password", "current password is wrong"),
        (TEST_PASSWORD, "short", "too short"),
        (TEST_PASSWORD, TEST_PASSWORD, "equals the current one"),
    ],
)
def test_change_password_rejects_bad_input(
    engine: Engine, people: People, current: str, new: str, message: str
) -> None:
    with session_scope(engine) as session, pytest.raises(ValueError, match=message):
        change_password(session, people.student, current, new)
