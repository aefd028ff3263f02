"""Users: admins create accounts, deactivate them, reset passwords, change roles."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.accounts import (
    AccountRow,
    change_role,
    create_account,
    list_accounts,
    reset_password,
    set_active,
)
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope

# A one-time password is shown once, on the run right after it was made.
SECRET_KEY = "users_one_time_password"
NOTICE_KEY = "users_notice"
STAFF_ROLES = [Role.OFFICER.value, Role.STAFF.value, Role.ADMIN.value]


def _show_pending_messages() -> None:
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(notice)
    secret = st.session_state.pop(SECRET_KEY, None)
    if secret:
        username, password = secret
        st.warning(
            f"One-time password for **{username}**, shown only now: hand it over "
            "in person. The user must change it at first sign-in."
        )
        st.code(password, language=None)


def _run_change(action: str, change: Callable[[Session], object]) -> None:
    try:
        with write_scope(app_engine()) as session:
            result = change(session)
    except ValueError as error:
        st.error(str(error))
        return
    if isinstance(result, tuple):
        st.session_state[SECRET_KEY] = result
    st.session_state[NOTICE_KEY] = action
    st.rerun()


def _create_form() -> None:
    with st.form("create_account", clear_on_submit=True):
        username = st.text_input("User name")
        role = st.selectbox("Role", STAFF_ROLES)
        submitted = st.form_submit_button("Create account", type="primary")
    if submitted:
        _run_change(
            f"Created {username.strip()}.",
            lambda session: (
                username.strip(),
                create_account(session, viewer, username, Role(role))[1],
            ),
        )


def _manage(accounts: list[AccountRow]) -> None:
    by_name = {account.username: account for account in accounts}
    name = st.selectbox("Account", list(by_name), key="manage_account")
    account = by_name[name]
    left, middle, right = st.columns(3)
    if account.is_active and left.button("Deactivate", key="deactivate"):
        _run_change(
            f"Deactivated {name}.",
            lambda session: set_active(session, viewer, account.user_id, False),
        )
    if not account.is_active and left.button("Activate", key="activate"):
        _run_change(
            f"Activated {name}.",
            lambda session: set_active(session, viewer, account.user_id, True),
        )
    if middle.button("Reset password", key="reset"):
        _run_change(
            f"Reset the password of {name}.",
            lambda session: (name, reset_password(session, viewer, account.user_id)),
        )
    if account.role is not Role.STUDENT:
        new_role = right.selectbox(
            "Role", STAFF_ROLES, index=STAFF_ROLES.index(account.role.value)
        )
        if right.button("Change role", key="change_role"):
            _run_change(
                f"{name} is now {new_role}.",
                lambda session: change_role(
                    session, viewer, account.user_id, Role(new_role)
                ),
            )


viewer = require_viewer(Role.ADMIN)

st.title("Users")
_show_pending_messages()
with session_scope(app_engine()) as session:
    all_accounts = list_accounts(session, viewer)

st.dataframe(
    pd.DataFrame([account.__dict__ for account in all_accounts]),
    hide_index=True,
    width="stretch",
)
st.subheader("Create an account")
_create_form()
st.subheader("Manage an account")
_manage(all_accounts)
