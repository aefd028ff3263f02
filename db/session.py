"""Engine and session handling for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.settings import database_url, normalise_database_url

# Milliseconds a SQLite writer waits for another writer before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Execution option that marks a connection as about to write (see write_scope).
WRITE_OPTION = "trajectory_write"


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers run beside one writer; the busy timeout makes a second
    # writer wait instead of failing with "database is locked". The driver's own
    # transaction handling is turned off so that _begin_sqlite decides how BEGIN runs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with
    # SQLITE_BUSY when another writer committed in between, without waiting for
    # the busy timeout. Writers therefore take the write lock at BEGIN.
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: the configured database).

    SQLite connections get WAL mode, a busy timeout and foreign keys.
    """
    url = normalise_database_url(url) if url else database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """Return a process-wide engine for ``url`` (default: the configured database)."""
    return make_engine(url or database_url())


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (default: the configured one)."""
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


@contextmanager
def write_scope(engine: Engine | None = None) -> Iterator[Session]:
    """Open a session for a read-then-write transaction, committed on success.

    On SQLite the transaction takes the write lock when it begins, so two such
    transactions queue for the busy timeout instead of failing. On PostgreSQL
    it is an ordinary transaction.
    """
    engine = engine or get_engine()
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
        with Session(bind=connection, expire_on_commit=False) as session:
            with session.begin():
                yield session
