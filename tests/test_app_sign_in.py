"""The app's entry point: first run, sign-in and the pages given to each role."""

from __future__ import annotations

from sqlalchemy import Engine, select

from db.models import Role, User
from db.session import session_scope
from tests.apptest import app_as
from tests.factories import TEST_PASSWORD, make_viewer


def test_first_run_creates_admin(engine: Engine) -> None:
    app = app_as(None)
    assert "No admin account exists yet" in app.info[0].value

    app.text_input[0].input("head")
    app.text_input[1].input("long enough password")
    app.text_input[2].input("long enough password")
    app.button[0].click().run()

    with session_scope(engine) as session:
        admin = session.scalars(select(User)).one()
        assert admin.role is Role.ADMIN
        assert admin.password_hash.startswith("$argon2id$")


def test_sign_in_failure_messages_match(engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)

    app = app_as(None)
    app.text_input[0].input(admin.username)
    app.text_input[1].input("wrong password")
    app.button[0].click().run()
    wrong_password_message = app.error[0].value

    app = app_as(None)
    app.text_input[0].input("nobody")
    app.text_input[1].input("wrong password")
    app.button[0].click().run()
    assert app.error[0].value == wrong_password_message


def test_sign_in_success_sets_viewer(engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)

    app = app_as(None)
    app.text_input[0].input(admin.username)
    app.text_input[1].input(TEST_PASSWORD)
    app.button[0].click().run()

    assert app.session_state["viewer"].username == admin.username
