"""Rescoring: score students against all alumni and store the results.

Signature (the CLI, the engine page and the demo data call it)::

    rescore_students(engine, *, student_ids=None, now=None, progress=None,
                     triggered_by=None, only_changed=False) -> RescoreSummary

One run reads all alumni and the selected students in bulk, stores a feature
vector for each alumnus that lacks a current one (see ``vectors``), fits the
matching pools once, then scores students in chunks of ``CHUNK_SIZE``. Each chunk
is written in its own transaction: new ``TrajectoryScore`` and ``Recommendation``
rows, and a new ``FeatureVector`` for each student whose inputs changed since the
stored one. ``db.bulk`` writes the rows (``COPY`` on PostgreSQL). An ``EngineRun``
row records version, duration and counts.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, update

from core import audit
from core.access import Viewer
from core.engine import ENGINE_VERSION
from core.engine.data import alumni_fingerprint, load_alumni, load_skills, load_students
from core.engine.explaining import build_explanations
from core.engine.features import (
    PIPELINE_VERSION,
    STUDENT_NUMERIC_FEATURES,
    shared_features,
)
from core.engine.recommending import feature_recommendations, readiness_recommendations
from core.engine.scoring import OUTCOMES, ScoreResult, TrajectoryModel
from core.engine.trends import velocity_and_trend
from core.engine.vectors import store_missing_alumni_vectors, store_student_vectors
from db.bulk import insert_returning_ids, insert_rows, table_of
from db.models import EngineRun, Recommendation, TrajectoryScore
from db.session import write_scope

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5_000

# Inputs hashed into a student's source hash, besides the matching features.
_READINESS_INPUTS = ("skill_score", "focus_score", "marks_mean", "weekly_study_hours")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RescoreSummary:
    """Counts and duration of one rescoring run."""

    run_id: int
    students_scored: int
    abstained: int
    recommendations: int
    skipped_unchanged: int
    duration_seconds: float


def _skill_lists(students: pd.DataFrame, skills: pd.DataFrame) -> list[str]:
    """Return each student's skills as text: name, proficiency and weight of each.

    Recommendations name single skills, so a changed list must count as a changed
    input even when the weighted mean skill score stays the same.
    """
    by_student: dict[int, list[str]] = {}
    for student_id, name, proficiency, weight in zip(
        skills["student_id"].tolist(),
        skills["name"].tolist(),
        skills["proficiency"].tolist(),
        skills["market_weight"].tolist(),
        strict=True,
    ):
        by_student.setdefault(student_id, []).append(
            f"{name}:{proficiency!r}:{weight!r}"
        )
    return ["|".join(by_student.get(student_id, [])) for student_id in students["id"]]


def _source_hashes(
    students: pd.DataFrame,
    skill_lists: list[str],
    features: Sequence[str],
    fingerprint: str,
) -> list[str]:
    columns = [*features, *[c for c in _READINESS_INPUTS if c not in features]]
    values = students.reindex(columns=columns).astype(float).round(6)
    prefix = f"{PIPELINE_VERSION}|{ENGINE_VERSION}|{fingerprint}|{','.join(columns)}|"
    return [
        hashlib.sha256((prefix + repr(row) + "|" + skill_list).encode()).hexdigest()
        for row, skill_list in zip(
            values.itertuples(index=False, name=None), skill_lists, strict=True
        )
    ]


def _score_rows(
    chunk: pd.DataFrame,
    result: ScoreResult,
    explanations: list[dict[str, Any]],
    now: datetime,
    run_id: int,
) -> list[dict[str, Any]]:
    reference = chunk["reference_score"].to_numpy(dtype=float)
    reference_at = pd.to_datetime(chunk["reference_at"], utc=True)
    days = ((pd.Timestamp(now) - reference_at).dt.total_seconds() / 86_400).to_numpy(
        dtype=float, na_value=np.nan
    )
    # The stored score is rounded, so the rate compares rounded with rounded and
    # an unchanged score gives exactly zero.
    velocity, trend = velocity_and_trend(np.round(result.score, 2), reference, days)
    score = _rounded(result.score, 2)
    confidence = _rounded(result.confidence, 4)
    margin = _rounded(result.margin, 2)
    velocity_values = _rounded(velocity, 2)
    probabilities = np.round(result.probabilities, 4).tolist()
    counts = result.neighbour_count.tolist()
    predicted = result.predicted.tolist()
    rows: list[dict[str, Any]] = []
    for position, student_id in enumerate(chunk["id"].tolist()):
        reason = result.abstain_reason[position]
        scored = reason is None
        rows.append(
            {
                "student_id": int(student_id),
                "computed_at": now,
                "score": score[position],
                "confidence": confidence[position],
                "margin_of_error": margin[position],
                "trend": trend[position],
                "velocity": velocity_values[position],
                "predicted_tier": OUTCOMES[predicted[position]] if scored else None,
                "probabilities": (
                    dict(zip(OUTCOMES, probabilities[position], strict=True))
                    if scored
                    else {}
                ),
                "similar_alumni_count": counts[position],
                "explanation": explanations[position],
                "abstain_reason": reason,
                "engine_version": ENGINE_VERSION,
                "engine_run_id": run_id,
            }
        )
    return rows


def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    """Round to ``digits`` and turn NaN into None, for storage."""
    rounded = np.round(values, digits)
    return [None if math.isnan(value) else value for value in rounded.tolist()]


def _recommendations(
    model: TrajectoryModel,
    chunk: pd.DataFrame,
    skills: pd.DataFrame,
    result: ScoreResult,
) -> list[dict[str, Any]]:
    positions = pd.Series(np.arange(len(chunk)), index=chunk["id"].to_numpy())
    chunk_skills = skills[skills["student_id"].isin(positions.index)].copy()
    chunk_skills["position"] = positions.loc[chunk_skills["student_id"]].to_numpy()
    rows = feature_recommendations(model, chunk, result)
    rows += readiness_recommendations(
        chunk,
        chunk_skills,
        result,
        study_hours_shared="weekly_study_hours" in model.features,
    )
    return rows


def rescore_students(
    engine: Engine,
    *,
    student_ids: Sequence[int] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    triggered_by: Viewer | None = None,
    only_changed: bool = False,
) -> RescoreSummary:
    """Score students against all alumni and store scores and recommendations.

    Parameters
    ----------
    engine : Engine
        Database to read from and write to.
    student_ids : sequence of int, optional
        Students to rescore; None rescores every student.
    now : datetime, optional
        Timezone-aware time stamped on the new rows (default: the current UTC time).
        Trend and velocity compare with the latest score at or before it.
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk of students.
    triggered_by : Viewer, optional
        The user who started the run; recorded on the run and in the audit log.
    only_changed : bool, default=False
        Skip students whose inputs (and the alumni table) did not change since their
        stored feature vector.

    Returns
    -------
    RescoreSummary
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    with engine.connect() as connection:
        alumni = load_alumni(connection)
        fingerprint = alumni_fingerprint(connection)
        students = load_students(connection, student_ids, now)
        skills = load_skills(connection, students["id"].to_numpy())

    features = shared_features(alumni, STUDENT_NUMERIC_FEATURES)
    model = TrajectoryModel(alumni, features)
    students["source_hash"] = _source_hashes(
        students, _skill_lists(students, skills), features, fingerprint
    )
    unchanged = students["source_hash"] == students["stored_hash"]
    skipped = int(unchanged.sum()) if only_changed else 0
    if only_changed:
        students = students[~unchanged.to_numpy()].reset_index(drop=True)

    with write_scope(engine) as session:
        run = EngineRun(
            kind="rescore",
            engine_version=ENGINE_VERSION,
            started_at=now,
            triggered_by_id=triggered_by.user_id if triggered_by else None,
        )
        session.add(run)
        session.flush()
        run_id = run.id
        # In the run's first transaction, so a rescoring with every vector
        # stored commits no more often than one without vectors.
        alumni_vectors_written = store_missing_alumni_vectors(
            session.connection(), alumni, now
        )

    total = len(students)
    abstained = 0
    recommendation_count = 0
    vector_columns = [*features, *_READINESS_INPUTS]
    for start in range(0, total, CHUNK_SIZE):
        chunk = students.iloc[start : start + CHUNK_SIZE].reset_index(drop=True)
        result = model.score(chunk)
        explanations = build_explanations(model, chunk, result)
        score_rows = _score_rows(chunk, result, explanations, now, run_id)
        recommendation_rows = _recommendations(model, chunk, skills, result)
        abstained += sum(reason is not None for reason in result.abstain_reason)
        recommendation_count += len(recommendation_rows)
        with write_scope(engine) as session:
            _write_chunk(
                session, chunk, score_rows, recommendation_rows, vector_columns
            )
        if progress is not None:
            progress(min(start + CHUNK_SIZE, total), total)

    duration = time.perf_counter() - started
    with write_scope(engine) as session:
        session.execute(
            update(EngineRun)
            .where(EngineRun.id == run_id)
            .values(
                duration_seconds=duration,
                rows_scored=total,
                metrics={
                    "abstained": abstained,
                    "recommendations": recommendation_count,
                    "skipped_unchanged": skipped,
                    "alumni": len(alumni),
                    "alumni_vectors_written": alumni_vectors_written,
                    "features": features,
                },
            )
        )
        if triggered_by is not None:
            audit.record(
                session,
                triggered_by,
                "rescore",
                target_kind="engine_run",
                target_id=run_id,
                detail={"students": total},
            )
    logger.info(
        "rescored %d students (%d abstained) in %.2f s, run %d",
        total,
        abstained,
        duration,
        run_id,
    )
    return RescoreSummary(
        run_id, total, abstained, recommendation_count, skipped, duration
    )


def _write_chunk(
    session: Any,
    chunk: pd.DataFrame,
    score_rows: list[dict[str, Any]],
    recommendation_rows: list[dict[str, Any]],
    vector_columns: Sequence[str],
) -> None:
    if not score_rows:
        return
    now = score_rows[0]["computed_at"]
    connection = session.connection()
    score_ids = insert_returning_ids(connection, table_of(TrajectoryScore), score_rows)
    insert_rows(
        connection,
        table_of(Recommendation),
        [
            {
                "student_id": score_rows[row["position"]]["student_id"],
                "score_id": score_ids[row["position"]],
                "category": row["category"],
                "title": row["title"],
                "description": row["description"],
                "impact": row["impact"],
                "estimated_points": row["estimated_points"],
                "timeline": row["timeline"],
                "completed": False,
                "created_at": now,
            }
            for row in recommendation_rows
        ],
    )
    changed = chunk[chunk["source_hash"] != chunk["stored_hash"]]
    store_student_vectors(connection, changed, vector_columns, now)
