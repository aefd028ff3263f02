"""Write generated demo data into an empty database."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from core.auth import ONE_TIME_PASSWORD_LENGTH, create_student_account, create_user
from core.demo import history
from core.demo.generate import DemoFrames, generate
from core.student_data import CONSENT_NOTICE_VERSION
from db.models import (
    Alumnus,
    DigitalWellbeing,
    Role,
    Skill,
    SkillCatalogueEntry,
    Student,
    WellbeingConsent,
)
from db.session import session_scope, write_scope
from db.types import utcnow

logger = logging.getLogger(__name__)

DEFAULT_STUDENTS = 300
DEFAULT_ALUMNI = 2_000
DEFAULT_SEED = 2026

# Days of daily wellbeing rows, and weekly rescoring runs of score history.
WELLBEING_DAYS = 28
HISTORY_RUNS = 4
HISTORY_INTERVAL = timedelta(days=7)

# User names of the demo accounts. The student account is named after its roll
# number instead.
DEMO_USERNAMES = {
    Role.ADMIN: "demo-admin",
    Role.STAFF: "demo-staff",
    Role.OFFICER: "demo-officer",
}

ProgressCallback = Callable[[float, str], None]


class DemoDatabaseNotEmpty(ValueError):
    """Raised when demo data is requested for a database with students or alumni."""


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in: the one-time password is shown once and stored only hashed."""

    role: Role
    username: str
    # Left out of repr, so that logging a summary does not print passwords.
    password: str = field(repr=False)


@dataclass(frozen=True)
class DemoSummary:
    """Row counts per table and the accounts that ``load_demo_data`` wrote."""

    counts: dict[str, int]
    accounts: list[DemoAccount] = field(default_factory=list)


def _report(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    logger.info("demo data: %s", message)
    if progress is not None:
        progress(fraction, message)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return rows as dicts of plain Python values, with NaN as None."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in row.items()
        }
        for row in clean.to_dict(orient="records")
    ]


def _ensure_empty(session: Session) -> None:
    students = session.scalar(select(func.count()).select_from(Student)) or 0
    alumni = session.scalar(select(func.count()).select_from(Alumnus)) or 0
    if students or alumni:
        raise DemoDatabaseNotEmpty(
            f"the database already contains {students} students and {alumni} alumni. "
            "Demo data is loaded only into an empty database, so point DATABASE_URL "
            "at a new database and run the command again"
        )


def _insert_alumni(session: Session, alumni: pd.DataFrame) -> int:
    extra_columns = ["internship_count", "project_count", "backlogs"]
    rows = _records(alumni.drop(columns=extra_columns))
    extras = alumni[extra_columns].astype(float).to_dict(orient="records")
    for row, extra in zip(rows, extras, strict=True):
        # Demo alumni come from no file, so there is no natural key to deduplicate
        # a later upload against.
        row["natural_key"] = None
        row["extra_features"] = extra
    session.execute(insert(Alumnus), rows)
    return len(rows)


def _insert_students(session: Session, students: pd.DataFrame) -> np.ndarray:
    statement = insert(Student).returning(Student.id, sort_by_parameter_order=True)
    ids = session.scalars(statement, _records(students)).all()
    return np.asarray(ids, dtype=np.int64)


def _insert_by_student(
    session: Session, model: type[Any], frame: pd.DataFrame, student_ids: np.ndarray
) -> int:
    rows = frame.drop(columns="student_index")
    rows.insert(0, "student_id", student_ids[frame["student_index"].to_numpy()])
    records = _records(rows)
    if records:
        session.execute(insert(model), records)
    return len(records)


def _create_accounts(
    session: Session, student_id: int, roll_number: str
) -> list[DemoAccount]:
    accounts = []
    for role, username in DEMO_USERNAMES.items():
        password = secrets.token_urlsafe(ONE_TIME_PASSWORD_LENGTH)
        password = password[:ONE_TIME_PASSWORD_LENGTH]
        create_user(session, username, password, role, must_change_password=True)
        accounts.append(DemoAccount(role, username, password))
    username, password = create_student_account(session, student_id, roll_number)
    accounts.append(DemoAccount(Role.STUDENT, username, password))
    return accounts


