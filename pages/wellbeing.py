"""Wellbeing: opt-in consent, daily entries and the focus score trend."""

from __future__ import annotations

import inspect
from datetime import date

import pandas as pd
import plotly.express as px
import streamlit as st

from core.student_data import (
    CONSENT_NOTICE,
    focus_score,
    grant_consent,
    has_consent,
    list_wellbeing,
    save_wellbeing_day,
    withdraw_consent,
)
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope

NOTICE_KEY = "wellbeing_notice"


def _opt_in() -> None:
    st.info(CONSENT_NOTICE)
    agreed = st.checkbox("I have read this notice and agree", key="consent_agree")
    if st.button("Opt in", type="primary", disabled=not agreed):
        with write_scope(app_engine()) as session:
            grant_consent(session, viewer)
        st.session_state[NOTICE_KEY] = "You opted in. You can withdraw at any time."
        st.rerun()


def _entry_form() -> None:
    with st.form("wellbeing_day"):
        day = st.date_input("Day", value=date.today(), max_value=date.today())
        screen = st.number_input("Screen time (hours)", 0.0, 24.0, 4.0, 0.5)
        social = st.number_input("Of which social apps (hours)", 0.0, 24.0, 1.0, 0.5)
        study = st.number_input("Of which study apps (hours)", 0.0, 24.0, 1.0, 0.5)
        sleep = st.number_input("Sleep (hours)", 0.0, 24.0, 7.5, 0.5)
        submitted = st.form_submit_button("Save day", type="primary")
    if not submitted:
        return
    try:
        with write_scope(app_engine()) as session:
            score = save_wellbeing_day(
                session, viewer, day, screen, social, study, sleep
            )
    except ValueError as error:
        st.error(str(error))
        return
    st.session_state[NOTICE_KEY] = f"Saved {day:%d %b %Y}: focus score {score:.1f}."
    st.rerun()


def _history() -> None:
    assert viewer.student_id is not None
    with session_scope(app_engine()) as session:
        days = list_wellbeing(session, viewer, viewer.student_id)
    if not days:
        st.info("No days entered yet.")
        return
    frame = pd.DataFrame([day.__dict__ for day in days])
    figure = px.line(frame, x="day", y="focus_score", markers=True, range_y=[0, 100])
    figure.update_layout(xaxis_title="Day", yaxis_title="Focus score")
    st.plotly_chart(figure, width="stretch")
    st.dataframe(frame, hide_index=True, width="stretch")


def _withdraw() -> None:
    st.subheader("Withdraw consent")
    st.write("Withdrawing stops collection and deletes every wellbeing row about you.")
    if st.button("Withdraw and delete my wellbeing data", key="withdraw"):
        with write_scope(app_engine()) as session:
            deleted = withdraw_consent(session, viewer)
        st.session_state[NOTICE_KEY] = (
            f"Consent withdrawn; {deleted} wellbeing rows deleted."
        )
        st.rerun()


viewer = require_viewer(Role.STUDENT)
assert viewer.student_id is not None  # a CHECK constraint links student accounts

st.title("Wellbeing")
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.success(notice)

with session_scope(app_engine()) as session:
    consented = has_consent(session, viewer, viewer.student_id)

if not consented:
    _opt_in()
else:
    with st.expander("How the focus score is computed"):
        st.markdown(inspect.cleandoc(focus_score.__doc__ or ""))
    _entry_form()
    _history()
    _withdraw()
