"""The append-only audit trail: sign-ins, views, exports, imports, changes.

Entries hold ids and action names, never passwords or whole student records.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry
from db.session import WRITE_OPTION, session_scope
from db.types import utcnow

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


# Views of one record by one user within this time count as one visit. Streamlit
# reruns a page on every widget interaction, and each rerun reads the record again.
VIEW_VISIT_WINDOW = timedelta(minutes=30)


def record_view(
    session: Session,
    viewer: Viewer,
    action: str,
    *,
    target_kind: str,
    target_id: int,
    page: str | None = None,
) -> bool:
    """Add a view entry unless ``viewer`` viewed the same record in this visit.

    A visit is ``VIEW_VISIT_WINDOW`` from the latest entry of the same action on
    the same record by the same user. Returns True when an entry was added.
    """
    latest = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.actor_user_id == viewer.user_id,
            AuditEntry.action == action,
            AuditEntry.target_kind == target_kind,
            AuditEntry.target_id == str(target_id),
            AuditEntry.at >= utcnow() - VIEW_VISIT_WINDOW,
        )
        .limit(1)
    )
    if latest is not None:
        return False
    record(
        session,
        viewer,
        action,
        target_kind=target_kind,
        target_id=target_id,
        page=page,
    )
    return True


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


@dataclass(frozen=True)
class AuditFilter:
    """Conditions for reading the audit log; ``None`` leaves a condition out."""

    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    actor_username: str | None = None
    target_kind: str | None = None
    target_id: str | None = None


AUDIT_COLUMNS = (
    "at",
    "actor_username",
    "actor_user_id",
    "action",
    "target_kind",
    "target_id",
    "page",
    "detail",
)

# Most entries one read returns, so that the admin page stays responsive.
MAX_AUDIT_ROWS = 10_000


def list_entries(
    session: Session,
    viewer: Viewer,
    conditions: AuditFilter | None = None,
    limit: int = MAX_AUDIT_ROWS,
) -> pd.DataFrame:
    """Return audit entries matching ``conditions``, newest first (admins only).

    The frame has the columns of ``AUDIT_COLUMNS``; ``detail`` is JSON text.
    """
    from core.access import require_role
    from db.models import Role

    require_role(session, viewer, frozenset({Role.ADMIN}), "read the audit log")
    conditions = conditions or AuditFilter()
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if conditions.since is not None:
        query = query.where(AuditEntry.at >= conditions.since)
    if conditions.until is not None:
        query = query.where(AuditEntry.at < conditions.until)
    if conditions.action:
        query = query.where(AuditEntry.action == conditions.action)
    if conditions.actor_username:
        query = query.where(AuditEntry.actor_username == conditions.actor_username)
    if conditions.target_kind:
        query = query.where(AuditEntry.target_kind == conditions.target_kind)
    if conditions.target_id:
        query = query.where(AuditEntry.target_id == conditions.target_id)
    rows = [
        {
            column: (
                json.dumps(entry.detail, sort_keys=True)
                if column == "detail"
                else getattr(entry, column)
            )
            for column in AUDIT_COLUMNS
        }
        for entry in session.scalars(query.limit(limit))
    ]
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))


def list_actions(session: Session) -> list[str]:
    """Return the distinct action names in the log, for a filter's choices."""
    query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return list(session.scalars(query))
