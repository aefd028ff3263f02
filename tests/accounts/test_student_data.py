"""Skills and wellbeing: own-record writes, per-role reads, consent rules."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from core.access import AccessDenied
from core.student_data import (
    DEFAULT_MARKET_WEIGHT,
    focus_score,
    grant_consent,
    list_skills,
    list_wellbeing,
    remove_skill,
    save_skill,
    save_wellbeing_day,
    withdraw_consent,
)
from db.models import DigitalWellbeing, Skill, SkillCatalogueEntry
from db.session import session_scope
from tests.accounts.conftest import People, count_entries


def _add_days(engine: Engine, people: People, viewer_name: str, days: int) -> None:
    viewer = getattr(people, viewer_name)
    with session_scope(engine) as session:
        grant_consent(session, viewer)
    with session_scope(engine) as session:
        for day in range(1, days + 1):
            save_wellbeing_day(session, viewer, date(2026, 11, day), 6, 2, 2, 8)


def test_save_skill_uses_catalogue_weight(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        session.add(
            SkillCatalogueEntry(name="Python", market_weight=2.0, reasoning="demand")
        )
    with session_scope(engine) as session:
        save_skill(session, people.student, "python", 70, 60, 50)
        save_skill(session, people.student, "Origami", 40)

    with session_scope(engine) as session:
        skills = {
            s.name: s for s in list_skills(session, people.student, people.student_id)
        }
    assert skills["python"].market_weight == 2.0
    assert skills["Origami"].market_weight == DEFAULT_MARKET_WEIGHT
    assert skills["python"].quiz_score == 60
    assert skills["Origami"].voice_score is None


def test_save_skill_updates_existing(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "SQL", 40)
    with session_scope(engine) as session:
        save_skill(session, people.student, "sql", 80, 90)

    with session_scope(engine) as session:
        skills = list_skills(session, people.student, people.student_id)
    assert len(skills) == 1
    assert skills[0].proficiency == 80
    assert skills[0].quiz_score == 90


@pytest.mark.parametrize("score", [-1, 101])
def test_save_skill_rejects_out_of_range(
    engine: Engine, people: People, score: float
) -> None:
    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="between 0 and 100"),
    ):
        save_skill(session, people.student, "SQL", score)


@pytest.mark.parametrize("role_name", ["officer", "staff", "admin"])
def test_only_students_save_skills(
    engine: Engine, people: People, role_name: str
) -> None:
    viewer = getattr(people, role_name)

    with session_scope(engine) as session, pytest.raises(AccessDenied):
        save_skill(session, viewer, "SQL", 40)

    assert count_entries(engine, "access_denied", viewer.user_id) == 1


def test_remove_other_students_skill_denied(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        other_skill = save_skill(session, people.other_student, "SQL", 40)

    with session_scope(engine) as session, pytest.raises(AccessDenied):
        remove_skill(session, people.student, other_skill)

    with session_scope(engine) as session:
        assert session.get(Skill, other_skill) is not None
    assert count_entries(engine, "access_denied", people.student.user_id) == 1


def test_remove_own_skill(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        skill_id = save_skill(session, people.student, "SQL", 40)
    with session_scope(engine) as session:
        remove_skill(session, people.student, skill_id)

    with session_scope(engine) as session:
        assert session.get(Skill, skill_id) is None


@pytest.mark.parametrize(
    ("role_name", "allowed"),
    [
        ("student", True),
        ("officer", True),
        ("admin", True),
        ("staff", False),
        ("other_student", False),
    ],
)
def test_list_skills_by_role(
    engine: Engine, people: People, role_name: str, allowed: bool
) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "SQL", 40)
    viewer = getattr(people, role_name)

    with session_scope(engine) as session:
        if allowed:
            skills = list_skills(session, viewer, people.student_id)
            assert [skill.name for skill in skills] == ["SQL"]
        else:
            with pytest.raises(AccessDenied):
                list_skills(session, viewer, people.student_id)

    denials = count_entries(engine, "access_denied", viewer.user_id)
    assert denials == (0 if allowed else 1)


def test_wellbeing_needs_consent(engine: Engine, people: People) -> None:
    with (
        session_scope(engine) as session,
        pytest.raises(PermissionError, match="opt in"),
    ):
        save_wellbeing_day(session, people.student, date(2026, 11, 1), 6, 2, 2, 8)

    with session_scope(engine) as session:
        assert session.scalar(select(func.count(DigitalWellbeing.id))) == 0


def test_withdrawal_deletes_only_own_rows(engine: Engine, people: People) -> None:
    _add_days(engine, people, "student", 3)
    _add_days(engine, people, "other_student", 4)

    with session_scope(engine) as session:
        deleted = withdraw_consent(session, people.student)

    assert deleted == 3
    with session_scope(engine) as session:
        remaining = session.scalars(select(DigitalWellbeing.student_id)).all()
    assert sorted(remaining) == [people.other_student_id] * 4
    assert count_entries(engine, "consent_withdrawn", people.student.user_id) == 1


def test_withdrawal_stops_collection(engine: Engine, people: People) -> None:
    _add_days(engine, people, "student", 1)
    with session_scope(engine) as session:
        withdraw_consent(session, people.student)

    with (
        session_scope(engine) as session,
        pytest.raises(PermissionError, match="opt in"),
    ):
        save_wellbeing_day(session, people.student, date(2026, 11, 9), 6, 2, 2, 8)


@pytest.mark.parametrize(
    ("role_name", "allowed"),
    [
        ("student", True),
        ("officer", True),
        ("admin", True),
        ("staff", False),
        ("other_student", False),
    ],
)
def test_list_wellbeing_by_role(
    engine: Engine, people: People, role_name: str, allowed: bool
) -> None:
    _add_days(engine, people, "student", 2)
    viewer = getattr(people, role_name)

    with session_scope(engine) as session:
        if allowed:
            days = list_wellbeing(session, viewer, people.student_id)
            assert len(days) == 2
        else:
            with pytest.raises(AccessDenied):
                list_wellbeing(session, viewer, people.student_id)

    denials = count_entries(engine, "access_denied", viewer.user_id)
    assert denials == (0 if allowed else 1)


def test_wellbeing_rejects_split_above_screen_time(
    engine: Engine, people: People
) -> None:
    with session_scope(engine) as session:
        grant_consent(session, people.student)
    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="exceed the screen time"),
    ):
        save_wellbeing_day(session, people.student, date(2026, 11, 1), 2, 2, 1, 8)


@pytest.mark.parametrize(
    ("screen", "social", "study", "sleep", "expected"),
    [
        (0.0, 0.0, 0.0, 8.0, 100.0),
        (4.0, 0.0, 4.0, 7.0, 100.0),
        (8.0, 8.0, 0.0, 8.0, 40.0),
        (6.0, 2.0, 3.0, 5.0, 0.4 * 70 + 0.4 * 75 + 0.2 * 50),
        (10.0, 10.0, 0.0, 0.0, 0.0),
    ],
)
def test_focus_score_formula(
    screen: float, social: float, study: float, sleep: float, expected: float
) -> None:
    assert focus_score(screen, social, study, sleep) == pytest.approx(expected)
