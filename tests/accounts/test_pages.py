"""The account and privacy pages under AppTest, per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from core import sessions
from core.accounts import set_active
from core.settings import PROJECT_ROOT
from core.student_data import grant_consent, save_skill
from db.models import (
    AuditEntry,
    CorrectionRequest,
    CorrectionStatus,
    DigitalWellbeing,
    Skill,
    UserSession,
    WellbeingConsent,
)
from db.session import session_scope
from db.types import utcnow
from tests.accounts.conftest import People
from tests.apptest import app_as
from tests.factories import TEST_PASSWORD

NOT_IN_NAVIGATION = "Could not find a navigation page"


def _all_text(app: AppTest) -> str:
    """Return the visible text, tables and choices of a finished AppTest run."""
    parts: list[str] = []
    for elements in (
        app.title,
        app.subheader,
        app.markdown,
        app.caption,
        app.text,
        app.success,
        app.info,
        app.warning,
        app.error,
        app.code,
    ):
        parts.extend(str(element.value) for element in elements)
    parts.extend(frame.value.to_string() for frame in app.dataframe)
    for widget in (*app.selectbox, *app.radio):
        parts.extend(str(option) for option in widget.options)
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("skills.py", "My skills"),
        ("wellbeing.py", "Wellbeing"),
        ("my_data.py", "My data"),
        ("account.py", "Account"),
    ],
)
def test_student_opens_own_pages(
    engine: Engine, people: People, page: str, title: str
) -> None:
    app = app_as(people.student, page)

    assert not app.exception
    assert app.title[0].value == title


@pytest.mark.parametrize(
    ("role_name", "page"),
    [
        ("student", "users.py"),
        ("student", "audit_log.py"),
        ("student", "corrections.py"),
        ("staff", "wellbeing.py"),
        ("staff", "my_data.py"),
        ("staff", "corrections.py"),
        ("officer", "users.py"),
        ("officer", "skills.py"),
        ("admin", "wellbeing.py"),
    ],
)
def test_page_absent_from_navigation(
    engine: Engine, people: People, role_name: str, page: str
) -> None:
    with pytest.raises(ValueError, match=NOT_IN_NAVIGATION):
        app_as(getattr(people, role_name), page)


@pytest.mark.parametrize(
    ("role_name", "page", "title"),
    [
        ("admin", "users.py", "Users"),
        ("admin", "audit_log.py", "Audit log"),
        ("admin", "corrections.py", "Correction requests"),
        ("officer", "corrections.py", "Correction requests"),
        ("staff", "account.py", "Account"),
    ],
)
def test_staff_roles_open_their_pages(
    engine: Engine, people: People, role_name: str, page: str, title: str
) -> None:
    app = app_as(getattr(people, role_name), page)

    assert not app.exception
    assert app.title[0].value == title


def test_skills_survive_page_switch(engine: Engine, people: People) -> None:
    app = app_as(people.student, "skills.py")
    app.text_input(key="skill_name_new").input("Data visualisation")
    app.slider(key="skill_proficiency_new").set_value(65)
    app.button[0].click().run()
    assert app.success[0].value == "Saved Data visualisation."

    app.switch_page("../pages/wellbeing.py").run()
    assert app.title[0].value == "Wellbeing"
    app.switch_page("../pages/skills.py").run()

    table = app.dataframe[0].value
    assert table["Skill"].tolist() == ["Data visualisation"]
    assert table["Proficiency"].tolist() == [65]


def test_edit_form_shows_chosen_skill(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        skill_id = save_skill(session, people.student, "SQL", 40, 55)

    app = app_as(people.student, "skills.py")
    app.selectbox(key="skill_choice").set_value("SQL").run()

    assert app.text_input(key=f"skill_name_{skill_id}").value == "SQL"
    assert app.slider(key=f"skill_proficiency_{skill_id}").value == 40
    app.slider(key=f"skill_proficiency_{skill_id}").set_value(75)
    app.button[0].click().run()
    with session_scope(engine) as session:
        skill = session.get(Skill, skill_id)
        assert skill is not None
        assert skill.proficiency == 75
        assert skill.quiz_score == 55


def test_tampered_widget_cannot_remove_other_skill(
    engine: Engine, people: People
) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "SQL", 40)
        foreign_id = save_skill(session, people.other_student, "Secret skill", 90)

    app = app_as(people.student, "skills.py")
    assert "Secret skill" not in _all_text(app)
    assert app.selectbox(key="skill_remove").options == ["SQL"]

    # A value outside the options is rejected by the widget before any removal.
    with pytest.raises(ValueError, match="not in list"):
        app.selectbox(key="skill_remove").set_value("Secret skill").run()

    with session_scope(engine) as session:
        assert session.get(Skill, foreign_id) is not None


def test_query_parameter_cannot_select_student(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.other_student, "Secret skill", 90)

    app = app_as(people.student, "my_data.py")
    app.query_params["student_id"] = str(people.other_student_id)
    app.run()

    text = _all_text(app)
    assert "Secret skill" not in text
    assert people.other_student.username not in text


def test_wellbeing_opt_in_then_withdraw(engine: Engine, people: People) -> None:
    app = app_as(people.student, "wellbeing.py")
    assert app.button[0].disabled
    app.checkbox(key="consent_agree").check().run()
    app.button[0].click().run()
    assert "opted in" in app.success[0].value

    app.button[0].click().run()  # the "Save day" form button with its defaults
    assert "focus score" in app.success[0].value
    with session_scope(engine) as session:
        rows = session.scalars(select(DigitalWellbeing)).all()
        assert [row.student_id for row in rows] == [people.student_id]

    app.button(key="withdraw").click().run()
    assert "1 wellbeing rows deleted" in app.success[0].value
    with session_scope(engine) as session:
        assert session.scalars(select(DigitalWellbeing)).all() == []
        consent = session.scalars(select(WellbeingConsent)).one()
        assert consent.withdrawn_at is not None


def test_my_data_lists_own_record(engine: Engine, people: People) -> None:
    with session_scope(engine) as session:
        save_skill(session, people.student, "SQL", 40)
        grant_consent(session, people.student)

    app = app_as(people.student, "my_data.py")
    app.radio(key="format").set_value("xlsx").run()

    text = _all_text(app)
    assert "SQL" in text
    assert people.student.username in text
    with session_scope(engine) as session:
        viewed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record_viewed")
        ).all()
        assert [entry.target_id for entry in viewed] == [str(people.student_id)]


def test_correction_request_reaches_officer(engine: Engine, people: People) -> None:
    app = app_as(people.student, "my_data.py")
    app.selectbox[0].set_value("attendance")
    app.text_input[0].input("91")
    app.button[1].click().run()
    assert "Correction requested" in app.success[0].value

    officer_app = app_as(people.officer, "corrections.py")
    officer_app.button[0].click().run()

    assert "resolved" in officer_app.success[0].value
    with session_scope(engine) as session:
        request = session.scalars(select(CorrectionRequest)).one()
        assert request.status is CorrectionStatus.RESOLVED


def test_users_page_shows_one_time_password(engine: Engine, people: People) -> None:
    app = app_as(people.admin, "users.py")
    app.text_input[0].input("new-officer")
    app.button[0].click().run()

    assert app.success[0].value == "Created new-officer."
    password = app.code[0].value
    assert len(password) == 12
    app.run()
    assert len(app.code) == 0


def test_audit_log_page_lists_entries(engine: Engine, people: People) -> None:
    app_as(people.student, "my_data.py")

    app = app_as(people.admin, "audit_log.py")

    table = app.dataframe[0].value
    assert "record_viewed" in table["action"].tolist()


def test_sign_in_then_sign_out_revokes_session(engine: Engine, people: People) -> None:
    app = app_as(None)
    app.text_input[0].input(people.officer.username)
    app.text_input[1].input(TEST_PASSWORD)
    app.button[0].click().run()
    assert app.session_state["viewer"].username == people.officer.username

    app.switch_page("../pages/account.py").run()
    sign_out = next(button for button in app.button if button.label == "Sign out")
    sign_out.click().run()

    assert "viewer" not in app.session_state
    assert app.info[0].value == "You are signed out."
    with session_scope(engine) as session:
        session_row = session.scalars(select(UserSession)).one()
        assert session_row.revoked_at is not None


def test_one_time_password_limits_pages(engine: Engine, people: People) -> None:
    app = app_as(None)
    app.session_state["viewer"] = people.student
    app.session_state["must_change_password"] = True
    app.run()
    assert app.title[0].value == "Account"
    with pytest.raises(ValueError, match=NOT_IN_NAVIGATION):
        app.switch_page("../pages/skills.py")

    app.text_input[0].input(TEST_PASSWORD)
    app.text_input[1].input("my own new password")
    app.text_input[2].input("my own new password")
    app.button[0].click().run()

    assert app.success[0].value == "Password changed."
    app.switch_page("../pages/skills.py").run()
    assert app.title[0].value == "My skills"


def _signed_in_app(people: People) -> AppTest:
    app = app_as(None)
    app.text_input[0].input(people.officer.username)
    app.text_input[1].input(TEST_PASSWORD)
    app.button[0].click().run()
    assert app.session_state["viewer"].username == people.officer.username
    return app


def test_idle_session_signs_out_at_next_run(
    engine: Engine, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAJECTORY_SESSION_IDLE_MINUTES", "10")
    app = _signed_in_app(people)
    with session_scope(engine) as session:
        row = session.scalars(select(UserSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=11)

    app.run()

    assert "viewer" not in app.session_state
    assert app.info[0].value == "Your session has ended. Sign in again."


def test_deactivation_signs_out_open_session(engine: Engine, people: People) -> None:
    app = _signed_in_app(people)
    with session_scope(engine) as session:
        set_active(session, people.admin, people.officer.user_id, False)

    app.run()

    assert "viewer" not in app.session_state
    assert app.button[0].label == "Sign in"


def test_audit_log_export_is_audited(engine: Engine, people: People) -> None:
    app_as(people.student, "my_data.py")
    app = app_as(people.admin, "audit_log.py")

    next(b for b in app.button if b.label == "Prepare CSV export").click().run()

    assert not app.exception
    with session_scope(engine) as session:
        exported = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "audit_log_exported")
        ).one()
        assert exported.actor_user_id == people.admin.user_id
        assert exported.detail["rows"] >= 1


def test_password_change_ends_other_sessions(engine: Engine, people: People) -> None:
    app = _signed_in_app(people)
    with session_scope(engine) as session:
        other_device = sessions.start(session, people.officer)

    app.switch_page("../pages/account.py").run()
    app.text_input[0].input(TEST_PASSWORD)
    app.text_input[1].input("a brand new password")
    app.text_input[2].input("a brand new password")
    app.button[0].click().run()

    assert app.success[0].value == "Password changed."
    assert app.session_state["viewer"].username == people.officer.username
    with session_scope(engine) as session:
        assert sessions.resume(session, other_device) is None


@pytest.mark.parametrize(
    ("role_name", "page"),
    [
        ("student", "users.py"),
        ("student", "audit_log.py"),
        ("officer", "skills.py"),
        ("staff", "wellbeing.py"),
        ("staff", "corrections.py"),
    ],
)
def test_page_run_directly_rejects_role(
    engine: Engine, people: People, role_name: str, page: str
) -> None:
    # The second line of defence: a page script run outside the navigation.
    viewer = getattr(people, role_name)
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / page), default_timeout=60)
    app.session_state["viewer"] = viewer
    app.run()

    assert app.error[0].value == "Your role does not give access to this page."
    assert len(app.title) == 0
    with session_scope(engine) as session:
        denial = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access_denied")
        ).one()
        assert denial.actor_user_id == viewer.user_id