def _write_base(
    session: Session, frames: DemoFrames, now: datetime, accounts: bool
) -> tuple[dict[str, int], np.ndarray, list[DemoAccount]]:
    _ensure_empty(session)
    counts = {"alumni": _insert_alumni(session, frames.alumni)}

    # Students start at their oldest snapshot, and the history runs move them to
    # their values of today.
    first_snapshot = history.snapshots(frames)[0]
    student_ids = _insert_students(session, first_snapshot)
    counts["students"] = len(student_ids)

    session.execute(insert(SkillCatalogueEntry), _records(frames.catalogue))
    counts["skill catalogue entries"] = len(frames.catalogue)
    counts["skills"] = _insert_by_student(session, Skill, frames.skills, student_ids)

    consents = frames.consents.assign(
        notice_version=CONSENT_NOTICE_VERSION,
        granted_at=now - timedelta(days=WELLBEING_DAYS + 2),
    )
    counts["wellbeing consents"] = _insert_by_student(
        session, WellbeingConsent, consents, student_ids
    )
    counts["wellbeing rows"] = _insert_by_student(
        session, DigitalWellbeing, frames.wellbeing, student_ids
    )

    created: list[DemoAccount] = []
    if accounts:
        roll_number = str(frames.students["roll_number"].iloc[0])
        created = _create_accounts(session, int(student_ids[0]), roll_number)
    counts["accounts"] = len(created)
    return counts, student_ids, created


def load_demo_data(
    engine: Engine,
    *,
    students: int = DEFAULT_STUDENTS,
    alumni: int = DEFAULT_ALUMNI,
    seed: int = DEFAULT_SEED,
    accounts: bool = True,
    now: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Fill an empty database with generated alumni, students and score history.

    Parameters
    ----------
    engine : Engine
        Engine of a migrated database without students or alumni.
    students : int, default=300
        Number of current students, at least 1.
    alumni : int, default=2000
        Number of alumni, at least 1.
    seed : int, default=2026
        Seed of the random generator; the same seed writes the same rows.
    accounts : bool, default=True
        Whether to create one account per role (admin, staff, officer and a
        student linked to the first student). Their one-time passwords are
        returned in the summary, stored only as argon2id hashes, and must be
        changed at the first sign-in.
    now : datetime or None, default=None
        Aware time that dates, graduation years and the score history are
        relative to; the current time when None.
    progress : callable or None, default=None
        Called as ``progress(fraction, message)`` after each step, with
        ``fraction`` between 0 and 1.

    Returns
    -------
    DemoSummary
        Row counts per table and the created accounts with their passwords.

    Raises
    ------
    DemoDatabaseNotEmpty
        If the database already contains students or alumni. Nothing is written.
    ValueError
        If ``students`` or ``alumni`` is below 1, or a demo user name is taken.

    Notes
    -----
    Rows and accounts are written in one transaction, so a rejection writes
    nothing. The score history is then written by one rescoring run per week,
    each in the engine's own transactions, so a failing run leaves the rows
    without the later scores.
    """
    if students < 1 or alumni < 1:
        raise ValueError(
            f"students={students} and alumni={alumni}: both must be at least 1"
        )
    now = now or utcnow()
    # Checked before the slow generation so that a rejection is immediate, and again
    # inside the write transaction in case another writer filled the database.
    with session_scope(engine) as session:
        _ensure_empty(session)

    _report(progress, 0.0, "generating rows")
    frames = generate(
        students=students,
        alumni=alumni,
        seed=seed,
        now=now,
        wellbeing_days=WELLBEING_DAYS,
        runs=HISTORY_RUNS,
    )

    _report(progress, 0.2, "writing alumni, students, skills and wellbeing rows")
    with write_scope(engine) as session:
        counts, student_ids, created = _write_base(session, frames, now, accounts)

    def history_progress(runs_done: float, message: str) -> None:
        _report(progress, 0.4 + 0.6 * runs_done / HISTORY_RUNS, message)

    run_times = [
        now - HISTORY_INTERVAL * (HISTORY_RUNS - 1 - run) for run in range(HISTORY_RUNS)
    ]
    scores, recommendations = history.write_history(
        engine, frames, student_ids, run_times, history_progress
    )
    counts["trajectory scores"] = scores
    counts["recommendations"] = recommendations
    _report(progress, 1.0, "done")
    return DemoSummary(counts=counts, accounts=created)
