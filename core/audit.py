"""The append-only audit trail: sign-ins, views, exports, imports, changes.

Entries hold ids and action names, never passwords or whole student records.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from db.models import AuditEntry
from db.session import WRITE_OPTION, session_scope

if TYPE_CHECKING:
    from core.access import Viewer

logger = logging.getLogger(__name__)


def record(
    session: Session,
    viewer: Viewer | None,
    action: str,
    *,
    target_kind: str | None = None,
    target_id: str | int | None = None,
    page: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to ``session``; it is written when the caller commits."""
    session.add(
        AuditEntry(
            actor_user_id=viewer.user_id if viewer else None,
            actor_username=viewer.username if viewer else None,
            action=action,
            target_kind=target_kind,
            target_id=None if target_id is None else str(target_id),
            page=page,
            detail=detail or {},
        )
    )


def record_denial(
    session: Session,
    viewer: Viewer,
    action: str,
    *,
    target_kind: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any],
) -> None:
    """Write an ``access_denied`` entry in a transaction of its own.

    The entry is committed on the database behind ``session`` but outside its
    transaction, so it survives when the caller rolls back.
    """
    logger.warning("access denied: user_id=%s action=%s", viewer.user_id, action)

    def write(target: Session) -> None:
        record(
            target,
            viewer,
            "access_denied",
            target_kind=target_kind,
            target_id=target_id,
            detail={"attempted": action, **detail},
        )

    if _holds_sqlite_write_lock(session):
        # A second SQLite connection would wait for this session's write lock
        # until the busy timeout and then fail, so the entry joins the caller's
        # transaction instead.
        # NOTE: on SQLite inside write_scope the entry is lost if the caller
        # rolls back; data functions that may refuse run in session_scope.
        write(session)
        session.flush()
        return
    with session_scope(session.get_bind().engine) as denial_session:
        write(denial_session)


def _holds_sqlite_write_lock(session: Session) -> bool:
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    return bool(connection.get_execution_options().get(WRITE_OPTION))
