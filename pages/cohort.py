"""Cohort overview for placement officers: charts, a risk list and exports."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.access import Viewer
from core.cohort import (
    AT_RISK,
    NOT_ASSESSED,
    RISK_SCORE_THRESHOLD,
    CohortFilter,
    ExportFormat,
    FilterOptions,
    export_risk_list,
    export_tier_summary,
    filter_options,
    latest_scores,
    rank_by_risk,
    tier_counts,
    trend_counts,
)
from core.exports import export_file_name
from dashboard import charts
from dashboard.guard import require_viewer
from dashboard.navigation import PAGES_DIR, pages_for
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope

# Widget key of the trajectory page's student selectbox. Setting it before the
# switch opens that page on the chosen student.
SELECTED_STUDENT_KEY = "trajectory_student"
TRAJECTORY_PAGE = "trajectory.py"

# Seconds a loaded cohort stays cached, so a rescoring shows after at most this.
CACHE_SECONDS = 60

Exporter = Callable[
    [Session, Viewer, pd.DataFrame, ExportFormat, CohortFilter], tuple[str, bytes]
]
EXPORTS: tuple[tuple[str, Exporter, str, ExportFormat], ...] = (
    ("Export list (CSV)", export_risk_list, "cohort-risk-list", "csv"),
    ("Export list (XLSX)", export_risk_list, "cohort-risk-list", "xlsx"),
    ("Export tier summary (CSV)", export_tier_summary, "cohort-tier-summary", "csv"),
)
MIME_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

LIST_COLUMNS = {
    "risk": st.column_config.TextColumn("Risk"),
    "roll_number": st.column_config.TextColumn("Roll number"),
    "name": st.column_config.TextColumn("Name"),
    "major": st.column_config.TextColumn("Major"),
    "expected_graduation_year": st.column_config.NumberColumn("Graduates", format="%d"),
    "semester": st.column_config.NumberColumn("Semester", format="%d"),
    "score": st.column_config.ProgressColumn(
        "Score", min_value=0, max_value=100, format="%.1f"
    ),
    "margin_of_error": st.column_config.NumberColumn("± margin", format="%.1f"),
    "confidence": st.column_config.NumberColumn("Confidence", format="%.2f"),
    "predicted_tier": st.column_config.TextColumn("Predicted outcome"),
    "trend": st.column_config.TextColumn("Trend"),
    "velocity": st.column_config.NumberColumn("Points / 30 days", format="%+.1f"),
    "abstain_reason": st.column_config.TextColumn("Why no score"),
}


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _load_options(viewer: Viewer, database: str) -> FilterOptions:
    with session_scope(app_engine()) as session:
        return filter_options(session, viewer)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner="Loading the cohort...")
def _load_cohort(
    viewer: Viewer, database: str, cohort_filter: CohortFilter
) -> pd.DataFrame:
    # The viewer and database are part of the cache key, so a cached frame is
    # only returned to a viewer the data layer has already let through.
    with session_scope(app_engine()) as session:
        return rank_by_risk(latest_scores(session, viewer, cohort_filter))


def _filters(options: FilterOptions) -> CohortFilter:
    major_column, year_column, semester_column = st.columns([2, 1, 1])
    majors = major_column.multiselect("Major", options.majors, placeholder="All majors")
    years = year_column.multiselect(
        "Graduation year", options.graduation_years, placeholder="All years"
    )
    semesters = semester_column.multiselect(
        "Semester", options.semesters, placeholder="All semesters"
    )
    return CohortFilter(tuple(majors), tuple(years), tuple(semesters))


def _metrics(cohort: pd.DataFrame) -> None:
    students, scored, at_risk, unscored = st.columns(4)
    students.metric("Students", len(cohort))
    scored.metric("Scored", int((cohort["status"] == "scored").sum()))
    at_risk.metric("At risk", int((cohort["risk"] == AT_RISK).sum()))
    unscored.metric("Without a score", int((cohort["risk"] == NOT_ASSESSED).sum()))


def _charts(cohort: pd.DataFrame) -> None:
    left, right = st.columns(2)
    with left:
        if cohort["score"].notna().any():
            st.plotly_chart(charts.score_distribution(cohort))
        else:
            st.info("No student in this selection has a score yet.")
    with right:
        st.plotly_chart(charts.tier_counts(tier_counts(cohort)))

    trends = trend_counts(cohort)
    if trends["students"].sum() > 0:
        # Three bars need no full width, so the chart takes a third of it.
        trend_column, _ = st.columns([1, 2])
        trend_column.plotly_chart(charts.trend_counts(trends))
    else:
        st.info("No trend yet: a trend needs at least two scores of a student.")


def _open_trajectory(viewer: Viewer, cohort: pd.DataFrame, rows: list[int]) -> None:
    available = any(
        spec.file_name == TRAJECTORY_PAGE for spec in pages_for(viewer.role)
    )
    if not available or not (PAGES_DIR / TRAJECTORY_PAGE).exists():
        return
    if not rows:
        st.caption("Select a row to open that student's trajectory.")
        return
    student = cohort.iloc[rows[0]]
    if st.button(f"Open the trajectory of {student['name']}", type="primary"):
        st.session_state[SELECTED_STUDENT_KEY] = int(student["student_id"])
        st.switch_page(PAGES_DIR / TRAJECTORY_PAGE)


def _export(
    exporter: Exporter,
    viewer: Viewer,
    cohort: pd.DataFrame,
    cohort_filter: CohortFilter,
    file_format: ExportFormat,
) -> bytes:
    # Runs when the download button is clicked, so the audit entry records an
    # actual download rather than every rerun of the page.
    with write_scope(app_engine()) as session:
        _, contents = exporter(session, viewer, cohort, file_format, cohort_filter)
    return contents


def _downloads(
    viewer: Viewer, cohort: pd.DataFrame, cohort_filter: CohortFilter
) -> None:
    columns = st.columns(len(EXPORTS))
    for column, (label, exporter, stem, file_format) in zip(
        columns, EXPORTS, strict=True
    ):
        column.download_button(
            label,
            data=functools.partial(
                _export, exporter, viewer, cohort, cohort_filter, file_format
            ),
            file_name=export_file_name(stem, file_format),
            mime=MIME_TYPES[file_format],
            on_click="ignore",
            icon=":material/download:",
        )


def _risk_list(
    viewer: Viewer, cohort: pd.DataFrame, cohort_filter: CohortFilter
) -> None:
    st.subheader("Students by risk")
    st.caption(
        "Students without a score come first, then those at risk (a score below "
        f"{RISK_SCORE_THRESHOLD:.0f} or a declining trend), each group lowest score "
        "first."
    )
    event = st.dataframe(
        cohort[list(LIST_COLUMNS)],
        column_config=LIST_COLUMNS,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="risk_list",
    )
    _open_trajectory(viewer, cohort, list(event.selection.rows))
    _downloads(viewer, cohort, cohort_filter)


def main() -> None:
    viewer = require_viewer(Role.OFFICER, Role.ADMIN)
    st.title("Cohort overview")
    database = str(app_engine().url)

    options = _load_options(viewer, database)
    if not options.majors:
        st.info("No students yet. Staff can import a roster, or load the demo data.")
        return

    cohort_filter = _filters(options)
    cohort = _load_cohort(viewer, database, cohort_filter)
    if cohort.empty:
        st.info("No students match this filter. Widen the major, year or semester.")
        return

    _metrics(cohort)
    _charts(cohort)
    _risk_list(viewer, cohort, cohort_filter)


main()
