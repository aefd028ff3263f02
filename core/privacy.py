"""Data-protection duties: a student's own data, corrections, export rules, retention.

These functions carry out what the Digital Personal Data Protection Act 2023
(India) and FERPA (US) ask of the college. A student can see and download
everything stored about them and request a correction. Every view and export of
a record is in the audit log. Exports carry only the columns a role may see, and
small groups are hidden in aggregates. Data is deleted a set time after
graduation.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, exports
from core.access import (
    STUDENT_READERS,
    Viewer,
    require_own_student,
    require_role,
    require_student_access,
)
from core.engine.vectors import delete_owned_vectors
from db.models import (
    CorrectionRequest,
    CorrectionStatus,
    DigitalWellbeing,
    Recommendation,
    Role,
    Skill,
    Student,
    SubjectMark,
    TrajectoryScore,
    User,
    WellbeingConsent,
)
from db.types import utcnow

# Minimum group size in an aggregate export. Smaller groups have their figures
# hidden, so that a group average cannot reveal one student's values.
MIN_GROUP_SIZE = 5

# Student record fields that the cohort overview lists for each student.
STUDENT_SUMMARY_FIELDS = (
    "roll_number",
    "name",
    "major",
    "semester",
    "expected_graduation_year",
    "gpa",
    "attendance",
)
# All student record fields, which a roster import writes and officers and
# admins may export. A student reads them in their own record.
STUDENT_FIELDS = (
    *STUDENT_SUMMARY_FIELDS,
    "weekly_study_hours",
    "project_count",
    "internship_count",
)
# Trajectory score fields that officers and admins see and may export.
SCORE_FIELDS = (
    "score",
    "margin_of_error",
    "confidence",
    "predicted_tier",
    "trend",
    "velocity",
)

# Columns of a per-student export that each role may receive. Officers get no
# wellbeing columns; staff and students get no student list at all.
EXPORT_COLUMNS: dict[Role, tuple[str, ...]] = {
    Role.OFFICER: (*STUDENT_FIELDS, *SCORE_FIELDS),
}
EXPORT_COLUMNS[Role.ADMIN] = EXPORT_COLUMNS[Role.OFFICER]

# Inclusive ranges of numeric fields, the same as the CHECK constraints on
# students, so that an accepted correction fails with a clear message.
FIELD_RANGES: dict[str, tuple[float, float]] = {
    "semester": (1, 12),
    "expected_graduation_year": (1950, 2100),
    "gpa": (0, 10),
    "attendance": (0, 100),
    "weekly_study_hours": (0, 168),
    "project_count": (0, float("inf")),
    "internship_count": (0, float("inf")),
}

# Fields of the student record a correction request may name, with their types.
CORRECTABLE_FIELDS: dict[str, type] = {
    "name": str,
    "major": str,
    "semester": int,
    "expected_graduation_year": int,
    "gpa": float,
    "attendance": float,
    "weekly_study_hours": float,
    "project_count": int,
    "internship_count": int,
}


def allowed_export_columns(
    session: Session, viewer: Viewer, frame: pd.DataFrame
) -> pd.DataFrame:
    """Return ``frame`` cut to the columns the viewer's role may export.

    Columns outside the role's allow-list are dropped, whatever their name, so
    a new column (wellbeing, for example) never leaks into an export by default.
    Raises ``AccessDenied`` for roles without a per-student export.
    """
    require_role(session, viewer, STUDENT_READERS, "export student records")
    allowed = EXPORT_COLUMNS[viewer.role]
    return frame[[column for column in frame.columns if column in allowed]]


def suppress_small_groups(
    frame: pd.DataFrame, count_column: str, min_group_size: int = MIN_GROUP_SIZE
) -> pd.DataFrame:
    """Return an aggregate table with the figures of small groups blanked.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per group, with the group's size in ``count_column``.
    count_column : str
        Column holding the number of students in each group.
    min_group_size : int, default MIN_GROUP_SIZE
        Groups smaller than this keep their key columns (text columns) but
        every numeric column, the count included, becomes missing.

    Returns
    -------
    pandas.DataFrame
        A copy with a boolean ``suppressed`` column added.
    """
    if count_column not in frame.columns:
        raise KeyError(f"count column {count_column!r} not in {list(frame.columns)}")
    result = frame.copy()
    small = result[count_column] < min_group_size
    numeric = result.select_dtypes(include="number").columns
    result[numeric] = result[numeric].astype("float64")
    result.loc[small, numeric] = float("nan")
    result["suppressed"] = small.to_numpy()
    return result


def _rows(objects: Any, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{column: getattr(item, column) for column in columns} for item in objects]


# Fields of the ``student`` section of a student's own record.
RECORD_FIELDS = (*STUDENT_FIELDS, "created_at", "updated_at")


def _student_sections(
    session: Session, student_id: int
) -> dict[str, list[dict[str, Any]]]:
    by_student = {
        "skills": (
            Skill,
            (
                "name",
                "proficiency",
                "quiz_score",
                "voice_score",
                "market_weight",
                "weight_reasoning",
                "updated_at",
            ),
        ),
        "wellbeing": (
            DigitalWellbeing,
            (
                "date",
                "screen_time_hours",
                "social_hours",
                "study_app_hours",
                "sleep_hours",
                "focus_score",
            ),
        ),
        "consents": (
            WellbeingConsent,
            ("notice_version", "granted_at", "withdrawn_at"),
        ),
        "subject_marks": (SubjectMark, ("semester", "subject", "marks")),
        "trajectory_scores": (
            TrajectoryScore,
            ("computed_at", *SCORE_FIELDS, "abstain_reason", "engine_version"),
        ),
        "recommendations": (
            Recommendation,
            (
                "title",
                "description",
                "impact",
                "estimated_points",
                "timeline",
                "completed",
                "completed_at",
                "created_at",
            ),
        ),
        "correction_requests": (
            CorrectionRequest,
            (
                "field",
                "current_value",
                "requested_value",
                "reason",
                "status",
                "created_at",
                "resolved_at",
                "resolution_note",
            ),
        ),
    }
    sections: dict[str, list[dict[str, Any]]] = {}
    for section, (model, columns) in by_student.items():
        query = select(model).where(model.student_id == student_id)  # type: ignore[attr-defined]
        sections[section] = _rows(session.scalars(query), columns)
    return sections


def student_record(
    session: Session,
    viewer: Viewer,
    student_id: int,
    page: str | None = None,
    *,
    audit_view: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Return everything stored about ``student_id``, section by section.

    Sections: ``student``, ``account`` (never the password hash), ``skills``,
    ``wellbeing``, ``consents``, ``subject_marks``, ``trajectory_scores``,
    ``recommendations`` and ``correction_requests``. The view is audited once per
    visit (``audit.record_view``) unless ``audit_view`` is false.
    """
    require_student_access(session, viewer, student_id, "view a student record")
    student = session.get(Student, student_id)
    if student is None:
        raise LookupError(f"student id {student_id} not found")
    record: dict[str, list[dict[str, Any]]] = {
        "student": _rows([student], RECORD_FIELDS),
        "account": _rows(
            session.scalars(select(User).where(User.student_id == student_id)),
            ("username", "role", "is_active", "created_at", "last_login_at"),
        ),
    }
    record.update(_student_sections(session, student_id))
    if not audit_view:
        return record
    audit.record_view(
        session,
        viewer,
        "record_viewed",
        target_kind="student",
        target_id=student_id,
        page=page,
    )
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def export_student_record(
    session: Session,
    viewer: Viewer,
    student_id: int,
    file_format: str,
    page: str | None = None,
) -> tuple[str, bytes, str]:
    """Return (file name, content, MIME type) of a student's full record.

    ``file_format`` is ``"json"`` or ``"xlsx"`` (one sheet per section, cells
    made formula-safe). The file name carries a UTC timestamp. The export is
    audited.
    """
    if file_format not in ("json", "xlsx"):
        raise ValueError(f"file format must be 'json' or 'xlsx', got {file_format!r}")
    record = student_record(session, viewer, student_id, page=page)
    plain = {
        section: [{key: _plain(value) for key, value in row.items()} for row in rows]
        for section, rows in record.items()
    }
    stem = f"my-data-{plain['student'][0]['roll_number']}"
    if file_format == "json":
        content = json.dumps(plain, indent=2, ensure_ascii=False).encode("utf-8")
        mime = "application/json"
    else:
        content = _xlsx_of_sections(plain)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit.record(
        session,
        viewer,
        "record_exported",
        target_kind="student",
        target_id=student_id,
        page=page,
        detail={"format": file_format},
    )
    return exports.export_file_name(stem, file_format), content, mime


