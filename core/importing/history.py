"""The record of imports: finding earlier ones, listing them, undoing one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, aliased

from core import audit
from core.access import Viewer, require_role
from core.engine.vectors import delete_owned_vectors
from core.importing.errors import ImportFailure
from db.models import Alumnus, Import, ImportKind, Role, Student, User
from db.session import session_scope, write_scope
from db.types import utcnow

logger = logging.getLogger(__name__)

IMPORTERS = frozenset({Role.STAFF, Role.ADMIN})


@dataclass(frozen=True)
class EarlierImport:
    """An active import of the same file content."""

    import_id: int
    file_name: str
    created_at: datetime
    created_by: str | None

    def _label(self) -> str:
        who = f" by {self.created_by}" if self.created_by else ""
        return (
            f"import #{self.import_id} "
            f"({self.file_name!r}, {self.created_at:%Y-%m-%d %H:%M} UTC{who})"
        )

    def describe_in_preview(self) -> str:
        """Return a sentence naming the earlier import, shown before importing."""
        return (
            f"This file was already imported as {self._label()}, so importing it "
            "again adds nothing. Undo that import on the Import history page first "
            "to import the file again."
        )

    def describe(self) -> str:
        """Return a sentence naming the earlier import, for the user."""
        return (
            f"this file was already imported as {self._label()}; nothing was added. "
            "Undo that import first to import the file again"
        )


def find_earlier_import(
    session: Session, kind: ImportKind, sha256: str
) -> EarlierImport | None:
    """Return the active (not undone) import of content ``sha256``, if any."""
    query = (
        select(Import, User.username)
        .outerjoin(User, User.id == Import.created_by_id)
        .where(Import.kind == kind, Import.file_sha256 == sha256)
        .where(Import.undone_at.is_(None))
    )
    row = session.execute(query).first()
    if row is None:
        return None
    record, username = row
    return EarlierImport(record.id, record.file_name, record.created_at, username)


def list_imports(session: Session, viewer: Viewer) -> pd.DataFrame:
    """Return every import, newest first, as a table for the history page."""
    require_role(session, viewer, IMPORTERS, "list imports")
    creator = aliased(User)
    undoer = aliased(User)
    query = (
        select(
            Import.id,
            Import.kind,
            Import.file_name,
            Import.created_at,
            creator.username,
            Import.rows_total,
            Import.rows_written,
            Import.rows_rejected,
            Import.rows_duplicate,
            Import.undone_at,
            undoer.username,
        )
        .outerjoin(creator, creator.id == Import.created_by_id)
        .outerjoin(undoer, undoer.id == Import.undone_by_id)
        .order_by(Import.created_at.desc(), Import.id.desc())
    )
    columns = [
        "id",
        "kind",
        "file",
        "imported at",
        "imported by",
        "rows",
        "written",
        "rejected",
        "duplicates",
        "undone at",
        "undone by",
    ]
    rows = [tuple(row) for row in session.execute(query)]
    frame = pd.DataFrame(rows, columns=columns)
    frame["kind"] = frame["kind"].map(lambda kind: getattr(kind, "value", kind))
    return frame


def import_report(session: Session, viewer: Viewer, import_id: int) -> pd.DataFrame:
    """Return the stored validation report (rejected cells) of one import."""
    require_role(session, viewer, IMPORTERS, "read an import report")
    record = session.get(Import, import_id)
    if record is None:
        raise ImportFailure(f"import #{import_id} not found")
    return pd.DataFrame(
        record.report, columns=["row", "column", "value", "rule", "suggested fix"]
    )


def undo_import(
    engine: Engine, viewer: Viewer | None, import_id: int, page: str | None = None
) -> int:
    """Remove exactly the rows that import ``import_id`` added; return how many.

    Alumni rows of the import are deleted; for a roster, its students are
    deleted with their accounts and everything stored for them. The import
    stays in the history, marked undone, so the same file may be imported
    again. ``viewer`` is ``None`` only for the command line.

    Raises
    ------
    ImportFailure
        When the import does not exist or was already undone.
    """
    with write_scope(engine) as session:
        if viewer is not None:
            require_role(session, viewer, IMPORTERS, "undo an import")
        record = session.get(Import, import_id)
        if record is None:
            raise ImportFailure(f"import #{import_id} not found: check the id")
        if record.undone_at is not None:
            raise ImportFailure(
                f"import #{import_id} was already undone at "
                f"{record.undone_at:%Y-%m-%d %H:%M} UTC"
            )
        owner = Alumnus if record.kind is ImportKind.ALUMNI else Student
        delete_owned_vectors(session, owner, owner.import_id == import_id)
        result = session.execute(
            delete(owner).where(owner.import_id == import_id),
            execution_options={"synchronize_session": False},
        )
        removed = int(getattr(result, "rowcount", 0) or 0)
        record.undone_at = utcnow()
        record.undone_by_id = viewer.user_id if viewer else None
        audit.record(
            session,
            viewer,
            "undo_import",
            target_kind="import",
            target_id=import_id,
            page=page,
            detail={"kind": record.kind.value, "rows_removed": removed},
        )
    logger.info("undid import %d: removed %d rows", import_id, removed)
    return removed


def count_rows_of(engine: Engine, import_id: int) -> int:
    """Return how many alumni or students import ``import_id`` still has."""
    with session_scope(engine) as session:
        record = session.get(Import, import_id)
        if record is None:
            return 0
        owner = Alumnus if record.kind is ImportKind.ALUMNI else Student
        query = select(owner.id).where(owner.import_id == import_id)
        return len(session.execute(query).all())
