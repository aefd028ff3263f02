"""The list of imports with their counts and reports, and undoing an import."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Viewer
from core.exports import csv_bytes, export_file_name
from core.importing import ImportFailure, list_imports, undo_import
from core.importing.history import import_report
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope

PAGE = "Import history"
FLASH_KEY = "import_history_flash"
TIME_COLUMNS = ("imported at", "undone at")


def _utc_text(value: object) -> str:
    # The database returns aware UTC times on PostgreSQL and naive UTC times
    # on SQLite, so both are written the same way, and a missing time is blank.
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return f"{stamp:%Y-%m-%d %H:%M} UTC"


def _display_frame(imports: pd.DataFrame) -> pd.DataFrame:
    shown = imports.copy()
    for column in TIME_COLUMNS:
        shown[column] = [_utc_text(value) for value in imports[column]]
    shown["undone by"] = shown["undone by"].map(
        lambda name: "" if name is None or pd.isna(name) else name
    )
    return shown


def _undo_controls(viewer: Viewer, import_id: int, kind: str, written: int) -> None:
    consequence = (
        f"removes the {written:,} students it added, with their accounts and "
        "everything stored for them"
        if kind == "roster"
        else f"removes the {written:,} alumni it added"
    )
    confirmed = st.checkbox(
        f"I understand that undoing import #{import_id} {consequence}."
    )
    if not st.button(f"Undo import #{import_id}", disabled=not confirmed):
        return
    try:
        removed = undo_import(app_engine(), viewer, import_id, page=PAGE)
    except ImportFailure as error:
        st.error(str(error))
        return
    flash = f"Undid import #{import_id}: removed {removed:,} rows."
    if kind != "roster":
        flash += " Stored scores still reflect them until the next rescoring."
    st.session_state[FLASH_KEY] = flash
    st.rerun()


def _report_download(viewer: Viewer, import_id: int) -> None:
    with session_scope(app_engine()) as session:
        report = import_report(session, viewer, import_id)
    if report.empty:
        st.caption("This import rejected no cells.")
        return
    st.download_button(
        f"Download the report of import #{import_id} ({len(report):,} invalid cells)",
        csv_bytes(report),
        file_name=export_file_name(f"import-{import_id}-report", "csv"),
        mime="text/csv",
    )


def main() -> None:
    viewer = require_viewer(Role.STAFF, Role.ADMIN)
    st.title("Import history")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)

    with session_scope(app_engine()) as session:
        imports = list_imports(session, viewer)
    if imports.empty:
        st.info("No imports yet. Upload alumni or a student roster to start.")
        return
    st.dataframe(_display_frame(imports), hide_index=True, width="stretch")

    labels = {
        int(row.id): f"#{row.id} {row.kind}: {row.file}"
        for row in imports.itertuples(index=False)
    }
    import_id = st.selectbox("Import", list(labels), format_func=labels.__getitem__)
    row = imports.loc[imports["id"] == import_id].iloc[0]
    _report_download(viewer, int(import_id))
    if pd.notna(row["undone at"]):
        st.caption(f"Import #{import_id} was undone at {_utc_text(row['undone at'])}.")
        return
    if int(row["written"]) == 0:
        st.caption(f"Import #{import_id} wrote no rows, so there is nothing to undo.")
        return
    _undo_controls(viewer, int(import_id), str(row["kind"]), int(row["written"]))


main()
