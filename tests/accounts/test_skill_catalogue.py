"""Skill catalogue: one case-insensitive name rule for lookups and updates."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, select

from core.access import AccessDenied
from core.engine.data import load_skills
from core.skill_catalogue import (
    save_catalogue_entry,
    skill_catalogue,
    skill_key,
    uncatalogued_skills,
)
from core.student_data import list_skills, save_skill
from db.models import AuditEntry, Skill, SkillCatalogueEntry
from db.session import session_scope
from tests.accounts.conftest import People, count_entries


def _skill_weights(engine: Engine, student_id: int) -> dict[str, tuple[float, str]]:
    with session_scope(engine) as session:
        skills = session.scalars(select(Skill).where(Skill.student_id == student_id))
        return {
            skill.name: (skill.market_weight, skill.weight_reasoning)
            for skill in skills
        }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Python", "python"),
        ("  PYTHON ", "python"),
        ("Straße", "strasse"),
        ("Cafe\u0301", "café"),
        ("CAFÉ", "café"),
    ],
)
def test_skill_key_trims_and_casefolds(name: str, expected: str) -> None:
    assert skill_key(name) == expected


def test_weight_change_reaches_other_case(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, "Python", 2.0, "Many postings.")
    with session_scope(engine) as session:
        save_skill(session, people.student, "python", 70)
        save_skill(session, people.other_student, " PYTHON ", 60)

    with session_scope(engine) as session:
        applied = save_catalogue_entry(
            session, people.admin, "Python", 0.5, "Fewer postings."
        )

    assert applied == 2
    assert _skill_weights(engine, people.student_id) == {
        "python": (0.5, "Fewer postings.")
    }
    assert _skill_weights(engine, people.other_student_id) == {
        "PYTHON": (0.5, "Fewer postings.")
    }


def test_other_case_updates_one_entry(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, "Python", 2.0, "Many postings.")
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, " python ", 0.5, "Fewer.")

    with session_scope(engine) as session:
        entries = session.scalars(select(SkillCatalogueEntry)).all()
        assert len(entries) == 1
        assert entries[0].name == "python"
        assert entries[0].market_weight == 0.5
    assert count_entries(engine, "market_weight_change") == 2


def test_save_merges_case_duplicates(engine: Engine, people: People) -> None:
    # Entries saved before names matched without regard to case.
    with session_scope(engine) as session:
        session.add(SkillCatalogueEntry(name="SQL", market_weight=2.0, reasoning="a"))
        session.add(SkillCatalogueEntry(name="sql", market_weight=0.5, reasoning="b"))

    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, "Sql", 1.0, "Common.")

    with session_scope(engine) as session:
        entries = session.scalars(select(SkillCatalogueEntry)).all()
        assert [(entry.name, entry.market_weight) for entry in entries] == [
            ("Sql", 1.0)
        ]


def test_listing_counts_skills_of_any_case(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, "Python", 2.0, "Many postings.")
    with session_scope(engine) as session:
        save_skill(session, people.student, "python", 70)
        save_skill(session, people.other_student, "Python", 60)
        save_skill(session, people.other_student, "Origami", 30)
        save_skill(session, people.student, "origami", 30)

    with session_scope(engine) as session:
        frame = skill_catalogue(session, people.admin)
        missing = uncatalogued_skills(session, people.admin)

    assert frame.set_index("name")["students"].to_dict() == {"Python": 2}
    assert missing == ["Origami"]


def test_non_ascii_names_match(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, "Éthique", 2.0, "Asked often.")
    with session_scope(engine) as session:
        save_skill(session, people.student, "éthique", 50)

    with session_scope(engine) as session:
        skills = list_skills(session, people.student, people.student_id)
        missing = uncatalogued_skills(session, people.admin)

    assert [skill.market_weight for skill in skills] == [2.0]
    assert missing == []


def test_engine_joins_catalogue_without_case(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        session.add(
            Skill(
                student_id=people.student_id,
                name="python",
                proficiency=50,
                market_weight=1.0,
            )
        )
        session.add(
            SkillCatalogueEntry(name="Python", market_weight=2.0, reasoning="demand")
        )

    with engine.connect() as connection:
        frame = load_skills(connection, np.array([people.student_id]))

    assert frame["market_weight"].tolist() == [2.0]


@pytest.mark.parametrize("role_name", ["student", "officer", "staff"])
def test_only_admins_change_weights(
    engine: Engine, people: People, role_name: str
) -> None:
    with session_scope(engine) as session, pytest.raises(AccessDenied):
        save_catalogue_entry(session, getattr(people, role_name), "SQL", 2.0, "why")


@pytest.mark.parametrize(
    ("name", "weight", "reasoning", "message"),
    [
        (" ", 1.0, "why", "skill name is empty"),
        ("SQL", 3.0, "why", "market weight 3.0 is invalid"),
        ("SQL", 1.0, " ", "reasoning is empty"),
        ("S" * 121, 1.0, "why", "has 121 characters"),
    ],
)
def test_save_rejects_invalid_entry(
    engine: Engine,
    people: People,
    name: str,
    weight: float,
    reasoning: str,
    message: str,
) -> None:
    with session_scope(engine) as session, pytest.raises(ValueError, match=message):
        save_catalogue_entry(session, people.admin, name, weight, reasoning)


def test_long_name_audited_by_entry_id(engine: Engine, people: People) -> None:
    name = "Skill " + "x" * 110
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, name, 2.0, "Asked often.")

    with session_scope(engine) as session:
        entry_id = session.scalars(select(SkillCatalogueEntry.id)).one()
        audit_entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "market_weight_change")
        ).one()
        assert audit_entry.target_id == str(entry_id)
        assert audit_entry.detail["name"] == name
