"""Upload an alumni spreadsheet: read, map, check, confirm, import."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import audit
from core.access import Viewer
from core.engine.service import rescore_students
from core.importing import ImportResult, import_alumni
from core.importing.majors import alias_pairs, save_aliases
from dashboard.guard import require_viewer
from dashboard.import_steps import upload_and_import
from dashboard.resources import app_engine
from db.models import ImportKind, Role
from db.session import session_scope, write_scope

PAGE = "Upload alumni"


def _cell_text(value: object) -> str:
    # New rows of the editor hold None or NaN in cells left empty.
    return "" if value is None or pd.isna(value) else str(value)


def _major_aliases_editor(viewer: Viewer) -> None:
    with st.expander("Major spellings"):
        st.caption(
            "Each spelling on the left is stored as the major on the right, so "
            "CSE, CS and Computer Science count as one major."
        )
        with session_scope(app_engine()) as session:
            pairs = alias_pairs(session)
        frame = pd.DataFrame(pairs, columns=["spelling", "major"])
        edited = st.data_editor(
            frame, num_rows="dynamic", hide_index=True, key="aliases"
        )
        if st.button("Save major spellings"):
            rows = [
                (_cell_text(spelling), _cell_text(major))
                for spelling, major in edited.itertuples(index=False)
                if _cell_text(spelling).strip() or _cell_text(major).strip()
            ]
            try:
                with write_scope(app_engine()) as session:
                    save_aliases(session, rows)
                    audit.record(
                        session,
                        viewer,
                        "edit_major_aliases",
                        page=PAGE,
                        detail={"aliases": len(rows)},
                    )
            except ValueError as error:
                st.error(str(error))
            else:
                st.success(f"Saved {len(rows)} spellings.")


def _offer_rescore(viewer: Viewer, result: ImportResult) -> None:
    # Scores compare students with the alumni, so new alumni make them stale
    # until the next rescoring run.
    if result.status != "imported" or result.rows_written == 0:
        return
    st.info(
        "Students' scores do not include these alumni until they are rescored. "
        "Rescore now, or wait for the next scheduled run."
    )
    if not st.button("Rescore all students now", key=f"rescore-{result.import_id}"):
        return
    bar = st.progress(0.0, text="Rescoring students...")

    def report(done: int, total: int) -> None:
        bar.progress(
            done / max(total, 1), text=f"Scored {done:,} of {total:,} students"
        )

    summary = rescore_students(app_engine(), progress=report, triggered_by=viewer)
    bar.progress(1.0, text="Rescoring finished")
    st.success(
        f"Rescored {summary.students_scored:,} students in "
        f"{summary.duration_seconds:.1f} s ({summary.abstained:,} without enough "
        "comparable alumni)."
    )


def main() -> None:
    viewer = require_viewer(Role.STAFF, Role.ADMIN)
    st.title("Upload alumni")
    st.caption(
        "Upload a CSV or Excel file of past graduates and their placement outcomes. "
        "Nothing is written until you confirm."
    )
    _major_aliases_editor(viewer)

    outcome = upload_and_import(
        app_engine(),
        viewer,
        ImportKind.ALUMNI,
        import_alumni,
        page=PAGE,
        label="Alumni spreadsheet (CSV, XLSX or XLS)",
        key="alumni-file",
        prompt="Choose a file to see how it will be read.",
        offer_gpa_percent=True,
    )
    if outcome is not None:
        result, _ = outcome
        _offer_rescore(viewer, result)


main()
