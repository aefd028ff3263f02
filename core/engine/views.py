"""Data layer of the trajectory, skill catalogue and engine pages.

Every function takes the ``Viewer`` and checks access before it reads: a student
reads only their own trajectory, officers and admins read any, and only admins
read engine runs or change market weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.access import (
    STUDENT_READERS,
    AccessDenied,
    Viewer,
    require_role,
    require_student_access,
)
from db.models import (
    EngineRun,
    Recommendation,
    Role,
    Student,
    TrajectoryScore,
)

ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class ScoreView:
    """One stored trajectory score as the page shows it."""

    id: int
    computed_at: datetime
    score: float | None
    margin_of_error: float | None
    confidence: float | None
    predicted_tier: str | None
    probabilities: dict[str, float]
    trend: str | None
    velocity: float | None
    similar_alumni_count: int
    explanation: dict[str, Any]
    abstain_reason: str | None


def _score_view(row: TrajectoryScore) -> ScoreView:
    return ScoreView(
        id=row.id,
        computed_at=row.computed_at,
        score=row.score,
        margin_of_error=row.margin_of_error,
        confidence=row.confidence,
        predicted_tier=None if row.predicted_tier is None else str(row.predicted_tier),
        probabilities=dict(row.probabilities or {}),
        trend=None if row.trend is None else str(row.trend),
        velocity=row.velocity,
        similar_alumni_count=row.similar_alumni_count,
        explanation=dict(row.explanation or {}),
        abstain_reason=row.abstain_reason,
    )


def list_students(session: Session, viewer: Viewer) -> pd.DataFrame:
    """Return id, roll number, name and major of every student (officers, admins)."""
    require_role(session, viewer, STUDENT_READERS, "list students")
    rows = session.execute(
        select(Student.id, Student.roll_number, Student.name, Student.major).order_by(
            Student.name
        )
    ).all()
    return pd.DataFrame(rows, columns=["id", "roll_number", "name", "major"])


def student_summary(
    session: Session, viewer: Viewer, student_id: int
) -> dict[str, Any]:
    """Return the student's name, roll number and major.

    A view by anyone but the student is audited once per visit.
    """
    require_student_access(session, viewer, student_id, "view trajectory")
    student = session.get(Student, student_id)
    if student is None:
        raise LookupError(f"student {student_id} not found")
    if viewer.student_id != student_id:
        audit.record_view(
            session,
            viewer,
            "view_trajectory",
            target_kind="student",
            target_id=student_id,
            page="trajectory",
        )
    return {
        "name": student.name,
        "roll_number": student.roll_number,
        "major": student.major,
    }


def latest_scores(
    session: Session, viewer: Viewer, student_id: int, count: int = 2
) -> list[ScoreView]:
    """Return the student's newest ``count`` scores, newest first."""
    require_student_access(session, viewer, student_id, "view trajectory")
    rows = session.scalars(
        select(TrajectoryScore)
        .where(TrajectoryScore.student_id == student_id)
        .order_by(TrajectoryScore.computed_at.desc(), TrajectoryScore.id.desc())
        .limit(count)
    ).all()
    return [_score_view(row) for row in rows]


def score_history(session: Session, viewer: Viewer, student_id: int) -> pd.DataFrame:
    """Return every scored row of the student (time, score, margin), oldest first."""
    require_student_access(session, viewer, student_id, "view trajectory")
    rows = session.execute(
        select(
            TrajectoryScore.computed_at,
            TrajectoryScore.score,
            TrajectoryScore.margin_of_error,
        )
        .where(
            TrajectoryScore.student_id == student_id,
            TrajectoryScore.score.is_not(None),
        )
        .order_by(TrajectoryScore.computed_at)
    ).all()
    frame = pd.DataFrame(rows, columns=["computed_at", "score", "margin_of_error"])
    return frame.astype({"score": float, "margin_of_error": float})


