"""Import a student roster: students, and one account each with a one-time password."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.access import Viewer
from core.exports import csv_bytes, export_file_name
from core.importing import ImportResult, PreparedFile
from core.importing.roster import import_roster
from core.importing.validation import ImportPlan
from dashboard.guard import require_viewer
from dashboard.import_steps import (
    RESULTS_KEY,
    ask_constants,
    build_plan,
    checked_report,
    confirm_and_run,
    edit_mapping,
    prepare_upload,
    read_upload,
    show_preview,
    show_result,
)
from dashboard.resources import app_engine
from db.models import ImportKind, Role

PAGE = "Student roster"


def _runner(viewer: Viewer) -> Callable[..., ImportResult]:
    def run(
        prepared: PreparedFile,
        plan: ImportPlan,
        only_valid: bool,
        progress: Callable[[int, int], None],
    ) -> ImportResult:
        return import_roster(
            app_engine(),
            viewer,
            prepared,
            plan,
            only_valid=only_valid,
            progress=progress,
            page=PAGE,
        )

    return run


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
    upload = read_upload(
        "Roster (CSV, XLSX or XLS)",
        key="roster-file",
        prompt="Choose a roster file to see how it will be read.",
    )
    if upload is None:
        return
    data, name, sha = upload
    prepared = prepare_upload(app_engine(), data, name, sha, ImportKind.ROSTER)
    if prepared is None:
        return

    targets = edit_mapping(prepared, sha)
    constants = ask_constants(prepared, sha, targets)
    plan = build_plan(app_engine(), prepared, targets, constants, False)
    if plan is None:
        return
    report = checked_report(prepared, plan, sha)
    show_preview(prepared, report)
    result = confirm_and_run(sha, report, plan, prepared, _runner(viewer))
    if result is None:
        return
    show_result(result)
    if result.accounts:
        _show_passwords(result, sha)
    elif result.status == "imported" and sha in st.session_state.get(RESULTS_KEY, {}):
        st.caption("The one-time passwords of this import were hidden.")


main()
