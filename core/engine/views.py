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
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.access import STUDENT_READERS, Viewer, require_role, require_student_access
from db.models import (
    MARKET_WEIGHTS,
    EngineRun,
    Recommendation,
    Role,
    Skill,
    SkillCatalogueEntry,
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
    recommendation = session.get(Recommendation, recommendation_id)
    if recommendation is None:
        raise LookupError(f"recommendation {recommendation_id} not found")
    require_role(session, viewer, frozenset({Role.STUDENT}), "complete recommendation")
    require_student_access(
        session, viewer, recommendation.student_id, "complete recommendation"
    )
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


def skill_catalogue(session: Session, viewer: Viewer) -> pd.DataFrame:
    """Return the catalogue with how many student skills use each entry (admins)."""
    require_role(session, viewer, ADMINS, "view skill catalogue")
    usage = (
        select(Skill.name, func.count(Skill.id).label("students"))
        .group_by(Skill.name)
        .subquery()
    )
    rows = session.execute(
        select(
            SkillCatalogueEntry.name,
            SkillCatalogueEntry.market_weight,
            SkillCatalogueEntry.reasoning,
            func.coalesce(usage.c.students, 0),
            SkillCatalogueEntry.updated_at,
        )
        .outerjoin(usage, usage.c.name == SkillCatalogueEntry.name)
        .order_by(SkillCatalogueEntry.name)
    ).all()
    return pd.DataFrame(
        rows, columns=["name", "market_weight", "reasoning", "students", "updated_at"]
    )


def uncatalogued_skills(session: Session, viewer: Viewer) -> list[str]:
    """Return skill names students entered that the catalogue does not list."""
    require_role(session, viewer, ADMINS, "view skill catalogue")
    listed = select(SkillCatalogueEntry.name)
    return list(
        session.scalars(
            select(Skill.name)
            .where(Skill.name.not_in(listed))
            .distinct()
            .order_by(Skill.name)
        )
    )


def save_catalogue_entry(
    session: Session, viewer: Viewer, name: str, market_weight: float, reasoning: str
) -> int:
    """Create or change a catalogue entry and apply its weight to students' skills.

    Returns the number of student skills whose weight was set. Raises ValueError
    for an empty name, a weight other than 0.5, 1.0 or 2.0, or empty reasoning.
    """
    require_role(session, viewer, ADMINS, "change market weight")
    name = name.strip()
    if not name:
        raise ValueError("skill name is empty: enter the skill's name")
    if market_weight not in MARKET_WEIGHTS:
        raise ValueError(
            f"market weight {market_weight} is invalid: use one of {MARKET_WEIGHTS}"
        )
    if not reasoning.strip():
        raise ValueError("reasoning is empty: say why the skill has this weight")
    entry = session.scalar(
        select(SkillCatalogueEntry).where(SkillCatalogueEntry.name == name)
    )
    old_weight = None if entry is None else entry.market_weight
    if entry is None:
        entry = SkillCatalogueEntry(name=name)
        session.add(entry)
    entry.market_weight = market_weight
    entry.reasoning = reasoning.strip()
    entry.updated_by_id = viewer.user_id
    applied = session.execute(
        update(Skill)
        .where(Skill.name == name)
        .values(market_weight=market_weight, weight_reasoning=reasoning.strip())
    )
    audit.record(
        session,
        viewer,
        "market_weight_change",
        target_kind="skill_catalogue",
        target_id=name,
        page="skill_catalogue",
        detail={"old_weight": old_weight, "new_weight": market_weight},
    )
    return int(getattr(applied, "rowcount", 0) or 0)


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
