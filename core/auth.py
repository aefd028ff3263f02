"""Password hashing, sign-in with per-account rate limiting, and password changes."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Viewer
from db.models import Role, User
from db.session import write_scope
from db.types import utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8

# argon2-cffi's default profile is argon2id with 64 MiB of memory, 3 iterations
# and 4 lanes (RFC 9106, low-memory choice), above the OWASP minimum of 19 MiB,
# 2 iterations and 1 lane. Hashes made with other parameters are replaced at the
# next successful sign-in (see ``authenticate``).
PASSWORD_HASHER = PasswordHasher()

# Consecutive failed sign-ins after which an account is locked, and for how long.
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 15


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
    """Raised when a sign-in fails, with one message for every cause of failure."""


# One message for an unknown user, a wrong password, an inactive and a locked
# account, so that the response does not reveal which accounts exist.
SIGN_IN_FAILED = (
    "Sign-in failed: the user name or password is wrong, or the account is "
    "locked for a while after repeated failures."
)

# Verifying against this hash when the user does not exist makes an unknown user
# take as long as a wrong password, so timing does not reveal which accounts exist.
_DUMMY_HASH = PASSWORD_HASHER.hash("not a real password")


def has_admin(session: Session) -> bool:
    """Return whether an active admin account exists."""
    query = select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True))
    return session.execute(query.limit(1)).first() is not None


def check_password_rules(password: str) -> None:
    """Raise ``ValueError`` when ``password`` is too short to be accepted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    student_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a user with an argon2id password hash and return it (not committed)."""
    username = username.strip()
    if not username:
        raise ValueError("user name is empty: enter a user name")
    check_password_rules(password)
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


def viewer_of(user: User) -> Viewer:
    """Return the viewer that acts on behalf of ``user``."""
    return Viewer(
        user_id=user.id,
        username=user.username,
        role=user.role,
        student_id=user.student_id,
    )


@dataclass(frozen=True)
class SignInResult:
    """The outcome of one sign-in attempt; ``viewer`` is None when it failed."""

    viewer: Viewer | None
    must_change_password: bool = False


def check_credentials(session: Session, username: str, password: str) -> SignInResult:
    """Check a sign-in attempt and update the account's counters in ``session``.

    A failure increments ``failed_attempts`` and locks the account for
    ``LOCKOUT_MINUTES`` once it reaches ``MAX_FAILED_ATTEMPTS``. While locked,
    even the right password fails. A success resets the counters, stores the
    time and rehashes the password when the hasher's parameters have changed.
    Both outcomes are written to the audit log without the password. The caller
    commits, on failure as well, so that the counters persist.
    """
    now = utcnow()
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        audit.record(session, None, "sign_in_failed", detail={"reason": "unknown"})
        return SignInResult(viewer=None)

    locked = user.locked_until is not None and user.locked_until > now
    correct = verify_password(user.password_hash, password)
    if locked or not correct or not user.is_active:
        if locked:
            reason = "locked"
        elif correct:
            reason = "inactive"
        else:
            reason = "wrong_password"
        if not correct:
            _count_failure(user, now)
        audit.record(
            session,
            None,
            "sign_in_failed",
            target_kind="user",
            target_id=user.id,
            detail={"reason": reason, "failed_attempts": user.failed_attempts},
        )
        return SignInResult(viewer=None)

    if PASSWORD_HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        logger.info("rehashed the password of user_id=%s", user.id)
    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    viewer = viewer_of(user)
    audit.record(session, viewer, "sign_in", target_kind="user", target_id=user.id)
    return SignInResult(viewer=viewer, must_change_password=user.must_change_password)


def _count_failure(user: User, now: datetime) -> None:
    user.failed_attempts += 1
    if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
        user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
        user.failed_attempts = 0
        logger.warning("locked user_id=%s after repeated failed sign-ins", user.id)


def sign_in(engine: Engine, username: str, password: str) -> SignInResult:
    """Check a sign-in attempt in a transaction of its own and return the result.

    Raises
    ------
    SignInError
        With ``SIGN_IN_FAILED`` for an unknown user, a wrong password, an
        inactive or a locked account alike.
    """
    with write_scope(engine) as session:
        result = check_credentials(session, username, password)
    if result.viewer is None:
        raise SignInError(SIGN_IN_FAILED)
    return result


def authenticate(session: Session, username: str, password: str) -> Viewer:
    """Return the viewer for a correct user name and password.

    Raises ``SignInError`` with the same message for every kind of failure. The
    failure counters are only kept if the caller commits ``session`` anyway;
    ``sign_in`` does that for you.
    """
    result = check_credentials(session, username, password)
    if result.viewer is None:
        raise SignInError(SIGN_IN_FAILED)
    return result.viewer


def change_password(
    session: Session, viewer: Viewer, current_password: str, new_password: str
) -> None:
    """Replace the viewer's own password after checking the current one.

    Raises ``ValueError`` when the current password is wrong, the new one is
    too short or equals the current one. Clears ``must_change_password``.
    """
    user = session.get(User, viewer.user_id)
    if user is None or not user.is_active:
        raise ValueError("account not found or deactivated: sign in again")
    if not verify_password(user.password_hash, current_password):
        raise ValueError("current password is wrong: type your current password")
    check_password_rules(new_password)
    if new_password == current_password:
        raise ValueError("new password equals the current one: choose a different one")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    audit.record(
        session, viewer, "password_changed", target_kind="user", target_id=user.id
    )


# Length of a generated one-time password, in URL-safe characters (~72 bits).
ONE_TIME_PASSWORD_LENGTH = 12


def generate_one_time_password() -> str:
    """Return a random password of ``ONE_TIME_PASSWORD_LENGTH`` characters."""
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_LENGTH)[:ONE_TIME_PASSWORD_LENGTH]


def create_student_account(
    session: Session, student_id: int, roll_number: str
) -> tuple[str, str]:
    """Create the sign-in account of a student and return (user name, password).

    The password is random, shown once to staff to hand out, stored only as its
    hash, and must be changed at the first sign-in. The user name is the roll
    number in lower case.
    """
    password = generate_one_time_password()
    username = roll_number.strip().lower()
    create_user(
        session,
        username,
        password,
        Role.STUDENT,
        student_id=student_id,
        must_change_password=True,
    )
    return username, password
