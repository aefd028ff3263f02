"""Command-line handlers: ``import-alumni``, ``import-roster`` and ``undo-import``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from sqlalchemy import Engine

from core.errors import CommandError
from core.importing.errors import ImportFailure
from core.importing.history import undo_import
from core.importing.preview import PreparedFile, make_plan, prepare_file
from core.importing.roster import import_roster
from core.importing.validation import ImportPlan
from core.importing.writing import Importer, ImportResult, import_alumni
from db.migrate import upgrade_to_head
from db.models import Import, ImportKind
from db.session import session_scope

PAGE = "command line"


def _fail(message: str) -> NoReturn:
    raise CommandError(message)


def add_import_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add the import commands to the CLI's subcommand parsers."""
    alumni = commands.add_parser(
        "import-alumni", help="import an alumni spreadsheet (CSV, XLSX or XLS)"
    )
    alumni.add_argument("file", type=Path, help="the spreadsheet to import")
    _add_file_options(alumni)
    alumni.add_argument(
        "--gpa-from-percent",
        action="store_true",
        help="the GPA column holds percentages: convert them as percentage / 10",
    )
    alumni.set_defaults(handler=run_import_alumni)

    roster = commands.add_parser(
        "import-roster",
        help="import a student roster and print each new account's one-time password",
    )
    roster.add_argument("file", type=Path, help="the roster to import")
    _add_file_options(roster)
    roster.set_defaults(handler=run_import_roster)

    undo = commands.add_parser("undo-import", help="remove the rows an import added")
    undo.add_argument("import_id", type=int, metavar="ID", help="the import's number")
    undo.set_defaults(handler=run_undo_import)


def _add_file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sheet", help="sheet of a workbook (default: the first)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="one value for every row of a field the file lacks, such as "
        "graduation_year=2024 (repeatable)",
    )
    parser.add_argument(
        "--only-valid",
        action="store_true",
        help="write the valid rows when some rows are invalid (default: write nothing)",
    )


def _constants(pairs: list[str]) -> dict[str, str]:
    constants: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            _fail(
                f"--set {pair!r} is invalid: write FIELD=VALUE, such as "
                "graduation_year=2024"
            )
        constants[name.strip()] = value.strip()
    return constants


def _prepare(
    engine: Engine, args: argparse.Namespace, kind: ImportKind, gpa: bool
) -> tuple[PreparedFile, ImportPlan]:
    path: Path = args.file
    if not path.is_file():
        _fail(f"file {str(path)!r} not found")
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        prepared = prepare_file(session, path, kind, sheet=args.sheet)
        plan = make_plan(
            session, prepared, constants=_constants(args.set), gpa_from_percent=gpa
        )
    print(f"Read {prepared.table.file_name}: {prepared.table.description}.")
    for header, target in zip(plan.headers, plan.targets, strict=True):
        print(f"  {header!r} -> {target or '(ignored)'}")
    return prepared, plan


def _print_progress(done: int, total: int) -> None:
    print(f"  processed {done:,} of about {total:,} rows", file=sys.stderr)


def _finish(result: ImportResult) -> None:
    if result.status == "rejected":
        for problem in result.report.problems[:50]:
            print(
                f"  row {problem.row}, column {problem.column!r}, value "
                f"{problem.value!r}: {problem.rule}; {problem.suggestion}",
                file=sys.stderr,
            )
        hidden = result.report.problem_count - min(result.report.problem_count, 50)
        if hidden:
            print(f"  ... and {hidden} more invalid cells", file=sys.stderr)
        _fail(result.message)
    for note in result.report.notes:
        print(f"Note: {note}")
    print(result.message)


def _run_import(
    args: argparse.Namespace,
    engine: Engine,
    kind: ImportKind,
    importer: Importer,
    gpa_from_percent: bool,
) -> ImportResult:
    try:
        prepared, plan = _prepare(engine, args, kind, gpa_from_percent)
        result = importer(
            engine,
            None,
            prepared,
            plan,
            only_valid=args.only_valid,
            progress=_print_progress,
            page=PAGE,
        )
    except ImportFailure as error:
        _fail(str(error))
    _finish(result)
    return result


def run_import_alumni(args: argparse.Namespace, engine: Engine) -> None:
    """Import an alumni file from the command line."""
    result = _run_import(
        args, engine, ImportKind.ALUMNI, import_alumni, args.gpa_from_percent
    )
    # Scores compare students with the alumni, so they are stale after new rows.
    if result.status == "imported" and result.rows_written:
        print(
            "Students' scores do not include these alumni yet: run "
            "`python -m core.cli rescore` to rescore every student."
        )


def run_import_roster(args: argparse.Namespace, engine: Engine) -> None:
    """Import a roster and print the new accounts with their one-time passwords."""
    result = _run_import(args, engine, ImportKind.ROSTER, import_roster, False)
    if result.accounts:
        print("One-time passwords (shown only now; each must be changed at sign-in):")
        print("roll_number,username,password")
        for roll_number, username, password in result.accounts:
            print(f"{roll_number},{username},{password}")


RESCORE_AFTER_UNDO = (
    "Stored scores and their similar alumni still reflect the removed rows: run "
    "`python -m core.cli rescore` to rescore every student."
)


def run_undo_import(args: argparse.Namespace, engine: Engine) -> None:
    """Undo an import from the command line."""
    try:
        removed = undo_import(engine, None, args.import_id, page=PAGE)
    except ImportFailure as error:
        _fail(str(error))
    print(f"Undid import #{args.import_id}: removed {removed} rows.")
    with session_scope(engine) as session:
        record = session.get(Import, args.import_id)
        # A roster's students go with their scores, so only alumni need one.
        if record is not None and record.kind is ImportKind.ALUMNI:
            print(RESCORE_AFTER_UNDO)
