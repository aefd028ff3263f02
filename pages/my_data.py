"""My data: everything stored about the student, a download, and corrections."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.privacy import (
    CORRECTABLE_FIELDS,
    export_student_record,
    request_correction,
    student_record,
)
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import write_scope

PAGE = "My data"
NOTICE_KEY = "my_data_notice"
VIEWED_KEY = "my_data_view_recorded"

SECTION_TITLES = {
    "student": "Student record",
    "account": "Account",
    "skills": "Skills",
    "wellbeing": "Wellbeing",
    "consents": "Wellbeing consent",
    "subject_marks": "Subject marks",
    "trajectory_scores": "Trajectory scores",
    "recommendations": "Recommendations",
    "correction_requests": "Correction requests",
}


def _sections(record: dict[str, list[dict[str, Any]]]) -> None:
    for section, rows in record.items():
        st.subheader(SECTION_TITLES.get(section, section))
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        else:
            st.caption("Nothing stored.")


def _download() -> None:
    assert viewer.student_id is not None
    file_format = st.radio("Format", ["json", "xlsx"], horizontal=True, key="format")
    if st.button("Prepare download", key="prepare_download"):
        with write_scope(app_engine()) as session:
            name, content, mime = export_student_record(
                session, viewer, viewer.student_id, file_format, page=PAGE
            )
        st.download_button(f"Download {name}", content, file_name=name, mime=mime)


def _correction_form() -> None:
    with st.form("correction", clear_on_submit=True):
        field = st.selectbox("Field", list(CORRECTABLE_FIELDS))
        value = st.text_input("Correct value")
        reason = st.text_area("Why is the stored value wrong?")
        submitted = st.form_submit_button("Request correction")
    if not submitted:
        return
    try:
        with write_scope(app_engine()) as session:
            request_correction(session, viewer, field, value, reason)
    except ValueError as error:
        st.error(str(error))
        return
    st.session_state[NOTICE_KEY] = "Correction requested. An officer will review it."
    st.rerun()


viewer = require_viewer(Role.STUDENT)
assert viewer.student_id is not None  # a CHECK constraint links student accounts

st.title("My data")
st.caption(
    "Everything Trajectory stores about you. Each view and download is recorded "
    "in the audit log."
)
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.success(notice)

st.subheader("Download")
_download()
st.subheader("Request a correction")
_correction_form()

# One audit entry per browser session, because every widget change reruns the
# page and shows the same record again.
first_view = not st.session_state.get(VIEWED_KEY)
with write_scope(app_engine()) as session:
    my_record = student_record(
        session, viewer, viewer.student_id, page=PAGE, audit_view=first_view
    )
st.session_state[VIEWED_KEY] = True
_sections(my_record)
