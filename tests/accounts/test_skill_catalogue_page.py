"""The skill catalogue page under AppTest: prefilled form, table, case rule."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from core.access import Viewer
from core.skill_catalogue import save_catalogue_entry
from core.student_data import save_skill
from db.models import Role, Skill, SkillCatalogueEntry
from db.session import session_scope
from tests.accounts.conftest import People
from tests.apptest import app_as
from tests.factories import make_viewer

LONG_NAME = "Distributed Systems Design for Large-Scale Cloud Platforms and Services"


def _catalogue(engine: Engine) -> Viewer:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
        save_catalogue_entry(
            session, admin, "Cloud Computing", 2.0, "Most roles run on cloud."
        )
        save_catalogue_entry(session, admin, LONG_NAME, 0.5, "Few postings.")
        return admin


def _entry(engine: Engine, name: str) -> tuple[float, str]:
    with session_scope(engine) as session:
        entry = session.scalars(
            select(SkillCatalogueEntry).where(SkillCatalogueEntry.name == name)
        ).one()
        return entry.market_weight, entry.reasoning


def test_choosing_skill_prefills_form(engine: Engine) -> None:
    admin = _catalogue(engine)
    app = app_as(admin, "skill_catalogue.py")

    app.selectbox[0].select("Cloud Computing").run()

    assert not app.exception
    assert app.text_input[0].value == "Cloud Computing"
    assert app.radio[0].value == 2.0
    assert app.text_area[0].value == "Most roles run on cloud."


def test_saving_unchanged_keeps_weight(engine: Engine) -> None:
    admin = _catalogue(engine)
    app = app_as(admin, "skill_catalogue.py")

    app.selectbox[0].select("Cloud Computing").run()
    app.button[0].click().run()

    assert not app.exception
    assert "at weight 2.0" in app.success[0].value
    assert _entry(engine, "Cloud Computing") == (2.0, "Most roles run on cloud.")


def test_new_skill_starts_at_normal(engine: Engine) -> None:
    admin = _catalogue(engine)
    app = app_as(admin, "skill_catalogue.py")

    app.selectbox[0].select("Cloud Computing").run()
    app.selectbox[0].select("New skill").run()

    assert app.text_input[0].value == ""
    assert app.radio[0].value == 1.0
    assert app.text_area[0].value == ""


def test_weight_change_reaches_other_case(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_catalogue_entry(session, people.admin, "Python", 2.0, "Many postings.")
    with session_scope(engine) as session:
        save_skill(session, people.student, "python", 70)
    app = app_as(people.admin, "skill_catalogue.py")

    assert not any("python" in caption.value for caption in app.caption)
    app.selectbox[0].select("Python").run()
    app.radio[0].set_value(0.5)
    app.text_area[0].input("Fewer postings.")
    app.button[0].click().run()

    assert not app.exception
    assert "1 student skills updated" in app.success[0].value
    with session_scope(engine) as session:
        skill = session.scalars(select(Skill)).one()
        assert (skill.market_weight, skill.weight_reasoning) == (
            0.5,
            "Fewer postings.",
        )


def test_table_has_readable_columns(engine: Engine) -> None:
    admin = _catalogue(engine)
    app = app_as(admin, "skill_catalogue.py")

    table = app.dataframe[0]
    columns = json.loads(table.proto.columns)
    # "_index" is the hidden index column.
    labels = {
        name: config.get("label")
        for name, config in columns.items()
        if name != "_index"
    }

    assert labels == {
        "name": "Skill",
        "market_weight": "Market weight",
        "reasoning": "Reasoning",
        "students": "Student skills",
        "updated_at": "Last changed (UTC)",
    }
    weights = dict(zip(table.value["name"], table.value["market_weight"], strict=True))
    assert weights == {
        "Cloud Computing": "2.0 (high demand)",
        LONG_NAME: "0.5 (low demand)",
    }


def test_table_fits_long_names(engine: Engine) -> None:
    admin = _catalogue(engine)
    app = app_as(admin, "skill_catalogue.py")

    columns = json.loads(app.dataframe[0].proto.columns)
    width = columns["name"]["width"]

    assert isinstance(width, int)
    # About 7 px per character of the default font, as an estimate.
    assert width >= len(LONG_NAME) * 7
