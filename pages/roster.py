"""Import a student roster: students, and one account each with a one-time password."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.exports import csv_bytes, export_file_name
from core.importing import ImportResult
from core.importing.roster import import_roster
from dashboard.guard import require_viewer
from dashboard.import_steps import RESULTS_KEY, upload_and_import
from dashboard.resources import app_engine
from db.models import ImportKind, Role

PAGE = "Student roster"


def _show_passwords(result: ImportResult, sha: str) -> None:
    # The passwords stay only in this browser session's memory, until staff
    # hide them. The database stores only their hashes.
    st.warning(
        "These one-time passwords are shown only now. Download or hand them out, "
        "then hide them. Each student must choose a new password at first sign-in."
    )
    accounts = pd.DataFrame(
        result.accounts, columns=["roll number", "user name", "one-time password"]
    )
    st.dataframe(accounts, hide_index=True, width="stretch")
    st.download_button(
        "Download the accounts (CSV)",
        csv_bytes(accounts),
        file_name=export_file_name("student-accounts", "csv"),
        mime="text/csv",
    )
    if st.button("I have saved the passwords: hide them", key=f"hide-{sha}"):
        result.accounts.clear()
        st.rerun()


def main() -> None:
    viewer = require_viewer(Role.STAFF, Role.ADMIN)
    st.title("Student roster")
    st.caption(
        "Upload a CSV or Excel roster with roll number, name, major, semester and "
        "expected graduation year (GPA, attendance, study hours, projects and "
        "internships are optional). Each new student gets an account."
    )
    outcome = upload_and_import(
        app_engine(),
        viewer,
        ImportKind.ROSTER,
        import_roster,
        page=PAGE,
        label="Roster (CSV, XLSX or XLS)",
        key="roster-file",
        prompt="Choose a roster file to see how it will be read.",
    )
    if outcome is None:
        return
    result, sha = outcome
    if result.accounts:
        _show_passwords(result, sha)
    elif result.status == "imported" and sha in st.session_state.get(RESULTS_KEY, {}):
        st.caption("The one-time passwords of this import were hidden.")


main()
