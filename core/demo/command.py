"""The ``demo`` subcommand of ``python -m core.cli``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import Engine

from core.demo.load import (
    DEFAULT_ALUMNI,
    DEFAULT_SEED,
    DEFAULT_STUDENTS,
    DemoSummary,
    load_demo_data,
)
from core.errors import CommandError
from db.migrate import upgrade_to_head


def add_demo_command(commands: Any) -> None:
    """Add the ``demo`` subcommand to the subparsers object ``commands``."""
    demo = commands.add_parser(
        "demo", help="fill an empty database with generated demo data and accounts"
    )
    demo.add_argument(
        "--students", type=int, default=DEFAULT_STUDENTS, help="number of students"
    )
    demo.add_argument(
        "--alumni", type=int, default=DEFAULT_ALUMNI, help="number of alumni"
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="random seed (the same seed writes the same rows)",
    )
    demo.set_defaults(handler=run_demo_command)


def _print_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _print_summary(summary: DemoSummary) -> None:
    print("Wrote demo data:")
    for table, count in summary.counts.items():
        print(f"  {count:>7,} {table}")
    if not summary.accounts:
        return
    print("\nAccounts (one-time passwords, shown only now; change them at sign-in):")
    for account in summary.accounts:
        print(f"  {account.role.value:<8} {account.username:<14} {account.password}")


def run_demo_command(args: argparse.Namespace, engine: Engine) -> None:
    """Migrate, load the demo data and print counts and accounts.

    Exits with status 1 and a message when the database is not empty or a size
    is invalid.
    """
    upgrade_to_head(engine)
    try:
        summary = load_demo_data(
            engine,
            students=args.students,
            alumni=args.alumni,
            seed=args.seed,
            progress=_print_progress,
        )
    except ValueError as error:
        raise CommandError(str(error)) from error
    _print_summary(summary)
