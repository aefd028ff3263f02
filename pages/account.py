"""Account page: change the password and sign out."""

from __future__ import annotations

import streamlit as st

from core.auth import change_password
from dashboard.guard import (
    MUST_CHANGE_PASSWORD_KEY,
    end_session,
    needs_password_change,
    renew_session,
    require_viewer,
)
from dashboard.resources import app_engine
from db.session import write_scope

CHANGED_KEY = "password_changed_notice"

viewer = require_viewer()

st.title("Account")
st.write(f"Signed in as **{viewer.username}** ({viewer.role.value}).")
if st.session_state.pop(CHANGED_KEY, False):
    st.success("Password changed.")
if needs_password_change():
    st.warning(
        "You signed in with a one-time password. Choose your own password to "
        "open the rest of Trajectory."
    )

with st.form("change_password", clear_on_submit=True):
    st.subheader("Change password")
    current = st.text_input("Current password", type="password")
    new = st.text_input("New password", type="password")
    repeat = st.text_input("Repeat new password", type="password")
    submitted = st.form_submit_button("Change password", type="primary")

if submitted:
    if new != repeat:
        st.error("The two new passwords differ: type the same password twice.")
    else:
        try:
            with write_scope(app_engine()) as session:
                change_password(session, viewer, current, new)
        except ValueError as error:
            st.error(str(error))
        else:
            renew_session(viewer)
            st.session_state[MUST_CHANGE_PASSWORD_KEY] = False
            st.session_state[CHANGED_KEY] = True
            st.rerun()

st.divider()
if st.button("Sign out", icon=":material/logout:"):
    end_session("You are signed out.")
    st.rerun()
