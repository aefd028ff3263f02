"""Correction requests: officers accept or reject what students asked to fix."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.privacy import list_corrections, resolve_correction
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import CorrectionStatus, Role
from db.session import session_scope, write_scope

NOTICE_KEY = "corrections_notice"

viewer = require_viewer(Role.OFFICER, Role.ADMIN)

st.title("Correction requests")
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.success(notice)

with session_scope(app_engine()) as session:
    open_requests = list_corrections(session, viewer, CorrectionStatus.OPEN)

if not open_requests:
    st.info("No open correction requests.")
else:
    st.dataframe(
        pd.DataFrame([request.__dict__ for request in open_requests]),
        hide_index=True,
        width="stretch",
    )
    labels = {
        f"#{request.request_id} {request.roll_number}: {request.field}": request
        for request in open_requests
    }
    with st.form("resolve"):
        label = st.selectbox("Request", list(labels))
        decision = st.radio("Decision", ["Accept", "Reject"], horizontal=True)
        note = st.text_input("Note to the student")
        submitted = st.form_submit_button("Resolve", type="primary")
    if submitted:
        chosen = labels[label]
        try:
            with write_scope(app_engine()) as session:
                resolve_correction(
                    session, viewer, chosen.request_id, decision == "Accept", note
                )
        except (ValueError, LookupError) as error:
            st.error(str(error))
        else:
            st.session_state[NOTICE_KEY] = f"Request #{chosen.request_id} resolved."
            st.rerun()
