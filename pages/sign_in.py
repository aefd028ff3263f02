"""Sign-in page, which first creates the admin account on a new installation."""

from __future__ import annotations

import streamlit as st

from core.auth import SignInError, create_user, has_admin, sign_in
from dashboard.guard import NOTICE_KEY, begin_session
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope


def _first_run_form() -> None:
    st.info("No admin account exists yet. Create the first one to start.")
    with st.form("first_admin"):
        username = st.text_input("Admin user name")
        password = st.text_input("Password", type="password")
        repeat = st.text_input("Repeat password", type="password")
        submitted = st.form_submit_button("Create admin account", type="primary")
    if not submitted:
        return
    if password != repeat:
        st.error("The two passwords differ: type the same password twice.")
        return
    try:
        with write_scope(app_engine()) as session:
            if has_admin(session):
                st.error("An admin account was created meanwhile: sign in instead.")
                return
            create_user(session, username, password, Role.ADMIN)
    except ValueError as error:
        st.error(str(error))
        return
    st.success("Admin account created. Sign in below.")
    st.rerun()


def _sign_in_form() -> None:
    with st.form("sign_in"):
        username = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    try:
        result = sign_in(app_engine(), username, password)
    except SignInError as error:
        st.error(str(error))
        return
    assert result.viewer is not None  # sign_in raises when there is no viewer
    begin_session(result.viewer, result.must_change_password)
    st.rerun()


st.title("Trajectory")
st.caption("Placement trajectories for every student, learned from your alumni.")
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.info(notice)
with session_scope(app_engine()) as session:
    needs_admin = not has_admin(session)
if needs_admin:
    _first_run_form()
else:
    _sign_in_form()
