"""The trajectory, skill catalogue and engine pages under AppTest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from core.engine.service import rescore_students
from dashboard.navigation import pages_for
from db.models import AuditEntry, EngineRun, Recommendation, Role, Student
from db.session import session_scope
from tests.apptest import app_as
from tests.engine.helpers import add_ladder
from tests.factories import make_student, make_viewer


def _students(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 30)
        own = make_student(session, name="Asha Rao", gpa=6.0, attendance=72.0)
        other = make_student(session, name="Vikram Sen", gpa=9.0)
        return own.id, other.id


def test_student_sees_only_own_trajectory(engine: Engine) -> None:
    own_id, _ = _students(engine)
    rescore_students(engine, now=datetime(2026, 11, 1, tzinfo=UTC))
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.STUDENT, session.get(Student, own_id))

    app = app_as(viewer, "trajectory.py")

    assert not app.exception
    assert len(app.selectbox) == 0
    assert "Asha Rao" in app.caption[0].value
    assert not any("Vikram Sen" in caption.value for caption in app.caption)
    assert app.metric[0].label == "Score"
    assert len(app.checkbox) >= 1


def test_student_ticks_recommendation(engine: Engine) -> None:
    own_id, _ = _students(engine)
    rescore_students(engine, now=datetime(2026, 11, 1, tzinfo=UTC))
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.STUDENT, session.get(Student, own_id))
    app = app_as(viewer, "trajectory.py")

    app.checkbox[0].check().run()

    assert not app.exception
    with session_scope(engine) as session:
        done = session.scalar(
            select(func.count(Recommendation.id)).where(Recommendation.completed)
        )
        assert done == 1


def test_officer_picks_any_student(engine: Engine) -> None:
    _, other_id = _students(engine)
    rescore_students(engine)
    with session_scope(engine) as session:
        officer = make_viewer(session, Role.OFFICER)

    app = app_as(officer, "trajectory.py")
    app.selectbox[0].select(other_id).run()

    assert not app.exception
    assert "Vikram Sen" in app.caption[0].value
    assert app.checkbox[0].disabled if len(app.checkbox) else True


def test_officer_selector_starts_empty(engine: Engine) -> None:
    _, other_id = _students(engine)
    rescore_students(engine)
    with session_scope(engine) as session:
        officer = make_viewer(session, Role.OFFICER)

    app = app_as(officer, "trajectory.py")

    assert not app.exception
    assert app.selectbox[0].value is None
    assert app.selectbox[0].placeholder == "Choose a student"
    assert "Choose a student" in app.info[0].value
    assert len(app.metric) == 0
    assert _trajectory_views(engine) == 0

    app.selectbox[0].select(other_id).run()

    assert not app.exception
    assert _trajectory_views(engine) == 1


def _trajectory_views(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(
            session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "view_trajectory"
                )
            )
            or 0
        )


def test_menu_order_per_role() -> None:
    officer_pages = [spec.file_name for spec in pages_for(Role.OFFICER)]
    admin_pages = [spec.file_name for spec in pages_for(Role.ADMIN)]
    student_pages = [spec.file_name for spec in pages_for(Role.STUDENT)]

    assert officer_pages[:2] == ["cohort.py", "trajectory.py"]
    assert admin_pages[:2] == ["cohort.py", "trajectory.py"]
    assert student_pages[0] == "trajectory.py"


def test_trajectory_empty_before_scoring(engine: Engine) -> None:
    with session_scope(engine) as session:
        student = make_student(session)
        viewer = make_viewer(session, Role.STUDENT, student)

    app = app_as(viewer, "trajectory.py")

    assert not app.exception
    assert "No trajectory yet" in app.info[0].value


def test_abstention_is_shown_plainly(engine: Engine) -> None:
    with session_scope(engine) as session:
        student = make_student(session, major="Astronomy")
        viewer = make_viewer(session, Role.STUDENT, student)
    rescore_students(engine)

    app = app_as(viewer, "trajectory.py")

    assert not app.exception
    assert "not enough comparable alumni" in app.warning[0].value
    assert len(app.metric) == 0


def test_engine_page_rescores_and_backtests(engine: Engine) -> None:
    _students(engine)
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)

    app = app_as(admin, "engine.py")
    assert not app.exception
    assert "No backtest yet" in app.info[0].value
    app.button[0].click().run()
    app.button[1].click().run()

    assert not app.exception
    with session_scope(engine) as session:
        kinds = set(session.scalars(select(EngineRun.kind)))
        assert kinds == {"rescore", "backtest"}
    assert len(app.dataframe) >= 3


def test_skill_catalogue_saves_weight(engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)

    app = app_as(admin, "skill_catalogue.py")
    assert not app.exception
    assert "catalogue is empty" in app.info[0].value
    app.text_input[0].input("Kubernetes")
    app.radio[0].set_value(2.0)
    app.text_area[0].input("Most cloud roles list it.")
    app.button[0].click().run()

    assert not app.exception
    assert "Saved 'Kubernetes' at weight 2.0" in app.success[0].value


def test_page_shows_change_after_rescoring(engine: Engine) -> None:
    own_id, _ = _students(engine)
    rescore_students(engine, now=datetime(2026, 11, 1, tzinfo=UTC))
    with session_scope(engine) as session:
        student = session.get(Student, own_id)
        assert student is not None
        student.gpa = 8.5
        viewer = make_viewer(session, Role.STUDENT, student)
    rescore_students(engine, now=datetime(2026, 11, 15, tzinfo=UTC))

    app = app_as(viewer, "trajectory.py")

    assert not app.exception
    assert "Since the score of 2026-11-01" in app.info[0].value
    assert "+" in app.info[0].value
    assert app.metric[0].delta is not None


def test_page_acknowledges_completed_gap(engine: Engine) -> None:
    own_id, _ = _students(engine)
    rescore_students(engine, now=datetime(2026, 11, 1, tzinfo=UTC))
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.STUDENT, session.get(Student, own_id))
    app = app_as(viewer, "trajectory.py")
    app.checkbox[0].check().run()
    rescore_students(engine, now=datetime.now(UTC) + timedelta(days=15))

    app = app_as(viewer, "trajectory.py")

    assert not app.exception
    assert "Completed meanwhile" in app.info[0].value
    assert not app.checkbox[0].value
    marked = [c.value for c in app.caption if c.value.startswith("Marked completed")]
    assert len(marked) == 1


def test_headline_interval_stays_in_scale(engine: Engine) -> None:
    _, other_id = _students(engine)
    rescore_students(engine)
    with session_scope(engine) as session:
        viewer = make_viewer(session, Role.STUDENT, session.get(Student, other_id))

    app = app_as(viewer, "trajectory.py")

    assert not app.exception
    headline = app.metric[0].value
    assert "±" not in headline
    low, high = headline.split("(")[1].rstrip(")").split("-")
    assert 0 <= int(low) <= int(high) <= 100
    captions = [caption.value for caption in app.caption]
    assert any("closest shown" in caption for caption in captions)
    texts = [block.value for block in app.markdown]
    assert not any("+0.0 points" in text for text in texts)


def test_engine_tables_use_human_labels(engine: Engine) -> None:
    _students(engine)
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
    app = app_as(admin, "engine.py")
    app.button[0].click().run()
    app.button[1].click().run()

    labels = set()
    for table in app.dataframe:
        for column in json.loads(table.proto.columns or "{}").values():
            labels.add(column.get("label"))

    assert not app.exception
    assert "Placed rate" in labels
    assert "Started at" in labels
    assert "Duration (s)" in labels


def test_engine_page_metric_formats(engine: Engine) -> None:
    _students(engine)
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
    app = app_as(admin, "engine.py")
    app.button[1].click().run()

    tables = []
    for table in app.dataframe:
        columns = json.loads(table.proto.columns or "{}").values()
        tables.append(
            {
                column.get("label"): column.get("type_config", {}).get("format")
                for column in columns
            }
        )
    metrics = next(table for table in tables if "Model" in table)

    assert not app.exception
    assert metrics["AUC"] == "%.3f"
    assert metrics["Brier score"] == "%.3f"


def test_engine_page_caption_is_sentence(engine: Engine) -> None:
    _students(engine)
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
    app = app_as(admin, "engine.py")
    app.button[1].click().run()

    captions = [caption.value for caption in app.caption]

    assert not app.exception
    assert any(
        "alumni (5-fold cross-validation), with the features rescoring uses: "
        "GPA, Attendance, Internships." in caption
        for caption in captions
    )


def test_engine_page_too_few_alumni(engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
    app = app_as(admin, "engine.py")
    app.button[1].click().run()

    captions = [caption.value for caption in app.caption]

    assert not app.exception
    assert any(
        "evaluated nothing, because there are 0 alumni and a backtest needs at "
        "least 10." in caption
        for caption in captions
    )


def test_rescore_without_students_hints(engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
    app = app_as(admin, "engine.py")
    app.button[0].click().run()

    assert not app.exception
    assert "Import a roster" in app.warning[0].value
