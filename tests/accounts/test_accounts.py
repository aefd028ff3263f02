"""Admin account management: create, deactivate, reset password, change role."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from core.access import AccessDenied
from core.accounts import (
    change_role,
    create_account,
    list_accounts,
    reset_password,
    set_active,
)
from core.auth import SignInError, sign_in
from db.models import AuditEntry, Role, User
from db.session import session_scope
from tests.accounts.conftest import People, count_entries
from tests.factories import TEST_PASSWORD


def test_admin_lists_accounts_without_hashes(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        accounts = list_accounts(session, people.admin)

    assert {account.username for account in accounts} >= {
        people.student.username,
        people.admin.username,
    }
    assert all(not hasattr(account, "password_hash") for account in accounts)


@pytest.mark.parametrize("role_name", ["student", "officer", "staff"])
def test_non_admin_cannot_list_accounts(
    engine: Engine, people: People, role_name: str
) -> None:
    viewer = getattr(people, role_name)

    with session_scope(engine) as session, pytest.raises(AccessDenied):
        list_accounts(session, viewer)

    assert count_entries(engine, "access_denied", viewer.user_id) == 1


def test_create_account_gives_one_time_password(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        user_id, password = create_account(
            session, people.admin, "newofficer", Role.OFFICER
        )

    result = sign_in(engine, "newofficer", password)
    assert result.viewer is not None
    assert result.viewer.user_id == user_id
    assert result.must_change_password is True
    assert count_entries(engine, "account_created", people.admin.user_id) == 1


def test_create_student_account_rejected(engine: Engine, people: People) -> None:
    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="roster import"),
    ):
        create_account(session, people.admin, "loose-student", Role.STUDENT)


def test_deactivated_account_cannot_sign_in(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        set_active(session, people.admin, people.staff.user_id, False)

    with pytest.raises(SignInError):
        sign_in(engine, people.staff.username, TEST_PASSWORD)
    assert count_entries(engine, "account_deactivated", people.admin.user_id) == 1


def test_last_admin_cannot_be_deactivated(engine: Engine, people: People) -> None:
    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="last active admin"),
    ):
        set_active(session, people.admin, people.admin.user_id, False)


def test_reset_password_replaces_old_one(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        password = reset_password(session, people.admin, people.officer.user_id)

    with pytest.raises(SignInError):
        sign_in(engine, people.officer.username, TEST_PASSWORD)
    result = sign_in(engine, people.officer.username, password)
    assert result.must_change_password is True
    with session_scope(engine) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "password_reset")
        ).one()
        assert entry.target_id == str(people.officer.user_id)
        assert password not in repr(entry.detail)


def test_change_role_audited(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        change_role(session, people.admin, people.staff.user_id, Role.OFFICER)

    with session_scope(engine) as session:
        user = session.get(User, people.staff.user_id)
        assert user is not None
        assert user.role is Role.OFFICER
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "role_changed")
        ).one()
        assert entry.detail == {"from": "staff", "to": "officer"}


def test_officer_cannot_change_roles(engine: Engine, people: People) -> None:
    with session_scope(engine) as session, pytest.raises(AccessDenied):
        change_role(session, people.officer, people.officer.user_id, Role.ADMIN)

    with session_scope(engine) as session:
        user = session.get(User, people.officer.user_id)
        assert user is not None
        assert user.role is Role.OFFICER
    assert count_entries(engine, "access_denied", people.officer.user_id) == 1


def test_student_role_cannot_change(engine: Engine, people: People) -> None:
    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="cannot change role"),
    ):
        change_role(session, people.admin, people.student.user_id, Role.OFFICER)
