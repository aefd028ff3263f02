"""Password hashing and sign-in."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Viewer
from db.models import Role, User
from db.types import utcnow

MIN_PASSWORD_LENGTH = 8

# argon2-cffi's default profile is argon2id with 64 MiB of memory, 3 iterations
# and 4 lanes (RFC 9106, low-memory choice), above the OWASP minimum of 19 MiB,
# 2 iterations and 1 lane.
PASSWORD_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (salted, in PHC string format)."""
    return PASSWORD_HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``."""
    try:
        return PASSWORD_HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class SignInError(Exception):
    """Raised when a sign-in fails; the message never says which part was wrong."""


SIGN_IN_FAILED = "Sign-in failed: unknown user name or wrong password."

# Verifying against this hash when the user does not exist makes an unknown user
# take as long as a wrong password, so timing does not reveal which accounts exist.
_DUMMY_HASH = PASSWORD_HASHER.hash("not a real password")


def has_admin(session: Session) -> bool:
    """Return whether an active admin account exists."""
    query = select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True))
    return session.execute(query.limit(1)).first() is not None


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    student_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a user with an argon2id password hash and return it (not yet committed)."""
    username = username.strip()
    if not username:
        raise ValueError("user name is empty: enter a user name")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"user name {username!r} is already taken: choose another")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        student_id=student_id,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> Viewer:
    """Return the viewer for a correct user name and password.

    Raises ``SignInError`` with the same message for an unknown user, an inactive
    account and a wrong password.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise SignInError(SIGN_IN_FAILED)
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise SignInError(SIGN_IN_FAILED)

    user.last_login_at = utcnow()
    return Viewer(
        user_id=user.id, username=user.username, role=user.role, student_id=user.student_id
    )


# Length of a generated one-time password, in URL-safe characters (~72 bits).
ONE_TIME_PASSWORD_LENGTH = 12


def create_student_account(session: Session, student_id: int, roll_number: str) -> tuple[str, str]:
    """Create the sign-in account of a student and return (user name, password).

    The password is random, shown once to staff to hand out, stored only as its
    hash, and must be changed at the first sign-in. The user name is the roll
    number in lower case.
    """
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_LENGTH)[:ONE_TIME_PASSWORD_LENGTH]
    username = roll_number.strip().lower()
    create_user(
        session, username, password, Role.STUDENT, student_id=student_id, must_change_password=True
    )
    return username, password
