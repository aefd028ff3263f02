"""Rescoring: score students against all alumni and store the results.

Signature (the CLI, the engine page and the demo data call it)::

    rescore_students(engine, *, student_ids=None, now=None, progress=None,
                     triggered_by=None, only_changed=False) -> RescoreSummary

One run reads all alumni and the selected students in bulk, fits the matching pools
once, then scores students in chunks of ``CHUNK_SIZE``. Each chunk is written in its
own transaction: new ``TrajectoryScore`` and ``Recommendation`` rows, and a new
``FeatureVector`` for each student whose inputs changed since the stored one. On
PostgreSQL the rows go in with COPY under ids reserved from the id sequences
beforehand, and one UPDATE links the new vectors. Other databases get a driver
executemany per table, and the new ids are read back by key. An ``EngineRun`` row
records version, duration and counts.

NOTE: only students get stored feature vectors, and ``Alumnus.feature_vector_id``
stays empty. An alumnus's raw vector is its own columns, so a stored copy would save
no reading. The scaled vector depends on every alumnus of the major, so a stored one
would go stale with each import. Every run reads the alumni table instead: 2.2 s for
200,000 alumni on PostgreSQL, timed on the university data of
``benchmarks.scoring`` at a load average near 5.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Connection, Engine, Table, bindparam, func, select, update

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
from db.models import (
    EngineRun,
    FeatureVector,
    Recommendation,
    Student,
    TrajectoryScore,
)
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


def _source_hashes(
    students: pd.DataFrame, features: Sequence[str], fingerprint: str
) -> list[str]:
    columns = [*features, *[c for c in _READINESS_INPUTS if c not in features]]
    values = students.reindex(columns=columns).astype(float).round(6)
    prefix = f"{PIPELINE_VERSION}|{ENGINE_VERSION}|{fingerprint}|{','.join(columns)}|"
    return [
        hashlib.sha256((prefix + repr(row)).encode()).hexdigest()
        for row in values.itertuples(index=False, name=None)
    ]


def _vector_values(row: dict[str, Any], columns: Sequence[str]) -> dict[str, float]:
    return {
        name: float(row[name])
        for name in columns
        if name in row and not pd.isna(row[name])
    }


def _score_rows(
    chunk: pd.DataFrame,
    result: ScoreResult,
    explanations: list[dict[str, Any]],
    now: datetime,
    run_id: int,
) -> list[dict[str, Any]]:
    previous = chunk["previous_score"].to_numpy(dtype=float)
    previous_at = pd.to_datetime(chunk["previous_at"], utc=True)
    days = ((pd.Timestamp(now) - previous_at).dt.total_seconds() / 86_400).to_numpy(
        dtype=float, na_value=np.nan
    )
    velocity, trend = velocity_and_trend(result.score, previous, days)
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
    students["source_hash"] = _source_hashes(students, features, fingerprint)
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


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _bind_processor(
    table: Table, name: str, connection: Connection
) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    # The dialect's own implementation of the type: SQLite, for one, formats
    # timestamps differently from the driver's default adapter.
    dialect_type = column_type.dialect_impl(connection.dialect)
    processor = dialect_type.bind_processor(connection.dialect)
    if processor is None and isinstance(column_type, JSON):
        # SQLAlchemy's psycopg dialect wraps JSON values in the driver's adapter
        # at execution time, not in a processor; the SQL casts text to JSON.
        return json.dumps
    return processor


def _insert_many(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows`` (same keys each): COPY on PostgreSQL, else one executemany.

    Each column's own bind processor converts the values, as SQLAlchemy would,
    but without its per-row bookkeeping, which cost more than the insert itself
    for large batches of recommendations.
    """
    names = list(rows[0])
    # inline() keeps PostgreSQL from adding RETURNING for the primary key.
    compiled = (
        table.insert()
        .inline()
        .values({name: bindparam(name) for name in names})
        .compile(dialect=connection.dialect)
    )
    processors = {name: _bind_processor(table, name, connection) for name in names}
    # A column with one shared value (the run's timestamp) is converted once.
    shared = {
        name: processor(rows[0][name])
        for name, processor in processors.items()
        if processor is not None and all(row[name] is rows[0][name] for row in rows)
    }
    # Converted column by column, which costs less than a dictionary per row.
    columns: list[list[Any]] = []
    for name, processor in processors.items():
        if name in shared:
            columns.append([shared[name]] * len(rows))
        elif processor is not None:
            columns.append([processor(row[name]) for row in rows])
        else:
            columns.append([row[name] for row in rows])
    converted = list(zip(*columns, strict=True))
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, names, converted)
        return
    parameters: list[Any]
    if compiled.positional:
        position_of = {name: index for index, name in enumerate(names)}
        order = [position_of[name] for name in compiled.positiontup or []]
        parameters = [tuple(values[index] for index in order) for values in converted]
    else:
        parameters = [dict(zip(names, values, strict=True)) for values in converted]
    connection.exec_driver_sql(str(compiled), parameters)


