"""The ``retention`` command: delete student data past the retention period."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Engine

from core.errors import CommandError
from core.privacy import apply_retention, default_retention_years
from db.migrate import upgrade_to_head
from db.session import write_scope


def add_retention_command(commands: Any) -> None:
    """Add the ``retention`` subcommand to the subparsers object ``commands``."""
    retention = commands.add_parser(
        "retention",
        help="delete students whose graduation lies past the retention period",
    )
    retention.add_argument(
        "--years",
        type=int,
        default=default_retention_years(),
        help=(
            "years to keep a student's data after their graduation year "
            "(default: TRAJECTORY_RETENTION_YEARS or 3)"
        ),
    )
    retention.add_argument(
        "--dry-run",
        action="store_true",
        help="list how many students would be deleted, and delete nothing",
    )
    retention.set_defaults(handler=_retention)


def _retention(args: argparse.Namespace, engine: Engine) -> None:
    if args.years < 0:
        raise CommandError(f"--years must be 0 or more, got {args.years}")
    upgrade_to_head(engine)
    with write_scope(engine) as session:
        deleted = apply_retention(session, args.years, dry_run=args.dry_run)
    if args.dry_run:
        print(
            f"Would delete {len(deleted)} students graduated more than "
            f"{args.years} years ago (dry run, nothing deleted)."
        )
    else:
        print(
            f"Deleted {len(deleted)} students graduated more than {args.years} "
            "years ago, with their accounts, skills, wellbeing rows and scores."
        )
