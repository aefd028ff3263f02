"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL server.

Every test that takes ``engine`` (or ``database_url``) runs twice, once per
backend, each time on a fresh database copied from a template migrated once per
session with ``alembic upgrade head``.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.settings import SHARED_CASES_DIR, SHARED_DATA_DIR
from db.migrate import upgrade_to_head
from db.session import get_engine, make_engine
from tests.pg_server import PostgresServer

BACKENDS = ("sqlite", "postgresql")
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the public placement spreadsheets."""
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def shared_cases() -> Path:
    """Folder of the small spreadsheets that reproduce importer faults."""
    return SHARED_CASES_DIR


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    admin = make_engine(postgres_server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE trajectory_template"))
    admin.dispose()

    template = make_engine(postgres_server.url("trajectory_template"))
    upgrade_to_head(template)
    template.dispose()
    return "trajectory_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    template = make_engine(f"sqlite:///{path}")
    upgrade_to_head(template)
    with template.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    template.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """URL of a fresh, migrated database on the test's backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "trajectory.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return

    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"trajectory_test_{next(_database_numbers)}"
    admin = make_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template_name}"))
    yield server.url(name)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Engine on a fresh database, also made the app's configured database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_engine.cache_clear()
    test_engine = get_engine(database_url)
    yield test_engine
    test_engine.dispose()
    get_engine.cache_clear()
