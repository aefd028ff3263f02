"""Runtime settings read from the environment, with local defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Local state (the default SQLite file) lives here; the folder is git-ignored.
VAR_DIR = PROJECT_ROOT / "var"

DEFAULT_SQLITE_PATH = VAR_DIR / "trajectory.sqlite3"


def normalise_database_url(url: str) -> str:
    """Return ``url`` with any PostgreSQL scheme rewritten to use psycopg 3.

    SQLAlchemy rejects ``postgres://`` and would pick psycopg2 for a bare
    ``postgresql://``, so both are rewritten to ``postgresql+psycopg://``.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url() -> str:
    """Return the database URL from ``DATABASE_URL``, or the local SQLite file."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        return normalise_database_url(configured)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def session_idle_minutes() -> int:
    """Return how long a signed-in session may stay idle, in minutes."""
    return int(os.environ.get("TRAJECTORY_SESSION_IDLE_MINUTES", "30"))


# Public placement spreadsheets and fault cases kept beside the project checkout.
# Tests and benchmarks read them from here; the product never ships them.
SHARED_DIR = Path(
    os.environ.get("TRAJECTORY_SHARED_DIR", PROJECT_ROOT.parent / "shared")
)
SHARED_DATA_DIR = SHARED_DIR / "data"
SHARED_CASES_DIR = SHARED_DIR / "cases"
