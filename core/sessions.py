"""Server-side sign-in sessions behind the browser's session cookie.

The browser keeps a random token and the database stores only its SHA-256 hash,
so a copy of the ``user_sessions`` table cannot be replayed as cookies. A session
ends when the user signs out (``revoke``), when it has been idle for longer than
``core.settings.session_idle_minutes()``, or when the account is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from core import audit
from core.access import Viewer
from core.auth import viewer_of
from core.settings import session_idle_minutes
from db.models import User, UserSession
from db.types import utcnow

# Bytes of randomness in a session token (256 bits, URL-safe base64 in the cookie).
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """Return the hex SHA-256 digest of ``token``, the form stored in the database.

    A plain hash suffices because the token is 256 random bits, not a password.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(session: Session, viewer: Viewer) -> str:
    """Open a session for ``viewer`` and return its token (to put in the cookie)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(UserSession(token_hash=hash_token(token), user_id=viewer.user_id))
    session.flush()
    return token


def resume(session: Session, token: str) -> Viewer | None:
    """Return the viewer of a live session and mark it as seen now.

    Returns None for an unknown, revoked or idle-expired token and for a
    deactivated account; an expired session is revoked on the way.
    """
    if not token:
        return None
    now = utcnow()
    row = session.scalar(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    )
    if row is None or row.revoked_at is not None:
        return None

    user = session.get(User, row.user_id)
    idle_limit = timedelta(minutes=session_idle_minutes())
    if user is None or not user.is_active or now - row.last_seen_at > idle_limit:
        row.revoked_at = now
        return None

    row.last_seen_at = now
    return viewer_of(user)


def revoke(session: Session, token: str, viewer: Viewer | None = None) -> None:
    """End the session of ``token``; signing out calls this."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_token(token))
        .where(UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if viewer is not None:
        audit.record(
            session, viewer, "sign_out", target_kind="user", target_id=viewer.user_id
        )


def revoke_all(session: Session, user_id: int) -> int:
    """End every open session of ``user_id`` and return how many were open."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(UserSession)
        .where(UserSession.user_id == user_id)
        .where(UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount
