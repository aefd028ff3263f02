"""Bulk reads of the engine's inputs into pandas frames (float64, never Decimal)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import (
    Connection,
    CursorResult,
    String,
    Subquery,
    Text,
    and_,
    case,
    cast,
    func,
    select,
    type_coerce,
)

from core.engine.features import NUMBER_ABS_MAX, PIPELINE_VERSION
from core.engine.trends import MIN_INTERVAL_DAYS
from db.models import (
    Alumnus,
    DigitalWellbeing,
    FeatureVector,
    Skill,
    SkillCatalogueEntry,
    Student,
    SubjectMark,
    TrajectoryScore,
)

# Days of wellbeing rows averaged into the focus score.
FOCUS_WINDOW_DAYS = 30

# A current stored vector: one written by this version of the feature pipeline.
_CURRENT_VECTOR = FeatureVector.pipeline_version == PIPELINE_VERSION

# Enums are read as plain strings and JSON as text, which is parsed in one call
# below: per-row result processing dominated reads of 200,000 alumni. An alumnus
# with a current stored vector sends the vector's values, any other its extras.
_ALUMNI_COLUMNS = (
    Alumnus.id,
    Alumnus.major,
    Alumnus.graduation_year,
    Alumnus.gpa,
    Alumnus.attendance,
    type_coerce(Alumnus.placement_status, String).label("placement_status"),
    type_coerce(Alumnus.company_tier, String).label("company_tier"),
    Alumnus.role_title,
    Alumnus.salary_text,
    Alumnus.salary_min_lpa,
    Alumnus.salary_max_lpa,
    Alumnus.gender,
    case((_CURRENT_VECTOR, FeatureVector.id)).label("vector_id"),
    case(
        (_CURRENT_VECTOR, cast(FeatureVector.values, Text)),
        else_=cast(Alumnus.extra_features, Text),
    ).label("numeric_values"),
)

# The columns of the frame ``load_alumni`` returns before the numeric extras.
ALUMNI_FRAME_COLUMNS = tuple(column.key for column in _ALUMNI_COLUMNS[:-1])


def _records_frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return frame.astype(object) if frame.empty else frame


def _frame(result: CursorResult[Any]) -> pd.DataFrame:
    # Plain tuples from the driver's cursor skip SQLAlchemy's per-row processing,
    # so the queries here select only columns that need none: numbers, text, enums
    # as strings and JSON as text. Timestamps arrive as text on SQLite, as
    # datetime on PostgreSQL, and pd.to_datetime reads both.
    columns = list(result.keys())
    rows = result.cursor.fetchall()
    result.close()
    return _records_frame(rows, columns)


def _frame_and_last_column(result: CursorResult[Any]) -> tuple[pd.DataFrame, list[Any]]:
    """Return the frame of all columns but the last, and the last as a plain list.

    A JSON text column is parsed from the list. pandas would first convert it to
    a string array, which costs more than the parsing.
    """
    columns = list(result.keys())
    rows = result.cursor.fetchall()
    result.close()
    frame = _records_frame([row[:-1] for row in rows], columns[:-1])
    return frame, [row[-1] for row in rows]


def load_alumni(connection: Connection) -> pd.DataFrame:
    """Read every alumnus with its numeric extras expanded into columns.

    The extras come from the alumnus's stored feature vector when it has a
    current one (``vector_id`` is its id), else from ``Alumnus.extra_features``
    (``vector_id`` is NaN). An extra column that clashes with a model column is
    ignored, so an extra can never overwrite GPA or the outcome.
    """
    query = (
        select(*_ALUMNI_COLUMNS)
        .outerjoin(FeatureVector, FeatureVector.id == Alumnus.feature_vector_id)
        .order_by(Alumnus.id)
    )
    frame, numeric_values = _frame_and_last_column(connection.execute(query))
    texts = [value if isinstance(value, str) else "{}" for value in numeric_values]
    for column in ("gpa", "attendance", "salary_min_lpa", "salary_max_lpa"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["vector_id"] = pd.to_numeric(frame["vector_id"]).astype(float)
    extras = _numeric_columns(_parse_json_list(texts), frame.index)
    extras = extras.drop(columns=[c for c in extras.columns if c in frame.columns])
    # Values the importer rejects can remain from imports made before it did. They
    # are read as missing, because squaring 1e308 while scaling overflows.
    extras = extras.where(np.isfinite(extras) & (extras.abs() < NUMBER_ABS_MAX))
    return pd.concat([frame, extras], axis=1)


def _numeric_columns(rows: list[dict[str, Any]], index: pd.Index) -> pd.DataFrame:
    """Return one float column per key of ``rows``, NaN where a row lacks the key.

    Built column by column: ``DataFrame.from_records`` on a list of dictionaries
    took most of the time of reading 20,000 alumni.
    """
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns: dict[str, Any] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns[name] = np.array(values, dtype=float)
        except (TypeError, ValueError):
            # A value that is not a number (text from an old import) is missing.
            columns[name] = pd.to_numeric(
                pd.Series(values, dtype=object), errors="coerce"
            ).to_numpy(dtype=float)
    return pd.DataFrame(columns, index=index)


def _parse_json_list(texts: list[str]) -> list[Any]:
    joined = "[" + ",".join(texts) + "]"
    try:
        return list(orjson.loads(joined))
    except orjson.JSONDecodeError:
        # The standard library also reads NaN and Infinity, which SQLAlchemy's
        # default encoder may have written on SQLite.
        return list(json.loads(joined))


def alumni_fingerprint(connection: Connection) -> str:
    """Return a short fingerprint of the alumni table: count, max id, latest row."""
    count, max_id, latest = connection.execute(
        select(
            func.count(Alumnus.id), func.max(Alumnus.id), func.max(Alumnus.created_at)
        )
    ).one()
    return f"{count}:{max_id}:{latest}"


def load_students(
    connection: Connection, student_ids: Sequence[int] | None, now: datetime
) -> pd.DataFrame:
    """Read students with their readiness inputs and their trend's reference score.

    Columns besides the student's own: ``skill_weighted_sum``, ``skill_weight_sum``
    and ``skill_score`` (skills weighted by the catalogue's market weight when the
    catalogue lists the skill, else by the skill's own weight), ``focus_score``
    (mean of the last ``FOCUS_WINDOW_DAYS`` days), ``marks_mean``,
    ``reference_score`` and ``reference_at`` (see ``trends``), ``stored_vector_id``
    and ``stored_hash``.
    """
    query = select(
        Student.id,
        Student.major,
        Student.gpa,
        Student.attendance,
        Student.weekly_study_hours,
        Student.project_count,
        Student.internship_count,
        Student.feature_vector_id.label("stored_vector_id"),
        FeatureVector.source_hash.label("stored_hash"),
    ).outerjoin(FeatureVector, FeatureVector.id == Student.feature_vector_id)
    frame = _frame(connection.execute(query.order_by(Student.id)))
    if student_ids is not None:
        # Filtered here, not with SQL IN: SQLite caps bound parameters at 32,766.
        frame = frame[frame["id"].isin([int(value) for value in student_ids])]
    for column in (
        "gpa",
        "attendance",
        "weekly_study_hours",
        "project_count",
        "internship_count",
    ):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame = frame.set_index("id", drop=False)

    catalogue = _catalogue_weights()
    weight = func.coalesce(catalogue.c.market_weight, Skill.market_weight)
    skills = _grouped(
        connection,
        select(
            Skill.student_id,
            func.sum(weight * Skill.proficiency).label("skill_weighted_sum"),
            func.sum(weight).label("skill_weight_sum"),
        )
        .outerjoin(catalogue, catalogue.c.name_key == func.lower(Skill.name))
        .group_by(Skill.student_id),
    )
    since = (now - timedelta(days=FOCUS_WINDOW_DAYS)).date()
    focus = _grouped(
        connection,
        select(
            DigitalWellbeing.student_id,
            func.avg(DigitalWellbeing.focus_score).label("focus_score"),
        )
        .where(DigitalWellbeing.date >= since)
        .group_by(DigitalWellbeing.student_id),
    )
    marks = _grouped(
        connection,
        select(
            SubjectMark.student_id, func.avg(SubjectMark.marks).label("marks_mean")
        ).group_by(SubjectMark.student_id),
    )
    frame = frame.join(skills).join(focus).join(marks)
    frame["skill_score"] = frame["skill_weighted_sum"] / frame["skill_weight_sum"]
    return frame.join(_reference_scores(connection, now)).reset_index(drop=True)


def _grouped(connection: Connection, query: object) -> pd.DataFrame:
    frame = _frame(connection.execute(query)).set_index("student_id")  # type: ignore[call-overload]
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def _reference_scores(connection: Connection, now: datetime) -> pd.DataFrame:
    """Return each student's newest score from ``MIN_INTERVAL_DAYS`` ago or earlier."""
    cutoff = now - timedelta(days=MIN_INTERVAL_DAYS)
    latest = (
        select(
            TrajectoryScore.student_id,
            func.max(TrajectoryScore.computed_at).label("computed_at"),
        )
        .where(
            TrajectoryScore.score.is_not(None), TrajectoryScore.computed_at <= cutoff
        )
        .group_by(TrajectoryScore.student_id)
        .subquery()
    )
    query = select(
        TrajectoryScore.student_id,
        TrajectoryScore.score.label("reference_score"),
        TrajectoryScore.computed_at.label("reference_at"),
    ).join(
        latest,
        and_(
            latest.c.student_id == TrajectoryScore.student_id,
            latest.c.computed_at == TrajectoryScore.computed_at,
        ),
    )
    frame = _frame(connection.execute(query))
    frame = frame.drop_duplicates("student_id").set_index("student_id")
    frame["reference_score"] = frame["reference_score"].astype(float)
    return frame


def _catalogue_weights() -> Subquery:
    """Return one catalogue weight per lower-cased skill name.

    Entries saved before names were matched without regard to case can differ
    only in case. Joining them directly would count such a skill twice, so the
    largest of their weights is taken.
    """
    return (
        select(
            func.lower(SkillCatalogueEntry.name).label("name_key"),
            func.max(SkillCatalogueEntry.market_weight).label("market_weight"),
        )
        .group_by(func.lower(SkillCatalogueEntry.name))
        .subquery()
    )


def load_skills(connection: Connection, student_ids: np.ndarray) -> pd.DataFrame:
    """Read each skill with the market weight it scores with (catalogue first)."""
    catalogue = _catalogue_weights()
    weight = func.coalesce(catalogue.c.market_weight, Skill.market_weight)
    query = (
        select(
            Skill.student_id,
            Skill.name,
            Skill.proficiency,
            weight.label("market_weight"),
        )
        .outerjoin(catalogue, catalogue.c.name_key == func.lower(Skill.name))
        .order_by(Skill.student_id, Skill.name)
    )
    frame = _frame(connection.execute(query))
    frame = frame[frame["student_id"].isin(student_ids)]
    for column in ("proficiency", "market_weight"):
        frame[column] = frame[column].astype(float)
    return frame
