"""The cohort overview page under AppTest, as each role."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from core.access import Viewer
from core.settings import PROJECT_ROOT
from dashboard.guard import VIEWER_KEY
from db.models import PredictedOutcome, Role, Student, Trend
from db.session import session_scope
from tests.apptest import TIMEOUT_SECONDS, app_as, clear_streamlit_caches
from tests.cohort.scores import add_score
from tests.factories import make_student, make_viewer


def _officer_with_cohort(engine: Engine) -> Viewer:
    with session_scope(engine) as session:
        officer = make_viewer(session, Role.OFFICER)
        strong = make_student(session, roll_number="CS01", name="Strong")
        add_score(session, strong, 7, 80.0)
        add_score(
            session,
            strong,
            0,
            85.0,
            trend=Trend.IMPROVING,
            velocity=21.4,
            tier=PredictedOutcome.TIER1,
        )
        weak = make_student(
            session, roll_number="ME01", name="Weak", major="Mechanical"
        )
        add_score(
            session,
            weak,
            0,
            25.0,
            trend=Trend.DECLINING,
            velocity=-8.0,
            tier=PredictedOutcome.NOT_PLACED,
        )
        make_student(
            session,
            roll_number="CV01",
            name="Unscored",
            major="Civil",
            expected_graduation_year=2028,
        )
    return officer


def test_cohort_page_as_officer_shows_charts_and_list(engine: Engine) -> None:
    app = app_as(_officer_with_cohort(engine), "cohort.py")

    assert not app.exception
    assert app.title[0].value == "Cohort overview"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {
        "Students": "3",
        "Scored": "2",
        "At risk": "1",
        "Without a score": "1",
    }
    assert len(app.get("plotly_chart")) == 3
    risk_list = app.dataframe[0].value
    assert list(risk_list["name"]) == ["Unscored", "Weak", "Strong"]
    assert list(risk_list["risk"]) == ["not assessed", "at risk", "on track"]
    assert risk_list["score"].iloc[2] == 85.0
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == [
        "Export list (CSV)",
        "Export list (XLSX)",
        "Export tier summary (CSV)",
    ]


def test_cohort_page_filter_matching_nobody_shows_empty_state(engine: Engine) -> None:
    app = app_as(_officer_with_cohort(engine), "cohort.py")

    major, year, _ = app.multiselect
    major.select("Civil")
    year.select(2027)
    app.run()

    assert not app.exception
    assert "No students match this filter" in app.info[0].value
    assert len(app.get("plotly_chart")) == 0
    assert len(app.dataframe) == 0


def test_cohort_page_unscored_filter_shows_chart_empty_states(engine: Engine) -> None:
    app = app_as(_officer_with_cohort(engine), "cohort.py")

    app.multiselect[0].select("Civil").run()

    assert not app.exception
    messages = [info.value for info in app.info]
    assert any("has a score yet" in message for message in messages)
    assert any("No trend yet" in message for message in messages)
    assert len(app.dataframe[0].value) == 1


def test_cohort_page_without_students_says_so(engine: Engine) -> None:
    with session_scope(engine) as session:
        officer = make_viewer(session, Role.OFFICER)

    app = app_as(officer, "cohort.py")

    assert not app.exception
    assert "No students yet" in app.info[0].value


@pytest.mark.parametrize("role", [Role.STAFF, Role.STUDENT])
def test_cohort_page_absent_from_navigation(engine: Engine, role: Role) -> None:
    with session_scope(engine) as session:
        student = make_student(session)
        viewer = make_viewer(session, role, student if role is Role.STUDENT else None)

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_as(viewer, "cohort.py")


@pytest.mark.parametrize("role", [Role.STAFF, Role.STUDENT])
def test_cohort_page_run_directly_stops_other_roles(engine: Engine, role: Role) -> None:
    with session_scope(engine) as session:
        student = make_student(session)
        add_score(session, student, 0, 50.0)
        viewer = make_viewer(session, role, student if role is Role.STUDENT else None)

    clear_streamlit_caches()
    app = AppTest.from_file(
        str(PROJECT_ROOT / "pages" / "cohort.py"), default_timeout=TIMEOUT_SECONDS
    )
    app.session_state[VIEWER_KEY] = viewer
    app.run()

    assert not app.exception
    assert "does not give access" in app.error[0].value
    assert len(app.dataframe) == 0


def test_cohort_page_selected_row_opens_trajectory(engine: Engine) -> None:
    app = app_as(_officer_with_cohort(engine), "cohort.py")
    assert len(app.button) == 0

    # AppTest cannot click a table row, so the selection state is set directly.
    app.session_state["risk_list"] = {
        "selection": {"rows": [1], "columns": [], "cells": []}
    }
    app.run()
    assert app.button[0].label == "Open the trajectory of Weak"
    app.button[0].click().run()

    assert not app.exception
    assert app.title[0].value == "Trajectory"
    with session_scope(engine) as session:
        weak = session.scalars(select(Student).where(Student.name == "Weak")).one()
    assert app.selectbox(key="trajectory_student").value == weak.id
