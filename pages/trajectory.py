"""Trajectory: a student's own score, or any student's for officers and admins."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.access import Viewer
from core.engine import views
from core.engine.charts import history_figure, probabilities_figure
from core.engine.scoring import abstain_advice
from dashboard.guard import require_viewer
from dashboard.resources import app_engine
from db.models import Role
from db.session import session_scope, write_scope

# Session key of the notice shown after a tick on recommendations that a
# rescoring replaced while the page was open.
_RESCORED_NOTICE = "trajectory_rescored_notice"


def _pick_student(viewer: Viewer) -> int | None:
    # Students get no selector: the page always shows their own record.
    if viewer.role is Role.STUDENT:
        return viewer.student_id
    with session_scope(app_engine()) as session:
        students = views.list_students(session, viewer)
    if students.empty:
        st.info(
            "No students yet. Staff can import a roster on the Student roster page."
        )
        return None
    labels = {
        int(row.id): f"{row.name} ({row.roll_number}, {row.major})"
        for row in students.itertuples()
    }
    # Starts empty, so that opening the page does not open (and audit as viewed)
    # a student the officer did not choose. The cohort page presets the key.
    choice: int | None = st.selectbox(
        "Student",
        list(labels),
        index=None,
        placeholder="Choose a student",
        format_func=labels.__getitem__,
        key="trajectory_student",
    )
    if choice is None:
        st.info("Choose a student to see their trajectory.")
    return choice


def _toggle(viewer: Viewer, recommendation_id: int) -> None:
    completed = bool(st.session_state[f"recommendation_{recommendation_id}"])
    with write_scope(app_engine()) as session:
        changed_id = views.set_recommendation_completed(
            session, viewer, recommendation_id, completed
        )
    if changed_id != recommendation_id:
        st.session_state[_RESCORED_NOTICE] = (
            "Your trajectory was rescored while this page was open. The change "
            "was saved on the newest recommendations, shown below."
        )


def _headline(score: views.ScoreView) -> None:
    assert score.score is not None
    columns = st.columns(4)
    margin = score.margin_of_error or 0.0
    # The interval is shown clipped to the 0-100 scale that the score lives on.
    low, high = max(score.score - margin, 0.0), min(score.score + margin, 100.0)
    columns[0].metric(
        "Score",
        f"{score.score:.0f} ({low:.0f}-{high:.0f})",
        delta=None if score.velocity is None else f"{score.velocity:+.1f} / 30 days",
    )
    columns[1].metric("Predicted outcome", score.predicted_tier or "-")
    columns[2].metric("Confidence", f"{(score.confidence or 0):.0%}")
    columns[3].metric("Similar alumni compared", score.similar_alumni_count)
    trend = score.trend or "none yet (it needs a score from a week or more ago)"
    st.caption(
        f"Trend: {trend}. Computed {score.computed_at:%Y-%m-%d %H:%M} UTC. The range "
        "in brackets is a 95 % interval."
    )
    # Compared as displayed, so "25%" never comes with the warning.
    if round(score.confidence or 0.0, 2) < LOW_CONFIDENCE:
        st.warning(
            "Few alumni resemble this profile closely, so the score is uncertain and "
            "its range is wide. Treat it as a rough guide."
        )


def _what_changed(change: dict[str, Any] | None) -> None:
    if change is None or change["score_change"] is None:
        return
    text = (
        f"Since the score of {change['previous_at']:%Y-%m-%d}: "
        f"{change['score_change']:+.1f} points"
    )
    if change["tier"] != change["previous_tier"]:
        text += f", outcome {change['previous_tier']} → {change['tier']}"
    if change["completed"]:
        text += ". Completed meanwhile: " + "; ".join(change["completed"])
    st.info(text + ".")


EVIDENCE_COLUMNS = {
    "major": st.column_config.TextColumn("Major"),
    "graduation_year": st.column_config.NumberColumn("Graduated", format="%d"),
    "gpa_band": st.column_config.TextColumn("GPA band"),
    "outcome": st.column_config.TextColumn("Outcome"),
    "tier": st.column_config.TextColumn("Tier"),
    "salary_band": st.column_config.TextColumn("Salary band"),
    "role": st.column_config.TextColumn("Role"),
    "distance": st.column_config.NumberColumn(
        "Distance",
        format="%.2f",
        help="How far this alumnus is from the student over the compared "
        "features, each measured in standard deviations of the comparison "
        "group: 0 is identical.",
    ),
}

# Below this confidence the page warns that the score is a rough guide.
LOW_CONFIDENCE = 0.25

# Drivers smaller than this many points round to +0.0, so they are not listed.
MIN_DRIVER_POINTS = 0.05


def _evidence(explanation: dict[str, Any], similar_count: int) -> None:
    st.subheader("Similar alumni")
    if explanation.get("fallback"):
        st.caption(
            "This major has few alumni, so alumni of all majors were compared. "
            "The confidence is lower and the margin wider to allow for that."
        )
    evidence = explanation.get("evidence", [])
    if not evidence:
        st.caption("No alumni to show.")
        return
    st.caption(
        f"{similar_count} similar alumni; {len(evidence)} closest shown, with no names."
    )
    st.dataframe(
        evidence,
        hide_index=True,
        width="stretch",
        column_config=EVIDENCE_COLUMNS,
    )
    left, right = st.columns(2)
    _drivers(left, "Pulling the score up", explanation.get("drivers_up", []))
    _drivers(right, "Pulling the score down", explanation.get("drivers_down", []))
    st.caption(
        "Each driver is how the score changes if that value moved to the average of "
        "the comparison group. Recommendations instead price a move to placed alumni "
        "one tier up. Because the most similar alumni change as values change, the "
        "two can point different ways for the same feature."
    )


def _drivers(column: Any, heading: str, drivers: list[dict[str, Any]]) -> None:
    column.markdown(f"**{heading}**")
    notable = [d for d in drivers if abs(d["points"]) >= MIN_DRIVER_POINTS]
    if not notable:
        column.caption("Nothing notable.")
    for driver in notable:
        column.write(f"{driver['label']}: {driver['points']:+.1f} points")


def _recommendations(viewer: Viewer, items: list[dict[str, Any]]) -> None:
    st.subheader("Recommendations")
    notice = st.session_state.pop(_RESCORED_NOTICE, None)
    if notice:
        st.info(notice)
    if not items:
        st.caption("No gaps to alumni one tier up were found.")
        return
    st.caption(
        "Points are estimated by rescoring with the gap closed. They come from past "
        "alumni outcomes: an association, not a promise."
    )
    for item in items:
        st.checkbox(
            f"**{item['title']}** (+{item['estimated_points']:.1f} points, "
            f"{item['impact']} impact, {item['timeline']})",
            value=item["completed"],
            key=f"recommendation_{item['id']}",
            disabled=viewer.role is not Role.STUDENT,
            on_change=_toggle,
            args=(viewer, item["id"]),
        )
        st.caption(item["description"])
        done_at = item["previously_completed_at"]
        if done_at is not None and not item["completed"]:
            st.caption(
                f"Marked completed on {done_at:%Y-%m-%d}. The latest rescoring still "
                "finds this gap, so it is open again."
            )


def main() -> None:
    viewer = require_viewer(Role.STUDENT, Role.OFFICER, Role.ADMIN)
    st.title("Trajectory")
    student_id = _pick_student(viewer)
    if student_id is None:
        if viewer.role is Role.STUDENT:
            st.error("Your account is not linked to a student record.")
        return

    with write_scope(app_engine()) as session:
        summary = views.student_summary(session, viewer, student_id)
        scores = views.latest_scores(session, viewer, student_id)
        history = views.score_history(session, viewer, student_id)
        change = views.what_changed(session, viewer, student_id)
        items = (
            views.recommendations_for(session, viewer, student_id, scores[0].id)
            if scores
            else []
        )

    st.caption(f"{summary['name']} · {summary['roll_number']} · {summary['major']}")
    if not scores:
        st.info("No trajectory yet: it appears after the next rescoring run.")
        return
    latest = scores[0]
    if latest.abstain_reason is not None:
        st.warning(
            f"No score: {latest.abstain_reason}. "
            f"{abstain_advice(latest.abstain_reason)}, and the next rescoring gives "
            "a score."
        )
        return

    _what_changed(change)
    _headline(latest)
    # The history chart shows one score per day, so it needs two distinct days.
    history_days = pd.to_datetime(history["computed_at"], utc=True).dt.floor("D")
    if history_days.nunique() > 1:
        left, right = st.columns(2)
        left.plotly_chart(
            probabilities_figure(latest.probabilities), key="probabilities"
        )
        right.plotly_chart(history_figure(history), key="history")
    else:
        # One full-width chart: an empty second column left a blank gap.
        st.plotly_chart(probabilities_figure(latest.probabilities), key="probabilities")
        st.caption("The score history line appears once scores span two days.")
    _evidence(latest.explanation, latest.similar_alumni_count)
    _recommendations(viewer, items)


main()
