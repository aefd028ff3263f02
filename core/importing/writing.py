"""Writing a validated alumni file in one transaction, and recording the import.

The whole import (the import record, every alumni row, the remembered mapping
and the audit entry) is one transaction: an error, a rejected file or a killed
process leaves the database as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.access import Viewer, require_role
from core.importing.bulk import ALUMNI_COLUMNS, insert_columns
from core.importing.errors import ImportFailure
from core.importing.history import IMPORTERS, EarlierImport, find_earlier_import
from core.importing.mapping import remember_targets
from core.importing.preview import PreparedFile, Progress
from core.importing.reading import DEFAULT_CHUNK_ROWS
from core.importing.validation import (
    ImportPlan,
    Report,
    convert_chunk,
    finish_report,
    parse_constants,
)
from db.models import Alumnus, Import, ImportKind
from db.session import session_scope, write_scope

logger = logging.getLogger(__name__)

# Natural keys looked up per query. SQLite allows 32,766 parameters per statement
# by default since version 3.32.
KEY_LOOKUP_BATCH = 5_000

NO_DATA_ROWS = "{name} has no data rows below the header: nothing to import"

ImportStatus = Literal["imported", "rejected", "already_imported"]


@dataclass
class ImportResult:
    """The outcome of an import: its status, counts and validation report."""

    status: ImportStatus
    report: Report
    import_id: int | None = None
    rows_written: int = 0
    rows_duplicate: int = 0
    earlier_import: EarlierImport | None = None
    accounts: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        """A sentence for the user saying what happened."""
        if self.status == "already_imported" and self.earlier_import is not None:
            sentence = self.earlier_import.describe()
            return sentence[0].upper() + sentence[1:] + "."
        if self.status == "rejected":
            return (
                f"Nothing was written: {self.report.rows_rejected:,} of "
                f"{self.report.rows_total:,} rows have invalid cells. Fix the file, "
                "or choose to import only the valid rows."
            )
        return (
            f"Import #{self.import_id}: {self.rows_written:,} rows written, "
            f"{self.report.rows_rejected:,} rejected, {self.rows_duplicate:,} already "
            f"present, of {self.report.rows_total:,} rows."
        )


class Importer(Protocol):
    """The call signature shared by ``import_alumni`` and ``import_roster``."""

    def __call__(
        self,
        engine: Engine,
        viewer: Viewer | None,
        prepared: PreparedFile,
        plan: ImportPlan,
        *,
        only_valid: bool = ...,
        progress: Progress | None = ...,
        page: str | None = ...,
    ) -> ImportResult: ...


class _Rejected(Exception):
    """Rolls back an import whose file has invalid rows the user did not skip."""


def import_alumni(
    engine: Engine,
    viewer: Viewer | None,
    prepared: PreparedFile,
    plan: ImportPlan,
    *,
    only_valid: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    page: str | None = None,
) -> ImportResult:
    """Validate and write an alumni file in one transaction.

    Parameters
    ----------
    engine : Engine
        The database to write to.
    viewer : Viewer or None
        The signed-in staff member or admin; ``None`` only for the command line.
    prepared : PreparedFile
        The file as opened by ``prepare_file``.
    plan : ImportPlan
        The confirmed mapping and options, from ``make_plan``.
    only_valid : bool, default False
        Write the valid rows of a file that has invalid ones. When false, such
        a file is rejected and nothing is written.
    progress : callable, optional
        Called with (rows processed, estimated rows) after each chunk. An
        exception it raises aborts the import and rolls it back.
    chunk_rows : int, default 20,000
        Rows parsed and written per step; memory grows with this, not with the
        file.
    page : str, optional
        The page recorded in the audit entry.

    Returns
    -------
    ImportResult
        ``imported`` with counts, ``rejected`` with the report, or
        ``already_imported`` naming the earlier import of the same content.
    """
    report = Report()

    def write_rows(session: Session, import_id: int) -> tuple[int, int]:
        return _write_chunks(
            session, prepared, plan, report, import_id, progress, chunk_rows
        )

    try:
        result = write_import(
            engine,
            viewer,
            prepared,
            plan,
            report,
            write_rows,
            kind=ImportKind.ALUMNI,
            action="import alumni",
            only_valid=only_valid,
            page=page,
        )
    except IntegrityError as error:
        # Two imports of the same content both passed the earlier-import lookup
        # of write_import, so the partial unique index on active imports
        # stopped the second one.
        with session_scope(engine) as session:
            earlier = find_earlier_import(session, ImportKind.ALUMNI, prepared.sha256)
        if earlier is None:
            # Another import writing the same alumni at the same moment trips
            # the unique natural key; a second attempt counts them as duplicates.
            logger.warning("import of %s failed: %s", prepared.table.file_name, error)
            raise ImportFailure(
                f"the database rejected a row of {prepared.table.file_name} "
                f"({error.orig}), so nothing was written. If another import was "
                "running, import the file again"
            ) from error
        logger.info("import of %s lost a race: %s", prepared.table.file_name, error)
        return ImportResult("already_imported", report, earlier_import=earlier)

    if result.status == "imported":
        logger.info(
            "imported %d alumni rows from %s as import %d (%d rejected, %d duplicates)",
            result.rows_written,
            prepared.table.file_name,
            result.import_id,
            report.rows_rejected,
            result.rows_duplicate,
        )
    return result


# Writes the rows of a file inside the import's transaction, given the session
# and the import record's id, and returns (rows written, duplicate rows).
RowWriter = Callable[[Session, int], tuple[int, int]]


def write_import(
    engine: Engine,
    viewer: Viewer | None,
    prepared: PreparedFile,
    plan: ImportPlan,
    report: Report,
    write_rows: RowWriter,
    *,
    kind: ImportKind,
    action: str,
    only_valid: bool,
    page: str | None,
) -> ImportResult:
    """Run one import of ``kind`` in a single transaction and record it.

    Checks the viewer's role, skips a file whose content was imported before,
    adds the import record, calls ``write_rows``, then stores the counts, the
    remembered mapping and the audit entry. ``action`` is the action named when
    the role is refused, and ``report`` collects the invalid cells.

    A file without data rows raises ``ImportFailure``. A file with invalid rows
    is rolled back and returned as ``rejected`` unless ``only_valid`` is true.
    An ``IntegrityError`` from the database propagates to the caller.
    """
    try:
        with write_scope(engine) as session:
            if viewer is not None:
                require_role(session, viewer, IMPORTERS, action)
            earlier = find_earlier_import(session, kind, prepared.sha256)
            if earlier is not None:
                return ImportResult("already_imported", report, earlier_import=earlier)

            record = start_import_record(session, viewer, prepared, plan)
            written, duplicate = write_rows(session, record.id)
            finish_report(report, plan)
            if not report.rows_total:
                raise ImportFailure(NO_DATA_ROWS.format(name=prepared.table.file_name))
            if report.rows_rejected and not only_valid:
                raise _Rejected
            finish_import_record(
                session,
                viewer,
                prepared,
                plan,
                record,
                report,
                page,
                written,
                duplicate,
            )
    except _Rejected:
        return ImportResult("rejected", report)
    return ImportResult(
        "imported",
        report,
        import_id=record.id,
        rows_written=written,
        rows_duplicate=duplicate,
    )


def start_import_record(
    session: Session, viewer: Viewer | None, prepared: PreparedFile, plan: ImportPlan
) -> Import:
    """Add the import record (counts still 0) and return it with its id."""
    record = Import(
        kind=plan.kind,
        file_name=prepared.table.file_name[:255],
        file_sha256=prepared.sha256,
        sheet_name=prepared.table.sheet,
        encoding=prepared.table.encoding,
        mapping=plan.mapping_record(),
        constant_values=dict(plan.constants),
        rows_total=0,
        rows_written=0,
        created_by_id=viewer.user_id if viewer else None,
    )
    session.add(record)
    session.flush()
    return record


def _write_chunks(
    session: Session,
    prepared: PreparedFile,
    plan: ImportPlan,
    report: Report,
    import_id: int,
    progress: Progress | None,
    chunk_rows: int,
) -> tuple[int, int]:
    constants = parse_constants(plan)
    seen_keys: set[str] = set()
    # Looking up every key costs a query per batch. When no stored alumnus has
    # a key, only this file's own keys can repeat. On SQLite this transaction
    # has the write lock, so no other import adds keys meanwhile. On PostgreSQL
    # the unique constraint on natural_key stops a concurrent duplicate.
    check_stored = (
        session.scalar(
            select(Alumnus.id).where(Alumnus.natural_key.is_not(None)).limit(1)
        )
        is not None
    )
    written = duplicate = 0
    for chunk in prepared.table.iter_rows(chunk_rows, start_row=plan.header_row + 1):
        result = convert_chunk(chunk, plan, constants, report)
        columns = _drop_known_alumni(session, result.columns, seen_keys, check_stored)
        fresh = len(columns["source_row"])
        duplicate += result.row_count - fresh
        columns["import_id"] = [import_id] * fresh
        insert_columns(session, Alumnus.__tablename__, ALUMNI_COLUMNS, columns)
        written += fresh
        if progress is not None:
            progress(report.rows_total, prepared.rows_estimate)
    return written, duplicate


def _drop_known_alumni(
    session: Session,
    columns: dict[str, list[Any]],
    seen_keys: set[str],
    check_stored: bool,
) -> dict[str, list[Any]]:
    """Return the columns without rows whose natural key is already known."""
    keys = columns["natural_key"]
    stored: set[str] = set()
    named = [key for key in keys if key]
    for start in range(0, len(named) if check_stored else 0, KEY_LOOKUP_BATCH):
        batch = named[start : start + KEY_LOOKUP_BATCH]
        query = select(Alumnus.natural_key).where(Alumnus.natural_key.in_(batch))
        stored.update(key for key in session.scalars(query) if key)

    keep: list[int] = []
    for offset, key in enumerate(keys):
        if key is not None:
            if key in stored or key in seen_keys:
                continue
            seen_keys.add(key)
        keep.append(offset)
    if len(keep) == len(keys):
        return columns
    return {name: [values[i] for i in keep] for name, values in columns.items()}


def finish_import_record(
    session: Session,
    viewer: Viewer | None,
    prepared: PreparedFile,
    plan: ImportPlan,
    record: Import,
    report: Report,
    page: str | None,
    written: int,
    duplicate: int,
) -> None:
    """Store the counts and report, remember the mapping, and audit the import."""
    record.rows_total = report.rows_total
    record.rows_written = written
    record.rows_rejected = report.rows_rejected
    record.rows_duplicate = duplicate
    record.report = report.records()
    remember_targets(session, prepared.headers, plan.targets, plan.kind)
    audit.record(
        session,
        viewer,
        f"import_{plan.kind.value}",
        target_kind="import",
        target_id=record.id,
        page=page,
        detail={
            "file_name": record.file_name,
            "file_sha256": record.file_sha256,
            "rows_total": report.rows_total,
            "rows_written": written,
            "rows_rejected": report.rows_rejected,
            "rows_duplicate": duplicate,
        },
    )
