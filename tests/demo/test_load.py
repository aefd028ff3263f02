"""Demo data: counts, reproducibility, refusal of a used database, accounts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from core.auth import verify_password
from core.cli import main
from core.demo import DemoDatabaseNotEmpty, load_demo_data
from core.demo.generate import generate
from core.demo.load import HISTORY_RUNS
from db.migrate import upgrade_to_head
from db.models import (
    Alumnus,
    DigitalWellbeing,
    Recommendation,
    Role,
    Skill,
    SkillCatalogueEntry,
    Student,
    TrajectoryScore,
    User,
    WellbeingConsent,
)
from db.session import make_engine, session_scope
from db.types import utcnow
from tests.factories import make_student

SMALL = {"students": 40, "alumni": 300, "seed": 11}

# Label printed by the demo command for each table, and the model it counts.
PRINTED_TABLES: dict[str, Any] = {
    "alumni": Alumnus,
    "students": Student,
    "skill catalogue entries": SkillCatalogueEntry,
    "skills": Skill,
    "wellbeing consents": WellbeingConsent,
    "wellbeing rows": DigitalWellbeing,
    "accounts": User,
    "trajectory scores": TrajectoryScore,
    "recommendations": Recommendation,
}


def _count(engine: Engine, model: Any) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _printed_counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        match = re.fullmatch(r"\s+([\d,]+) ([a-z ]+)", line)
        if match:
            counts[match.group(2)] = int(match.group(1).replace(",", ""))
    return counts


def test_demo_command_writes_printed_counts(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["demo", "--students", "40", "--alumni", "300", "--seed", "11"])
    printed = _printed_counts(capsys.readouterr().out)

    assert status == 0
    assert set(printed) == set(PRINTED_TABLES)
    assert printed["students"] == 40
    assert printed["alumni"] == 300
    assert printed["trajectory scores"] == 40 * HISTORY_RUNS
    for label, model in PRINTED_TABLES.items():
        assert _count(engine, model) == printed[label], label


def test_demo_command_prints_each_password_once(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo", "--students", "20", "--alumni", "200"])
    output = capsys.readouterr().out

    account_section = output.split("Accounts", 1)[1].splitlines()[1:]
    accounts = {
        role: (username, password)
        for role, username, password in (line.split() for line in account_section)
    }
    assert set(accounts) == {role.value for role in Role}
    with session_scope(engine) as session:
        for role, (username, password) in accounts.items():
            user = session.scalars(select(User).where(User.username == username)).one()
            assert user.role.value == role
            assert verify_password(user.password_hash, password)
            assert output.count(password) == 1


def _table(engine: Engine, query: str) -> pd.DataFrame:
    # As text, because SQLite returns dates as text and PostgreSQL as dates.
    with engine.connect() as connection:
        return pd.read_sql_query(query, connection).astype(str)


# Columns that do not depend on database ids or on the time of the run.
REPRODUCIBLE_QUERIES = {
    "students": "SELECT roll_number, name, major, semester, expected_graduation_year,"
    " gpa, attendance, weekly_study_hours, project_count, internship_count"
    " FROM students ORDER BY roll_number",
    "alumni": "SELECT name, major, graduation_year, gpa, attendance, placement_status,"
    " company_tier, role_title, salary_text, salary_min_lpa, salary_max_lpa"
    " FROM alumni ORDER BY id",
    "skills": "SELECT s.roll_number, k.name, k.proficiency, k.market_weight"
    " FROM skills k JOIN students s ON s.id = k.student_id"
    " ORDER BY s.roll_number, k.name",
    "wellbeing": "SELECT s.roll_number, w.date, w.sleep_hours, w.focus_score"
    " FROM digital_wellbeing_data w JOIN students s ON s.id = w.student_id"
    " ORDER BY s.roll_number, w.date",
    "scores": "SELECT s.roll_number, t.score, t.predicted_tier, t.trend"
    " FROM trajectory_scores t JOIN students s ON s.id = t.student_id"
    " ORDER BY s.roll_number, t.computed_at",
}


def test_demo_same_seed_writes_same_rows(engine: Engine, tmp_path: Path) -> None:
    now = utcnow()
    second = make_engine(f"sqlite:///{tmp_path / 'second.sqlite3'}")
    upgrade_to_head(second)

    load_demo_data(engine, accounts=False, now=now, **SMALL)
    load_demo_data(second, accounts=False, now=now, **SMALL)

    for name, query in REPRODUCIBLE_QUERIES.items():
        first_rows = _table(engine, query)
        assert len(first_rows) > 0, name
        pd.testing.assert_frame_equal(first_rows, _table(second, query), obj=name)
    second.dispose()


def test_generate_other_seed_gives_other_rows() -> None:
    options = {"students": 30, "alumni": 100, "now": utcnow()}
    options |= {"wellbeing_days": 7, "runs": 2}
    first = generate(seed=1, **options)
    same = generate(seed=1, **options)
    other = generate(seed=2, **options)

    pd.testing.assert_frame_equal(first.alumni, same.alumni)
    pd.testing.assert_frame_equal(first.wellbeing, same.wellbeing)
    assert not first.students["gpa"].equals(other.students["gpa"])


def test_demo_rejects_database_with_students(engine: Engine) -> None:
    with session_scope(engine) as session:
        make_student(session)

    with pytest.raises(DemoDatabaseNotEmpty, match="already contains 1 students"):
        load_demo_data(engine, **SMALL)

    assert _count(engine, Alumnus) == 0
    assert _count(engine, User) == 0
    assert _count(engine, Student) == 1


def test_demo_command_rejects_used_database(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo", "--students", "10", "--alumni", "100"])
    capsys.readouterr()

    assert main(["demo", "--students", "10", "--alumni", "100"]) == 1

    assert capsys.readouterr().err.startswith("error: the database already contains")
    assert _count(engine, Student) == 10


@pytest.mark.parametrize("sizes", [{"students": 0}, {"alumni": -1}])
def test_demo_rejects_invalid_size(engine: Engine, sizes: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be at least 1"):
        load_demo_data(engine, **sizes)


def test_demo_creates_one_account_per_role(engine: Engine) -> None:
    summary = load_demo_data(engine, **SMALL)

    assert sorted(account.role for account in summary.accounts) == sorted(Role)
    with session_scope(engine) as session:
        users = {user.username: user for user in session.scalars(select(User))}
        for account in summary.accounts:
            user = users[account.username]
            assert user.role is account.role
            assert user.password_hash.startswith("$argon2id$")
            assert account.password not in user.password_hash
            assert verify_password(user.password_hash, account.password)
            assert user.must_change_password
        student_user = next(u for u in users.values() if u.role is Role.STUDENT)
        student = session.get(Student, student_user.student_id)
        assert student is not None
        assert student_user.username == student.roll_number.lower()


def test_demo_wellbeing_only_for_consenting_students(engine: Engine) -> None:
    load_demo_data(engine, accounts=False, **SMALL)

    with session_scope(engine) as session:
        consenting = set(session.scalars(select(WellbeingConsent.student_id)))
        with_rows = set(session.scalars(select(DigitalWellbeing.student_id).distinct()))
        all_students = set(session.scalars(select(Student.id)))

    assert with_rows == consenting
    assert 0 < len(consenting) < len(all_students)


def test_demo_history_has_runs_and_trends(engine: Engine) -> None:
    load_demo_data(engine, accounts=False, **SMALL)

    with session_scope(engine) as session:
        per_student = session.execute(
            select(TrajectoryScore.student_id, func.count(TrajectoryScore.id)).group_by(
                TrajectoryScore.student_id
            )
        ).all()
        latest_time = session.scalar(select(func.max(TrajectoryScore.computed_at)))
        trends = set(
            session.scalars(
                select(TrajectoryScore.trend).where(
                    TrajectoryScore.computed_at == latest_time
                )
            )
        )

    assert len(per_student) == SMALL["students"]
    assert {count for _, count in per_student} == {HISTORY_RUNS}
    assert {"improving", "declining"} <= {trend.value for trend in trends if trend}
