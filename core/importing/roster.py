"""Importing a student roster: students, and one sign-in account each.

The one-time passwords of the new accounts are returned to the caller once, so
that staff can hand them out. The database stores only their argon2id hashes,
and they are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.access import Viewer
from core.auth import create_student_account
from core.importing.preview import PreparedFile, Progress
from core.importing.reading import DEFAULT_CHUNK_ROWS
from core.importing.validation import ImportPlan, Report, convert_chunk, parse_constants
from core.importing.writing import ImportResult, write_import
from core.privacy import STUDENT_FIELDS
from db.models import ImportKind, Student, User

logger = logging.getLogger(__name__)


def import_roster(
    engine: Engine,
    viewer: Viewer | None,
    prepared: PreparedFile,
    plan: ImportPlan,
    *,
    only_valid: bool = False,
    progress: Progress | None = None,
    page: str | None = None,
) -> ImportResult:
    """Validate a roster and create its students and their accounts in one transaction.

    A roll number already in the database, or repeated in the file, is counted
    as a duplicate and skipped. Roll numbers are compared without case because
    the account's user name is the roll number in lower case.

    Returns
    -------
    ImportResult
        On success, ``accounts`` lists (roll number, user name, one-time
        password) for every new student.
    """
    report = Report()
    accounts: list[tuple[str, str, str]] = []

    def write_rows(session: Session, import_id: int) -> tuple[int, int]:
        duplicate = _write_students(
            session, prepared, plan, report, import_id, accounts, progress
        )
        return len(accounts), duplicate

    result = write_import(
        engine,
        viewer,
        prepared,
        plan,
        report,
        write_rows,
        kind=ImportKind.ROSTER,
        action="import a roster",
        only_valid=only_valid,
        page=page,
    )
    if result.status != "imported":
        return result

    logger.info(
        "imported %d students from %s as import %d (%d rejected, %d duplicates)",
        result.rows_written,
        prepared.table.file_name,
        result.import_id,
        report.rows_rejected,
        result.rows_duplicate,
    )
    result.accounts = accounts
    return result


def _write_students(
    session: Session,
    prepared: PreparedFile,
    plan: ImportPlan,
    report: Report,
    import_id: int,
    accounts: list[tuple[str, str, str]],
    progress: Progress | None,
) -> int:
    constants = parse_constants(plan)
    seen: set[str] = set()
    duplicate = 0
    chunks = prepared.table.iter_rows(DEFAULT_CHUNK_ROWS, plan.header_row + 1)
    for chunk in chunks:
        rows_before = report.rows_total
        result = convert_chunk(chunk, plan, constants, report)
        for position, row in enumerate(result.records(), start=1):
            key = str(row["roll_number"]).lower()
            if key in seen or _roll_number_taken(session, key):
                duplicate += 1
                continue
            seen.add(key)
            student = _add_student(session, row, import_id)
            username, password = create_student_account(
                session, student.id, student.roll_number
            )
            accounts.append((student.roll_number, username, password))
            # Hashing each password takes tens of milliseconds, so a long roster
            # reports progress within a chunk too.
            if progress is not None and position % 25 == 0:
                progress(rows_before + position, prepared.rows_estimate)
        if progress is not None:
            progress(report.rows_total, prepared.rows_estimate)
    return duplicate


def _roll_number_taken(session: Session, key: str) -> bool:
    student = select(Student.id).where(func.lower(Student.roll_number) == key)
    user = select(User.id).where(User.username == key)
    return (
        session.scalar(student.limit(1)) is not None
        or session.scalar(user.limit(1)) is not None
    )


def _add_student(session: Session, row: dict[str, Any], import_id: int) -> Student:
    values = {name: row[name] for name in STUDENT_FIELDS if row.get(name) is not None}
    student = Student(**values, import_id=import_id)
    session.add(student)
    session.flush()
    return student
