"""Engine accuracy: backtest figures, fairness, engine runs and rescoring (admins)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.access import Viewer
from core.engine import views
from core.engine.backtest import backtest_database
from core.engine.charts import metrics_table, reliability_figure
from core.engine.features import feature_label
from core.engine.service import rescore_students
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope

METRIC_COLUMNS = {
    "model": st.column_config.TextColumn("Model"),
    "AUC": st.column_config.NumberColumn("AUC", format="%.3f"),
    "Brier": st.column_config.NumberColumn("Brier score", format="%.3f"),
    "tier accuracy": st.column_config.NumberColumn("Tier accuracy", format="%.3f"),
    "coverage": st.column_config.NumberColumn("Coverage", format="%.3f"),
    "rows": st.column_config.NumberColumn("Rows", format="%d"),
}

FAIRNESS_COLUMNS = {
    "group": st.column_config.TextColumn("Group"),
    "rows": st.column_config.NumberColumn("Rows", format="%d"),
    "placed_rate": st.column_config.NumberColumn("Placed rate", format="%.3f"),
    "mean_predicted": st.column_config.NumberColumn(
        "Mean predicted P(placed)", format="%.3f"
    ),
    "brier": st.column_config.NumberColumn("Brier score", format="%.3f"),
    "auc": st.column_config.NumberColumn("AUC", format="%.3f"),
}

RUN_COLUMNS = {
    "id": st.column_config.NumberColumn("Run", format="%d"),
    "kind": st.column_config.TextColumn("Kind"),
    "version": st.column_config.TextColumn("Engine version"),
    "started_at": st.column_config.DatetimeColumn(
        "Started at", format="YYYY-MM-DD HH:mm"
    ),
    "duration_seconds": st.column_config.NumberColumn("Duration (s)", format="%.1f"),
    "rows_scored": st.column_config.NumberColumn("Rows scored", format="%d"),
}


def _rescore(viewer: Viewer) -> None:
    bar = st.progress(0.0, text="Rescoring students...")

    def report(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Scored {done} of {total} students")

    summary = rescore_students(app_engine(), progress=report, triggered_by=viewer)
    bar.progress(1.0, text="Rescoring finished")
    if summary.students_scored == 0 and summary.skipped_unchanged == 0:
        st.warning(
            "Rescored 0 students, because no students are stored. Import a roster "
            "on the Student roster page first."
        )
        return
    st.success(
        f"Rescored {summary.students_scored} students in "
        f"{summary.duration_seconds:.1f} s ({summary.abstained} without enough "
        f"comparable alumni)."
    )


def _run_caption(report: dict[str, Any]) -> str:
    run = report["run_id"]
    features = [feature_label(name) for name in report.get("features", [])]
    skipped = report.get("skipped_reason")
    if skipped:
        return f"Run {run} evaluated nothing, because {skipped}."
    if not features:
        # Runs stored before skipped_reason existed give the reason as the split.
        return f"Run {run} evaluated nothing: {report['split']}."
    # Runs stored before test_rows existed have no count of test alumni.
    tested = report.get("test_rows")
    alumni = "alumni" if tested is None else f"{tested:,} alumni"
    return (
        f"Run {run} tested the engine on {alumni} ({report['split']}), with the "
        f"features rescoring uses: {', '.join(features)}."
    )


def _backtest_section(report: dict[str, Any] | None) -> None:
    st.subheader("Backtest")
    if report is None:
        st.info("No backtest yet. Run one to see how accurate the engine has been.")
        return
    st.caption(_run_caption(report))
    for note in report.get("notes", []):
        st.warning(note)
    st.dataframe(
        metrics_table(report),
        hide_index=True,
        use_container_width=True,
        column_config=METRIC_COLUMNS,
    )
    st.plotly_chart(reliability_figure(report), key="reliability")
    st.subheader("Fairness")
    st.caption("Gender is never a feature; it is used only for this breakdown.")
    for group in ("major", "gender"):
        rows = report.get("fairness", {}).get(group, [])
        st.markdown(f"**By {group}**")
        if rows:
            st.dataframe(
                rows,
                hide_index=True,
                use_container_width=True,
                column_config=FAIRNESS_COLUMNS,
            )
        else:
            st.caption(f"The alumni data has no {group} to break down by.")


def main() -> None:
    viewer = require_viewer(Role.ADMIN)
    st.title("Engine accuracy")
    left, right = st.columns(2)
    if left.button("Rescore everyone", type="primary"):
        _rescore(viewer)
    if right.button("Run backtest"):
        with st.spinner("Backtesting..."):
            backtest_database(app_engine(), triggered_by=viewer)

    with session_scope(app_engine()) as session:
        report = views.latest_backtest(session, viewer)
        runs = views.engine_runs(session, viewer)
    _backtest_section(report)
    st.subheader("Engine runs")
    if runs.empty:
        st.info("The engine has not run yet.")
    else:
        st.dataframe(
            runs, hide_index=True, use_container_width=True, column_config=RUN_COLUMNS
        )


main()
