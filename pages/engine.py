"""Engine accuracy: backtest figures, fairness, engine runs and rescoring (admins)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.access import Viewer
from core.engine import views
from core.engine.backtest import backtest_database
from core.engine.charts import metrics_table, reliability_figure
from core.engine.service import rescore_students
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope


def _rescore(viewer: Viewer) -> None:
    bar = st.progress(0.0, text="Rescoring students...")

    def report(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Scored {done} of {total} students")

    summary = rescore_students(app_engine(), progress=report, triggered_by=viewer)
    bar.progress(1.0, text="Rescoring finished")
    st.success(
        f"Rescored {summary.students_scored} students in "
        f"{summary.duration_seconds:.1f} s ({summary.abstained} without enough "
        f"comparable alumni)."
    )


def _backtest_section(report: dict[str, Any] | None) -> None:
    st.subheader("Backtest")
    if report is None:
        st.info("No backtest yet. Run one to see how accurate the engine has been.")
        return
    st.caption(
        f"Run {report['run_id']} ({report['split']}) on features "
        f"{', '.join(report.get('features', [])) or 'none'}."
    )
    st.dataframe(metrics_table(report), hide_index=True, use_container_width=True)
    st.plotly_chart(reliability_figure(report), key="reliability")
    st.subheader("Fairness")
    st.caption("Gender is never a feature; it is used only for this breakdown.")
    for group in ("major", "gender"):
        rows = report.get("fairness", {}).get(group, [])
        st.markdown(f"**By {group}**")
        if rows:
            st.dataframe(rows, hide_index=True, use_container_width=True)
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
        st.dataframe(runs, hide_index=True, use_container_width=True)


main()
