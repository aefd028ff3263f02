"""Data layer of the cohort overview: latest scores, risk order, counts, exports.

Every function that reads student data takes the signed-in ``Viewer`` and lets
only officers and admins through. Other roles get ``AccessDenied``. Frames
have float64 number columns, never ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import STUDENT_READERS, Viewer, require_role
from core.exports import csv_bytes, export_file_name, xlsx_bytes
from core.privacy import (
    MIN_GROUP_SIZE,
    SCORE_FIELDS,
    STUDENT_SUMMARY_FIELDS,
    allowed_export_columns,
    suppress_small_groups,
)
from db.models import PredictedOutcome, Student, TrajectoryScore, Trend

# A scored student below this score counts as at risk, whatever their trend.
RISK_SCORE_THRESHOLD = 40.0

NOT_ASSESSED = "not assessed"
AT_RISK = "at risk"
ON_TRACK = "on track"
RISK_ORDER = (NOT_ASSESSED, AT_RISK, ON_TRACK)

# Predicted-tier label of students without a score (abstained or never scored).
NO_PREDICTION = "No prediction"
TIER_ORDER = (*(outcome.value for outcome in PredictedOutcome), NO_PREDICTION)
TREND_ORDER = tuple(trend.value for trend in Trend)

STUDENT_COLUMNS = ("student_id", *STUDENT_SUMMARY_FIELDS)
SCORE_COLUMNS = (*SCORE_FIELDS, "abstain_reason", "computed_at")
FLOAT_COLUMNS = (
    "gpa",
    "attendance",
    "score",
    "margin_of_error",
    "confidence",
    "velocity",
)
INTEGER_COLUMNS = ("student_id", "semester", "expected_graduation_year")
TEXT_COLUMNS = ("predicted_tier", "trend", "abstain_reason")

EXPORT_PAGE = "Cohort overview"


@dataclass(frozen=True)
class CohortFilter:
    """Filter of the cohort overview. An empty tuple places no restriction."""

    majors: tuple[str, ...] = ()
    graduation_years: tuple[int, ...] = ()
    semesters: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, list[Any]]:
        """Return the filter as plain lists, for audit entries."""
        return {
            "majors": list(self.majors),
            "graduation_years": list(self.graduation_years),
            "semesters": list(self.semesters),
        }


@dataclass(frozen=True)
class FilterOptions:
    """The values present in the student table, offered as filter choices."""

    majors: list[str]
    graduation_years: list[int]
    semesters: list[int]


def _require_reader(session: Session, viewer: Viewer, action: str) -> None:
    require_role(session, viewer, STUDENT_READERS, action)


def filter_options(session: Session, viewer: Viewer) -> FilterOptions:
    """Return the majors, graduation years and semesters that students have.

    Raises ``AccessDenied`` unless ``viewer`` is an officer or an admin.
    """
    _require_reader(session, viewer, "read cohort filter options")

    def distinct(column: Any) -> list[Any]:
        return list(session.scalars(select(column).distinct().order_by(column)))

    return FilterOptions(
        majors=distinct(Student.major),
        graduation_years=distinct(Student.expected_graduation_year),
        semesters=distinct(Student.semester),
    )


def _latest_scores_query(cohort_filter: CohortFilter) -> Select[Any]:
    # One window query numbers each student's scores newest first, so the join
    # below picks every student's latest row in a single round trip.
    position = (
        func.row_number()
        .over(
            partition_by=TrajectoryScore.student_id,
            order_by=(TrajectoryScore.computed_at.desc(), TrajectoryScore.id.desc()),
        )
        .label("position")
    )
    ranked = select(TrajectoryScore.student_id, *_score_columns(), position).subquery(
        "ranked"
    )
    latest = and_(ranked.c.student_id == Student.id, ranked.c.position == 1)

    query = (
        select(
            Student.id.label("student_id"),
            *(getattr(Student, column) for column in STUDENT_SUMMARY_FIELDS),
            *(ranked.c[column] for column in SCORE_COLUMNS),
        )
        .outerjoin(ranked, latest)
        .order_by(Student.id)
    )
    if cohort_filter.majors:
        query = query.where(Student.major.in_(cohort_filter.majors))
    if cohort_filter.graduation_years:
        years = cohort_filter.graduation_years
        query = query.where(Student.expected_graduation_year.in_(years))
    if cohort_filter.semesters:
        query = query.where(Student.semester.in_(cohort_filter.semesters))
    return query


def _score_columns() -> list[Any]:
    return [getattr(TrajectoryScore, column) for column in SCORE_COLUMNS]


def _typed_frame(rows: Sequence[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*STUDENT_COLUMNS, *SCORE_COLUMNS])
    for column in FLOAT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("int64")
    for column in TEXT_COLUMNS:
        # Enum members become their plain values, and missing values stay missing.
        frame[column] = frame[column].map(
            lambda value: None if value is None else str(getattr(value, "value", value))
        )
    frame["computed_at"] = pd.to_datetime(frame["computed_at"], utc=True)

    scored = frame["score"].notna()
    abstained = ~scored & frame["computed_at"].notna()
    frame["status"] = np.select(
        [scored, abstained], ["scored", "abstained"], "not scored"
    )
    return frame


def latest_scores(
    session: Session, viewer: Viewer, cohort_filter: CohortFilter | None = None
) -> pd.DataFrame:
    """Return one row per student with their latest trajectory score.

    Parameters
    ----------
    session : Session
        Open database session.
    viewer : Viewer
        The signed-in user, who must be an officer or an admin.
    cohort_filter : CohortFilter or None, default=None
        Majors, expected graduation years and semesters to keep; all when None.

    Returns
    -------
    pandas.DataFrame
        Student columns (``student_id``, ``roll_number``, ``name``, ``major``,
        ``semester``, ``expected_graduation_year``, ``gpa``, ``attendance``),
        the latest score's columns (``score``, ``margin_of_error``,
        ``confidence``, ``predicted_tier``, ``trend``, ``velocity``,
        ``abstain_reason``, ``computed_at``) and ``status``: "scored",
        "abstained" or "not scored". Students without a score have missing
        score columns. Number columns are float64.

    Raises
    ------
    AccessDenied
        If ``viewer`` is a student or staff member; the refusal is audited.
    """
    _require_reader(session, viewer, "read cohort scores")
    query = _latest_scores_query(cohort_filter or CohortFilter())
    return _typed_frame(session.execute(query).all())


def rank_by_risk(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with a ``risk`` column, most urgent students first.

    Students without a score come first, because their outlook is unknown.
    Next come students at risk: a score below ``RISK_SCORE_THRESHOLD`` or a
    declining trend. Within each group the lowest score comes first, then the
    fastest decline.
    """
    ranked = frame.copy()
    at_risk = (ranked["score"] < RISK_SCORE_THRESHOLD) | (
        ranked["trend"] == "declining"
    )
    ranked["risk"] = np.select(
        [ranked["status"] != "scored", at_risk], [NOT_ASSESSED, AT_RISK], ON_TRACK
    )
    ranked["risk_rank"] = ranked["risk"].map(
        {name: i for i, name in enumerate(RISK_ORDER)}
    )
    ranked = ranked.sort_values(
        ["risk_rank", "score", "velocity", "student_id"],
        na_position="last",
        kind="stable",
    )
    return ranked.drop(columns="risk_rank").reset_index(drop=True)