def _xlsx_of_sections(sections: dict[str, list[dict[str, Any]]]) -> bytes:
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for section, rows in sections.items():
            frame = exports.neutralise_frame(pd.DataFrame(rows))
            frame.to_excel(writer, index=False, sheet_name=section[:31])
    return buffer.getvalue()


def request_correction(
    session: Session, viewer: Viewer, field: str, requested_value: str, reason: str
) -> int:
    """File a correction request on the viewer's own record and return its id."""
    student_id = require_own_student(session, viewer, "request a correction")
    if field not in CORRECTABLE_FIELDS:
        raise ValueError(
            f"field {field!r} cannot be corrected here: choose one of "
            f"{', '.join(CORRECTABLE_FIELDS)}"
        )
    if not requested_value.strip():
        raise ValueError("requested value is empty: enter the correct value")
    student = session.get(Student, student_id)
    current = None if student is None else getattr(student, field)
    request = CorrectionRequest(
        student_id=student_id,
        field=field,
        current_value=None if current is None else str(current),
        requested_value=requested_value.strip(),
        reason=reason.strip(),
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        viewer,
        "correction_requested",
        target_kind="student",
        target_id=student_id,
        detail={"request_id": request.id, "field": field},
    )
    return request.id


@dataclass(frozen=True)
class CorrectionRow:
    """A correction request as the officers' page lists it."""

    request_id: int
    student_id: int
    roll_number: str
    field: str
    current_value: str | None
    requested_value: str
    reason: str
    status: CorrectionStatus
    created_at: datetime


