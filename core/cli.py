"""Command line: ``python -m core.cli COMMAND``.

Each command prints what it did (with counts) and exits with status 1 and a
message naming the bad value when its input is invalid.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from core.auth import create_user
from core.demo.command import add_demo_command
from core.engine.commands import add_commands as add_engine_commands
from core.errors import CommandError
from core.importing.commands import add_import_parsers
from core.privacy_commands import add_retention_command
from db.migrate import upgrade_to_head
from db.models import Role
from db.session import get_engine, write_scope

logger = logging.getLogger(__name__)

DESCRIPTION = (
    "Trajectory's command line. Each command prints what it did with counts and "
    "exits with status 1 and a message when its input is invalid."
)


def _migrate(args: argparse.Namespace, engine: Engine) -> None:
    upgrade_to_head(engine)
    print(f"Database at {engine.url.render_as_string(hide_password=True)} is migrated.")


def _create_user(args: argparse.Namespace, engine: Engine) -> None:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError(
                "no password given: pass --password or run in a terminal"
            )
        password = getpass.getpass(f"Password for {args.username}: ")
    upgrade_to_head(engine)
    try:
        with write_scope(engine) as session:
            user = create_user(session, args.username, password, Role(args.role))
            user_id = user.id
    except ValueError as error:
        raise CommandError(str(error)) from error
    print(f"Created user {args.username!r} (id {user_id}) with role {args.role}.")


Handler = Callable[[argparse.Namespace, Engine], None]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.cli", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser(
        "migrate", help="migrate the database to the latest revision"
    )
    migrate.set_defaults(handler=_migrate)

    user = commands.add_parser(
        "create-user", help="create a staff, officer or admin account"
    )
    user.add_argument("username")
    user.add_argument(
        "--role",
        choices=[role.value for role in Role if role is not Role.STUDENT],
        required=True,
    )
    user.add_argument(
        "--password", help="password (asked for in a terminal when omitted)"
    )
    user.set_defaults(handler=_create_user)

    add_engine_commands(commands)

    add_demo_command(commands)

    add_retention_command(commands)

    add_import_parsers(commands)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        handler(args, get_engine())
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
