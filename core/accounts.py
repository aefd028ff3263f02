"""Account management for admins: list, create, deactivate, reset, change role.

Every change is written to the audit log. A reset password is random, returned
once to show to the admin, stored only as its hash, and must be changed at the
next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, sessions
from core.access import Viewer, require_role
from core.auth import create_user, generate_one_time_password, hash_password
from db.models import Role, User

ADMIN_ONLY = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class AccountRow:
    """One account as the admin's user list shows it (no password hash)."""

    user_id: int
    username: str
    role: Role
    student_id: int | None
    is_active: bool
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None


def list_accounts(session: Session, viewer: Viewer) -> list[AccountRow]:
    """Return every account, ordered by user name (admins only)."""
    require_role(session, viewer, ADMIN_ONLY, "list accounts")
    users = session.scalars(select(User).order_by(User.username))
    return [
        AccountRow(
            user_id=user.id,
            username=user.username,
            role=user.role,
            student_id=user.student_id,
            is_active=user.is_active,
            must_change_password=user.must_change_password,
            locked_until=user.locked_until,
            last_login_at=user.last_login_at,
        )
        for user in users
    ]


def create_account(
    session: Session, viewer: Viewer, username: str, role: Role
) -> tuple[int, str]:
    """Create a staff, officer or admin account and return (user id, password).

    The password is one-time: the new user must change it at first sign-in.
    Student accounts come from the roster import, because they need a student.
    """
    require_role(session, viewer, ADMIN_ONLY, "create an account")
    if role is Role.STUDENT:
        raise ValueError(
            "student accounts are created by the roster import: choose another role"
        )
    password = generate_one_time_password()
    user = create_user(session, username, password, role, must_change_password=True)
    audit.record(
        session,
        viewer,
        "account_created",
        target_kind="user",
        target_id=user.id,
        detail={"role": role.value},
    )
    return user.id, password


def _target_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ValueError(f"user id {user_id} not found: refresh the list")
    return user


def _active_admin_count(session: Session) -> int:
    query = select(func.count(User.id)).where(
        User.role == Role.ADMIN, User.is_active.is_(True)
    )
    return int(session.scalar(query) or 0)


def _check_keeps_an_admin(session: Session, user: User) -> None:
    if user.role is Role.ADMIN and user.is_active and _active_admin_count(session) <= 1:
        raise ValueError(
            f"{user.username!r} is the last active admin: make another admin first"
        )


def set_active(session: Session, viewer: Viewer, user_id: int, active: bool) -> None:
    """Activate or deactivate an account; deactivating ends its open sessions."""
    require_role(session, viewer, ADMIN_ONLY, "change an account's status")
    user = _target_user(session, user_id)
    if not active:
        _check_keeps_an_admin(session, user)
        sessions.revoke_all(session, user.id)
    user.is_active = active
    audit.record(
        session,
        viewer,
        "account_activated" if active else "account_deactivated",
        target_kind="user",
        target_id=user.id,
    )


def reset_password(session: Session, viewer: Viewer, user_id: int) -> str:
    """Give an account a new one-time password and return it, to show once.

    The account's open sessions end, its lock is lifted, and the user must
    choose a new password at the next sign-in.
    """
    require_role(session, viewer, ADMIN_ONLY, "reset a password")
    user = _target_user(session, user_id)
    password = generate_one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_attempts = 0
    user.locked_until = None
    sessions.revoke_all(session, user.id)
    audit.record(
        session, viewer, "password_reset", target_kind="user", target_id=user.id
    )
    return password


def change_role(session: Session, viewer: Viewer, user_id: int, role: Role) -> None:
    """Change an account's role between staff, officer and admin.

    Student accounts keep their role, because the role is tied to the link to a
    student record (a database CHECK enforces that pairing).
    """
    require_role(session, viewer, ADMIN_ONLY, "change a role")
    user = _target_user(session, user_id)
    if role is Role.STUDENT or user.role is Role.STUDENT:
        raise ValueError("student accounts cannot change role: create a new account")
    if user.role is role:
        return
    if role is not Role.ADMIN:
        _check_keeps_an_admin(session, user)
    previous = user.role
    user.role = role
    sessions.revoke_all(session, user.id)
    audit.record(
        session,
        viewer,
        "role_changed",
        target_kind="user",
        target_id=user.id,
        detail={"from": previous.value, "to": role.value},
    )