def _counts(values: pd.Series, order: tuple[str, ...], label: str) -> pd.DataFrame:
    counts = values.value_counts().reindex(list(order), fill_value=0)
    return pd.DataFrame(
        {label: list(order), "students": counts.to_numpy(dtype="int64")}
    )


def tier_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Return students per predicted tier, in tier order, zeros included.

    Students without a score are counted under ``NO_PREDICTION``.
    """
    return _counts(frame["predicted_tier"].fillna(NO_PREDICTION), TIER_ORDER, "tier")


def trend_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Return students per trend (improving, declining, stable), zeros included.

    Students whose latest score has no trend (a first score) are not counted.
    """
    return _counts(frame["trend"].dropna(), TREND_ORDER, "trend")


def tier_counts_by_major(frame: pd.DataFrame) -> pd.DataFrame:
    """Return students per major and predicted tier, with small groups suppressed.

    Majors with fewer than ``MIN_GROUP_SIZE`` students keep their name but lose
    every count, so that an aggregate export cannot single a student out.
    """
    table = pd.crosstab(
        frame["major"], frame["predicted_tier"].fillna(NO_PREDICTION)
    ).reindex(columns=list(TIER_ORDER), fill_value=0)
    table["students"] = table.sum(axis=1)
    table = table.reset_index()
    table.columns.name = None
    return suppress_small_groups(table, "students", MIN_GROUP_SIZE)