def recommendations_for(
    session: Session, viewer: Viewer, student_id: int, score_id: int
) -> list[dict[str, Any]]:
    """Return the recommendations made with score ``score_id``, most points first.

    Each rescoring stores new, open recommendations and leaves earlier ones, with
    their completed state, in the history. A later rescoring that still finds a
    completed gap (same category) stores it as a new open row. That row's
    ``previously_completed_at`` is the latest completion time of an earlier row
    of the category, so the page can acknowledge the student's work. It is None
    when no earlier row of the category was completed.
    """
    require_student_access(session, viewer, student_id, "view recommendations")
    rows = session.scalars(
        select(Recommendation)
        .where(
            Recommendation.student_id == student_id,
            Recommendation.score_id == score_id,
        )
        .order_by(Recommendation.estimated_points.desc(), Recommendation.id)
    ).all()
    # Earlier rows are those of any other score. A row whose score was deleted
    # (score_id set to NULL) still counts, because its completion happened.
    completed_at_of_category = dict(
        session.execute(
            select(Recommendation.category, func.max(Recommendation.completed_at))
            .where(
                Recommendation.student_id == student_id,
                Recommendation.completed.is_(True),
                or_(
                    Recommendation.score_id.is_(None),
                    Recommendation.score_id != score_id,
                ),
            )
            .group_by(Recommendation.category)
        ).all()
    )
    return [
        {
            "id": row.id,
            "category": row.category,
            "title": row.title,
            "description": row.description,
            "impact": str(row.impact),
            "estimated_points": row.estimated_points,
            "timeline": row.timeline,
            "completed": row.completed,
            "previously_completed_at": completed_at_of_category.get(row.category),
        }
        for row in rows
    ]


def set_recommendation_completed(
    session: Session, viewer: Viewer, recommendation_id: int, completed: bool
) -> int:
    """Mark a recommendation completed or not; only its own student may do this.

    A page opened before a rescoring still shows the older recommendations. A
    tick there is applied to the newest score's recommendation of the same
    category when one exists, so it is not lost. Returns the id of the row
    that was changed.
    """
    require_role(session, viewer, frozenset({Role.STUDENT}), "complete recommendation")
    recommendation = session.get(Recommendation, recommendation_id)
    # Another student's recommendation gets the same error as a missing one, so
    # ids cannot be probed; the attempt is still audited as a denial.
    if recommendation is not None and recommendation.student_id != viewer.student_id:
        try:
            require_student_access(
                session, viewer, recommendation.student_id, "complete recommendation"
            )
        except AccessDenied:
            recommendation = None
    if recommendation is None:
        raise LookupError(f"recommendation {recommendation_id} not found")
    newest_score_id = session.scalar(
        select(TrajectoryScore.id)
        .where(TrajectoryScore.student_id == recommendation.student_id)
        .order_by(TrajectoryScore.computed_at.desc(), TrajectoryScore.id.desc())
        .limit(1)
    )
    if newest_score_id is not None and recommendation.score_id != newest_score_id:
        current = session.scalars(
            select(Recommendation).where(
                Recommendation.score_id == newest_score_id,
                Recommendation.category == recommendation.category,
            )
        ).first()
        if current is not None:
            recommendation = current
    recommendation.completed = completed
    recommendation.completed_at = datetime.now(UTC) if completed else None
    return recommendation.id


def what_changed(
    session: Session, viewer: Viewer, student_id: int
) -> dict[str, Any] | None:
    """Compare the student's two newest scores.

    Returns the point change, the tier change and the recommendations completed
    between the two, or None with fewer than two scores.
    """
    scores = latest_scores(session, viewer, student_id, count=2)
    if len(scores) < 2:
        return None
    newest, previous = scores
    completed = session.scalars(
        select(Recommendation.title).where(
            Recommendation.student_id == student_id,
            Recommendation.completed.is_(True),
            Recommendation.completed_at <= newest.computed_at,
            # Recommendations shown with the previous score were completed after it.
            Recommendation.completed_at > previous.computed_at,
        )
    ).all()
    change = None
    if newest.score is not None and previous.score is not None:
        change = newest.score - previous.score
    return {
        "score_change": change,
        "previous_score": previous.score,
        "previous_tier": previous.predicted_tier,
        "tier": newest.predicted_tier,
        "previous_at": previous.computed_at,
        "completed": list(completed),
    }


def engine_runs(session: Session, viewer: Viewer, limit: int = 50) -> pd.DataFrame:
    """Return the newest engine runs (admins)."""
    require_role(session, viewer, ADMINS, "view engine runs")
    rows = session.execute(
        select(
            EngineRun.id,
            EngineRun.kind,
            EngineRun.engine_version,
            EngineRun.started_at,
            EngineRun.duration_seconds,
            EngineRun.rows_scored,
        )
        .order_by(EngineRun.id.desc())
        .limit(limit)
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "kind",
            "version",
            "started_at",
            "duration_seconds",
            "rows_scored",
        ],
    )


def latest_backtest(session: Session, viewer: Viewer) -> dict[str, Any] | None:
    """Return the metrics of the newest backtest run (admins), None if never run."""
    require_role(session, viewer, ADMINS, "view engine runs")
    run = session.scalar(
        select(EngineRun)
        .where(EngineRun.kind == "backtest")
        .order_by(EngineRun.id.desc())
    )
    if run is None:
        return None
    return {**dict(run.metrics or {}), "run_id": run.id, "started_at": run.started_at}