def _copy_rows(
    connection: Connection,
    table: Table,
    names: list[str],
    rows: list[tuple[Any, ...]],
) -> None:
    # COPY is several times faster than a pipelined executemany on PostgreSQL and
    # runs on the same driver connection, so inside the caller's transaction.
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _reserve_ids(connection: Connection, table: Table, count: int) -> list[int] | None:
    """Take ``count`` new ids from the table's id sequence, in ascending order.

    Returns None unless the database is PostgreSQL. Rows inserted with these ids
    need no query afterwards to find their ids.
    """
    if connection.dialect.name != "postgresql":
        return None
    reserved = connection.exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) "
        "FROM generate_series(1, %(count)s)",
        {"table": table.name, "count": count},
    ).scalars()
    return sorted(reserved)


def _write_scores(
    connection: Connection, score_rows: list[dict[str, Any]]
) -> list[int]:
    """Insert the score rows and return their ids in the same order."""
    scores = _table(TrajectoryScore)
    reserved = _reserve_ids(connection, scores, len(score_rows))
    if reserved is not None:
        rows = [
            {"id": score_id, **row}
            for score_id, row in zip(reserved, score_rows, strict=True)
        ]
        _insert_many(connection, scores, rows)
        return reserved
    # A driver executemany returns no ids, so they are read back by key.
    _insert_many(connection, scores, score_rows)
    student_ids = [row["student_id"] for row in score_rows]
    returned = connection.execute(
        select(scores.c.id, scores.c.student_id).where(
            scores.c.engine_run_id == score_rows[0]["engine_run_id"],
            scores.c.student_id.between(min(student_ids), max(student_ids)),
        )
    ).all()
    id_of_student = {student_id: score_id for score_id, student_id in returned}
    return [id_of_student[row["student_id"]] for row in score_rows]


def _write_vectors(
    connection: Connection, source_hashes: list[str], vector_rows: list[dict[str, Any]]
) -> list[int]:
    """Insert the feature vector rows and return their ids in the same order."""
    vectors = _table(FeatureVector)
    reserved = _reserve_ids(connection, vectors, len(vector_rows))
    if reserved is not None:
        rows = [
            {"id": vector_id, **row}
            for vector_id, row in zip(reserved, vector_rows, strict=True)
        ]
        _insert_many(connection, vectors, rows)
        return reserved
    # Students with equal inputs share a hash and identical values, so either
    # of their vectors is correct for both.
    before = connection.execute(select(func.max(vectors.c.id))).scalar() or 0
    _insert_many(connection, vectors, vector_rows)
    stored = connection.execute(
        select(vectors.c.id, vectors.c.source_hash).where(vectors.c.id > before)
    ).all()
    id_of_hash = {source_hash: vector_id for vector_id, source_hash in stored}
    return [id_of_hash[source_hash] for source_hash in source_hashes]


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
    # Enum columns take their values as plain strings (Trend, PredictedOutcome,
    # Impact values); building enum members cost more than the inserts.
    connection = session.connection()
    score_ids = _write_scores(connection, score_rows)
    if recommendation_rows:
        _insert_many(
            connection,
            _table(Recommendation),
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
    if not len(changed):
        return
    source_hashes = changed["source_hash"].tolist()
    vector_ids = _write_vectors(
        connection,
        source_hashes,
        [
            {
                "owner_kind": "student",
                "pipeline_version": PIPELINE_VERSION,
                "source_hash": row["source_hash"],
                "values": _vector_values(row, vector_columns),
                "computed_at": now,
            }
            for row in changed.to_dict("records")
        ],
    )
    _link_vectors(connection, [int(student) for student in changed["id"]], vector_ids)


def _link_vectors(
    connection: Connection, student_ids: list[int], vector_ids: list[int]
) -> None:
    """Point each student's ``feature_vector_id`` at its new stored vector.

    ``updated_at`` keeps its value, because a new stored vector is not an edit of
    the student.
    """
    if connection.dialect.name == "postgresql":
        # One statement over two arrays: an executemany sends one UPDATE per
        # student, and waiting for those was a large share of a PostgreSQL run.
        # Plain SQL runs no on-update defaults, so updated_at stays as it is.
        connection.exec_driver_sql(
            "UPDATE students SET feature_vector_id = new.vector_id "
            "FROM unnest(%(students)s::integer[], %(vectors)s::integer[]) "
            "AS new (student_id, vector_id) WHERE students.id = new.student_id",
            {"students": student_ids, "vectors": vector_ids},
        )
        return
    table = _table(Student)
    # updated_at is set to itself, which overrides its on-update default.
    connection.execute(
        update(table)
        .where(table.c.id == bindparam("student"))
        .values(feature_vector_id=bindparam("vector"), updated_at=table.c.updated_at),
        [
            {"student": student, "vector": vector}
            for student, vector in zip(student_ids, vector_ids, strict=True)
        ],
    )
