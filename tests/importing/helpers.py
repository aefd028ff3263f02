"""Running a file through the same core calls the upload page makes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from core.access import Viewer
from core.importing import ImportResult, import_alumni, make_plan, prepare_file
from core.importing.preview import PreparedFile, Progress
from db.models import Alumnus, ImportKind
from db.session import session_scope


def prepare(
    engine: Engine,
    source: bytes | Path,
    name: str | None = None,
    kind: ImportKind = ImportKind.ALUMNI,
    sheet: str | None = None,
) -> PreparedFile:
    """Open ``source`` as the page does (bytes) or as the command line does (a path)."""
    with session_scope(engine) as session:
        return prepare_file(session, source, kind, file_name=name, sheet=sheet)


def run_import(
    engine: Engine,
    source: bytes | Path,
    name: str | None = None,
    *,
    viewer: Viewer | None = None,
    only_valid: bool = False,
    targets: list[str | None] | None = None,
    constants: dict[str, str] | None = None,
    gpa_from_percent: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = 20_000,
) -> ImportResult:
    prepared = prepare(engine, source, name)
    with session_scope(engine) as session:
        plan = make_plan(
            session, prepared, targets, constants, gpa_from_percent=gpa_from_percent
        )
    return import_alumni(
        engine,
        viewer,
        prepared,
        plan,
        only_valid=only_valid,
        progress=progress,
        chunk_rows=chunk_rows,
    )


def alumni_rows(engine: Engine) -> list[Alumnus]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Alumnus).order_by(Alumnus.source_row)))


def alumni_by_name(engine: Engine) -> dict[str | None, Alumnus]:
    return {alumnus.name: alumnus for alumnus in alumni_rows(engine)}