def list_corrections(
    session: Session, viewer: Viewer, status: CorrectionStatus | None = None
) -> list[CorrectionRow]:
    """Return correction requests, oldest first (officers and admins only)."""
    require_role(session, viewer, STUDENT_READERS, "list correction requests")
    query = (
        select(CorrectionRequest, Student.roll_number)
        .join(Student, Student.id == CorrectionRequest.student_id)
        .order_by(CorrectionRequest.created_at, CorrectionRequest.id)
    )
    if status is not None:
        query = query.where(CorrectionRequest.status == status)
    return [
        CorrectionRow(
            request_id=request.id,
            student_id=request.student_id,
            roll_number=roll_number,
            field=request.field,
            current_value=request.current_value,
            requested_value=request.requested_value,
            reason=request.reason,
            status=request.status,
            created_at=request.created_at,
        )
        for request, roll_number in session.execute(query)
    ]


def _corrected_value(field: str, text: str) -> object:
    invalid = (
        f"{text!r} is not a valid {field}: "
        "reject the request or ask the student for a valid value"
    )
    try:
        value = CORRECTABLE_FIELDS[field](text.strip())
    except ValueError as error:
        raise ValueError(invalid) from error
    if field in FIELD_RANGES:
        low, high = FIELD_RANGES[field]
        if not low <= value <= high:
            raise ValueError(f"{invalid} (allowed range {low:g} to {high:g})")
    return value


def resolve_correction(
    session: Session, viewer: Viewer, request_id: int, accept: bool, note: str
) -> None:
    """Accept or reject an open correction request (officers and admins only).

    Accepting writes the requested value into the student record. A value that
    does not fit the field (text for a number, a GPA of 11) raises
    ``ValueError``, and nothing is changed.
    """
    require_role(session, viewer, STUDENT_READERS, "resolve a correction request")
    request = session.get(CorrectionRequest, request_id)
    if request is None:
        raise LookupError(f"correction request {request_id} not found")
    if request.status is not CorrectionStatus.OPEN:
        raise ValueError(f"correction request {request_id} is already resolved")

    if accept:
        student = session.get(Student, request.student_id)
        if student is None:
            raise LookupError(f"student id {request.student_id} not found")
        value = _corrected_value(request.field, request.requested_value)
        setattr(student, request.field, value)
        session.flush()

    request.status = CorrectionStatus.RESOLVED if accept else CorrectionStatus.REJECTED
    request.resolved_by_id = viewer.user_id
    request.resolved_at = utcnow()
    request.resolution_note = note.strip()
    audit.record(
        session,
        viewer,
        "correction_resolved",
        target_kind="student",
        target_id=request.student_id,
        detail={"request_id": request.id, "field": request.field, "accepted": accept},
    )


def default_retention_years() -> int:
    """Return the years student data is kept after graduation.

    Set by ``TRAJECTORY_RETENTION_YEARS``; the default of 3 is our choice, not a
    legal figure: each college sets its own period.
    """
    return int(os.environ.get("TRAJECTORY_RETENTION_YEARS", "3"))


def apply_retention(
    session: Session, years: int, *, today: date | None = None, dry_run: bool = False
) -> list[int]:
    """Delete students whose graduation year ended more than ``years`` ago.

    A student with expected graduation year ``Y`` is kept through the end of
    year ``Y + years``. Their skills, wellbeing rows, scores, recommendations,
    marks, correction requests and account go with them (foreign keys with
    ON DELETE CASCADE). Returns the deleted student ids; the run is audited
    (ids and counts, no names). With ``dry_run`` nothing is deleted.
    """
    if years < 0:
        raise ValueError(f"retention period must be 0 or more years, got {years}")
    last_year_to_delete = (today or utcnow().date()).year - years - 1
    ids = list(
        session.scalars(
            select(Student.id)
            .where(Student.expected_graduation_year <= last_year_to_delete)
            .order_by(Student.id)
        )
    )
    if dry_run or not ids:
        return ids
    delete_owned_vectors(session, Student, Student.id.in_(ids))
    session.execute(delete(Student).where(Student.id.in_(ids)))
    audit.record(
        session,
        None,
        "retention_deleted",
        target_kind="student",
        detail={
            "years": years,
            "graduated_up_to": last_year_to_delete,
            "students_deleted": len(ids),
            "student_ids": ids,
        },
    )
    return ids