ExportFormat = Literal["csv", "xlsx"]
EXPORT_WRITERS = {"csv": csv_bytes, "xlsx": xlsx_bytes}


def _check_format(file_format: str) -> None:
    if file_format not in EXPORT_WRITERS:
        raise ValueError(f"file_format={file_format!r} is invalid: use 'csv' or 'xlsx'")


def export_risk_list(
    session: Session,
    viewer: Viewer,
    frame: pd.DataFrame,
    file_format: ExportFormat,
    cohort_filter: CohortFilter | None = None,
) -> tuple[str, bytes]:
    """Return the file name and contents of an export of the risk list.

    Parameters
    ----------
    session : Session
        Open session. The audit entry is written when the caller commits.
    viewer : Viewer
        The signed-in user, who must be an officer or an admin.
    frame : pandas.DataFrame
        Rows of ``latest_scores``, usually ranked by ``rank_by_risk``.
    file_format : {"csv", "xlsx"}
        Spreadsheet format of the file.
    cohort_filter : CohortFilter or None, default=None
        The filter that produced ``frame``, recorded in the audit entry.

    Returns
    -------
    tuple of (str, bytes)
        A file name with a UTC timestamp, and the formula-safe file contents.
        Only the columns the viewer's role may export are included, so no
        wellbeing data.

    Raises
    ------
    AccessDenied
        If ``viewer`` is not an officer or an admin.
    ValueError
        If ``file_format`` is not "csv" or "xlsx".
    """
    _check_format(file_format)
    allowed = allowed_export_columns(session, viewer, frame)
    contents = EXPORT_WRITERS[file_format](allowed)
    file_name = export_file_name("cohort-risk-list", file_format)
    audit.record(
        session,
        viewer,
        "export_cohort_list",
        target_kind="student",
        page=EXPORT_PAGE,
        detail={
            "format": file_format,
            "rows": len(allowed),
            "columns": list(allowed.columns),
            "filter": (cohort_filter or CohortFilter()).as_dict(),
            "student_ids": [int(value) for value in frame["student_id"]],
        },
    )
    return file_name, contents


def export_tier_summary(
    session: Session,
    viewer: Viewer,
    frame: pd.DataFrame,
    file_format: ExportFormat,
    cohort_filter: CohortFilter | None = None,
) -> tuple[str, bytes]:
    """Return the file name and contents of students per major and predicted tier.

    Parameters
    ----------
    session : Session
        Open session. The audit entry is written when the caller commits.
    viewer : Viewer
        The signed-in user, who must be an officer or an admin.
    frame : pandas.DataFrame
        Rows of ``latest_scores``.
    file_format : {"csv", "xlsx"}
        Spreadsheet format of the file.
    cohort_filter : CohortFilter or None, default=None
        The filter that produced ``frame``, recorded in the audit entry.

    Returns
    -------
    tuple of (str, bytes)
        A file name with a UTC timestamp, and the formula-safe file contents:
        one row per major, as from ``tier_counts_by_major``, so majors with
        fewer than ``MIN_GROUP_SIZE`` students have their counts blanked.

    Raises
    ------
    AccessDenied
        If ``viewer`` is not an officer or an admin.
    ValueError
        If ``file_format`` is not "csv" or "xlsx".
    """
    _check_format(file_format)
    _require_reader(session, viewer, "export cohort summary")
    table = tier_counts_by_major(frame)
    # Whole numbers in the file, with blank cells where counts are suppressed.
    counts = table.select_dtypes(include="number").columns
    contents = EXPORT_WRITERS[file_format](table.astype(dict.fromkeys(counts, "Int64")))
    file_name = export_file_name("cohort-tier-summary", file_format)
    audit.record(
        session,
        viewer,
        "export_cohort_summary",
        page=EXPORT_PAGE,
        detail={
            "format": file_format,
            "majors": len(table),
            "suppressed_majors": int(table["suppressed"].sum()),
            "filter": (cohort_filter or CohortFilter()).as_dict(),
        },
    )
    return file_name, contents
