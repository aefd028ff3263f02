"""Command-line handlers of the engine: ``rescore`` and ``backtest``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import Engine

from core.engine.backtest import backtest_database
from core.engine.service import rescore_students
from db.migrate import upgrade_to_head


def _print_progress(done: int, total: int) -> None:
    # One line per chunk, so a cron log shows how far a long run got.
    print(f"scored {done} of {total} students", file=sys.stderr, flush=True)


def rescore(args: argparse.Namespace, engine: Engine) -> None:
    """Rescore every student (or only those whose inputs changed)."""
    upgrade_to_head(engine)
    summary = rescore_students(
        engine,
        progress=None if args.quiet else _print_progress,
        only_changed=args.changed_only,
    )
    if summary.students_scored == 0 and summary.skipped_unchanged == 0:
        print(
            "No students are stored: import a roster first with "
            "python -m core.cli import-roster FILE."
        )
    print(
        f"Rescored {summary.students_scored} students "
        f"({summary.abstained} without enough comparable alumni, "
        f"{summary.skipped_unchanged} unchanged and skipped), "
        f"{summary.recommendations} recommendations, "
        f"in {summary.duration_seconds:.2f} s (engine run {summary.run_id})."
    )


def backtest(args: argparse.Namespace, engine: Engine) -> None:
    """Backtest the engine on the stored alumni and print the report."""
    upgrade_to_head(engine)
    report = backtest_database(engine)
    if args.json:
        print(json.dumps(report, default=str))
        return
    skipped = report.get("skipped_reason")
    if skipped:
        print(f"Backtest skipped (engine run {report['run_id']}), because {skipped}.")
        return
    print(
        f"Backtest ({report['split']}) on {report['test_rows']} test alumni, "
        f"engine run {report['run_id']}:"
    )
    for name in ("engine", "base_rate", "logistic_regression"):
        metrics: dict[str, Any] = report[name]
        print(
            f"  {name:<20} AUC {_format(metrics['auc'])}  "
            f"Brier {_format(metrics['brier'])}  "
            f"tier accuracy {_format(metrics['tier_accuracy'])}  "
            f"coverage {_format(metrics['coverage'])}  "
            f"rows {metrics['rows']}"
        )
    for note in report["notes"]:
        print(f"Note: {note}")


def _format(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def add_commands(commands: Any) -> None:
    """Add the ``rescore`` and ``backtest`` subcommands to ``commands``."""
    rescore_parser = commands.add_parser(
        "rescore", help="score every student against the alumni (suits a nightly cron)"
    )
    rescore_parser.add_argument(
        "--changed-only",
        action="store_true",
        help="skip students whose inputs and the alumni did not change",
    )
    rescore_parser.add_argument(
        "--quiet", action="store_true", help="print no progress lines"
    )
    rescore_parser.set_defaults(handler=rescore)

    backtest_parser = commands.add_parser(
        "backtest", help="evaluate the engine on the stored alumni against baselines"
    )
    backtest_parser.add_argument(
        "--json", action="store_true", help="print the report as one JSON object"
    )
    backtest_parser.set_defaults(handler=backtest)
