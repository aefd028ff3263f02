"""A builder of trajectory score rows for cohort tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from db.models import PredictedOutcome, Student, TrajectoryScore, Trend
from db.types import utcnow

NOW = utcnow()


def add_score(
    session: Session,
    student: Student,
    days_ago: float,
    score: float | None = 50.0,
    *,
    trend: Trend | None = None,
    velocity: float | None = None,
    tier: PredictedOutcome = PredictedOutcome.TIER2,
    abstain_reason: str | None = None,
    now: datetime = NOW,
) -> TrajectoryScore:
    """Add a scored row, or an abstained one when ``score`` is None."""
    scored = score is not None
    row = TrajectoryScore(
        student_id=student.id,
        computed_at=now - timedelta(days=days_ago),
        score=score,
        confidence=0.8 if scored else None,
        margin_of_error=5.0 if scored else None,
        predicted_tier=tier if scored else None,
        trend=trend,
        velocity=velocity,
        abstain_reason=None if scored else abstain_reason or "no alumni in this major",
        engine_version="test",
    )
    session.add(row)
    session.flush()
    return row
