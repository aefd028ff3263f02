"""SQLAlchemy models: the data model of Trajectory.

Every range and choice listed here is also a CHECK constraint, an enum type or a
unique constraint in the database, so that no code path can store a value the UI
would reject. Timestamps are timezone-aware and stored in UTC.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.types import UTCDateTime, utcnow, value_enum


class Role(enum.StrEnum):
    STUDENT = "student"
    OFFICER = "officer"
    STAFF = "staff"
    ADMIN = "admin"


class PlacementStatus(enum.StrEnum):
    PLACED = "Placed"
    NOT_PLACED = "Not Placed"


class CompanyTier(enum.StrEnum):
    TIER1 = "Tier1"
    TIER2 = "Tier2"
    TIER3 = "Tier3"


class PredictedOutcome(enum.StrEnum):
    """The outcome classes the engine gives probabilities for."""

    TIER1 = "Tier1"
    TIER2 = "Tier2"
    TIER3 = "Tier3"
    NOT_PLACED = "Not Placed"


class Trend(enum.StrEnum):
    IMPROVING = "improving"
    DECLINING = "declining"
    STABLE = "stable"


class Impact(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ImportKind(enum.StrEnum):
    ALUMNI = "alumni"
    ROSTER = "roster"


class CorrectionStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    REJECTED = "rejected"


# Market weights of a skill: low, normal and high demand.
MARKET_WEIGHTS = (0.5, 1.0, 2.0)

_MARKET_WEIGHT_CHECK = "market_weight IN (0.5, 1.0, 2.0)"


def _created_at() -> Mapped[datetime]:
    return mapped_column(
        UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


def _percent_check(column: str, name: str | None = None) -> CheckConstraint:
    return CheckConstraint(
        f"{column} IS NULL OR ({column} >= 0 AND {column} <= 100)",
        name=name or f"{column}_range",
    )


class FeatureVector(Base):
    """A stored feature vector of a student or an alumnus.

    ``values`` maps feature names to floats (missing features are absent).
    ``source_hash`` fingerprints the inputs, so rescoring skips unchanged rows.
    """

    __tablename__ = "feature_vectors"
    __table_args__ = (
        CheckConstraint("owner_kind IN ('student', 'alumnus')", name="owner_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    pipeline_version: Mapped[str] = mapped_column(String(32))
    source_hash: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = _created_at()


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (
        CheckConstraint("gpa IS NULL OR (gpa >= 0 AND gpa <= 10)", name="gpa_range"),
        _percent_check("attendance"),
        CheckConstraint("semester >= 1 AND semester <= 12", name="semester_range"),
        CheckConstraint(
            "expected_graduation_year >= 1950 AND expected_graduation_year <= 2100",
            name="expected_graduation_year_range",
        ),
        CheckConstraint(
            "weekly_study_hours IS NULL OR "
            "(weekly_study_hours >= 0 AND weekly_study_hours <= 168)",
            name="weekly_study_hours_range",
        ),
        CheckConstraint("project_count >= 0", name="project_count_nonnegative"),
        CheckConstraint("internship_count >= 0", name="internship_count_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_number: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    major: Mapped[str] = mapped_column(String(120), index=True)
    semester: Mapped[int] = mapped_column(Integer)
    expected_graduation_year: Mapped[int] = mapped_column(Integer, index=True)
    gpa: Mapped[float | None] = mapped_column(Float)
    attendance: Mapped[float | None] = mapped_column(Float)
    weekly_study_hours: Mapped[float | None] = mapped_column(Float)
    project_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    internship_count: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    feature_vector_id: Mapped[int | None] = mapped_column(
        ForeignKey("feature_vectors.id", ondelete="SET NULL")
    )
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        default=utcnow,
        onupdate=utcnow,
        server_default=text("CURRENT_TIMESTAMP"),
    )

    skills: Mapped[list[Skill]] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True
    )
    feature_vector: Mapped[FeatureVector | None] = relationship()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # A student account is always linked to its student record; other roles never.
        CheckConstraint(
            "(role = 'student' AND student_id IS NOT NULL) OR "
            "(role <> 'student' AND student_id IS NULL)",
            name="student_link",
        ),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(value_enum(Role, "user_role"))
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), unique=True
    )
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created_at()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    student: Mapped[Student | None] = relationship()


class UserSession(Base):
    """A signed-in browser session; the cookie carries a token stored here as a hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _created_at()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Import(Base):
    """One upload of a spreadsheet: who, when, what, how it was mapped, and counts."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(
            "rows_total >= 0 AND rows_written >= 0 AND rows_rejected >= 0 "
            "AND rows_duplicate >= 0",
            name="counts_nonnegative",
        ),
        # The same file cannot be imported twice unless the earlier import was undone.
        Index(
            "uq_imports_kind_file_sha256_active",
            "kind",
            "file_sha256",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(value_enum(ImportKind, "import_kind"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    sheet_name: Mapped[str | None] = mapped_column(String(255))
    encoding: Mapped[str | None] = mapped_column(String(64))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    constant_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_written: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # use_alter breaks the users -> students -> imports -> users cycle at creation.
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = _created_at()
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )


class ColumnMapping(Base):
    """A confirmed header mapping, reused for the next file with the same headers."""

    __tablename__ = "column_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    header_signature: Mapped[str] = mapped_column(String(64), unique=True)
    headers: Mapped[list[str]] = mapped_column(JSON)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class MajorAlias(Base):
    """An editable spelling of a major (``CSE``) and its canonical name."""

    __tablename__ = "major_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(120), unique=True)
    canonical: Mapped[str] = mapped_column(String(120))


class Alumnus(Base):
    __tablename__ = "alumni"
    __table_args__ = (
        CheckConstraint("gpa IS NULL OR (gpa >= 0 AND gpa <= 10)", name="gpa_range"),
        _percent_check("attendance"),
        _percent_check("role_to_major_match_score"),
        CheckConstraint(
            "graduation_year IS NULL OR "
            "(graduation_year >= 1950 AND graduation_year <= 2100)",
            name="graduation_year_range",
        ),
        # A tier describes a placement; alumni who were not placed have none.
        CheckConstraint(
            "placement_status = 'Placed' OR company_tier IS NULL",
            name="tier_only_when_placed",
        ),
        CheckConstraint(
            "salary_min_lpa IS NULL OR salary_min_lpa >= 0",
            name="salary_min_nonnegative",
        ),
        CheckConstraint(
            "salary_min_lpa IS NULL OR salary_max_lpa IS NULL "
            "OR salary_min_lpa <= salary_max_lpa",
            name="salary_bounds_ordered",
        ),
        UniqueConstraint("natural_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    major: Mapped[str] = mapped_column(String(120), index=True)
    graduation_year: Mapped[int | None] = mapped_column(Integer, index=True)
    gpa: Mapped[float | None] = mapped_column(Float)
    attendance: Mapped[float | None] = mapped_column(Float)
    placement_status: Mapped[PlacementStatus] = mapped_column(
        value_enum(PlacementStatus, "placement_status")
    )
    company_tier: Mapped[CompanyTier | None] = mapped_column(
        value_enum(CompanyTier, "company_tier")
    )
    role_title: Mapped[str | None] = mapped_column(String(200))
    salary_text: Mapped[str | None] = mapped_column(String(120))
    salary_min_lpa: Mapped[float | None] = mapped_column(Float)
    salary_max_lpa: Mapped[float | None] = mapped_column(Float)
    role_to_major_match_score: Mapped[float | None] = mapped_column(Float)
    gender: Mapped[str | None] = mapped_column(String(32))
    # Further numeric columns of the source file (internships, backlogs, aptitude...).
    extra_features: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    # Hash of the normalised name, major and graduation year. NULL when the file
    # has no names, because identical nameless rows may be different alumni.
    natural_key: Mapped[str | None] = mapped_column(String(64))
    source_row: Mapped[int | None] = mapped_column(Integer)
    feature_vector_id: Mapped[int | None] = mapped_column(
        ForeignKey("feature_vectors.id", ondelete="SET NULL")
    )
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _created_at()


class SkillCatalogueEntry(Base):
    """A skill's market weight as set by an admin, with the reasoning behind it."""

    __tablename__ = "skill_catalogue"
    __table_args__ = (CheckConstraint(_MARKET_WEIGHT_CHECK, name="market_weight"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    market_weight: Mapped[float] = mapped_column(Float, default=1.0)
    reasoning: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (
        UniqueConstraint("student_id", "name"),
        _percent_check("proficiency"),
        _percent_check("quiz_score"),
        _percent_check("voice_score"),
        CheckConstraint(_MARKET_WEIGHT_CHECK, name="market_weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), index=True)
    proficiency: Mapped[float] = mapped_column(Float)
    quiz_score: Mapped[float | None] = mapped_column(Float)
    voice_score: Mapped[float | None] = mapped_column(Float)
    market_weight: Mapped[float] = mapped_column(Float, default=1.0)
    weight_reasoning: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    student: Mapped[Student] = relationship(back_populates="skills")


class WellbeingConsent(Base):
    """A student's opt-in to wellbeing data collection, ended by ``withdrawn_at``."""

    __tablename__ = "wellbeing_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    notice_version: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = _created_at()
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigitalWellbeing(Base):
    __tablename__ = "digital_wellbeing_data"
    __table_args__ = (
        UniqueConstraint("student_id", "date"),
        CheckConstraint(
            "screen_time_hours >= 0 AND screen_time_hours <= 24",
            name="screen_time_range",
        ),
        CheckConstraint(
            "social_hours >= 0 AND study_app_hours >= 0 "
            "AND social_hours + study_app_hours <= screen_time_hours",
            name="app_usage_split",
        ),
        CheckConstraint("sleep_hours >= 0 AND sleep_hours <= 24", name="sleep_range"),
        _percent_check("focus_score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[date] = mapped_column(Date)
    screen_time_hours: Mapped[float] = mapped_column(Float)
    social_hours: Mapped[float] = mapped_column(Float)
    study_app_hours: Mapped[float] = mapped_column(Float)
    sleep_hours: Mapped[float] = mapped_column(Float)
    focus_score: Mapped[float] = mapped_column(Float)


class SubjectMark(Base):
    __tablename__ = "subject_marks"
    __table_args__ = (
        UniqueConstraint("student_id", "semester", "subject"),
        _percent_check("marks"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    semester: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(120))
    marks: Mapped[float] = mapped_column(Float)


class EngineRun(Base):
    """One run of the trajectory engine: a rescoring or a backtest."""

    __tablename__ = "engine_runs"
    __table_args__ = (
        CheckConstraint("kind IN ('rescore', 'backtest')", name="kind"),
        CheckConstraint("rows_scored >= 0", name="rows_scored_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    engine_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = _created_at()
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    rows_scored: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    triggered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class TrajectoryScore(Base):
    __tablename__ = "trajectory_scores"
    __table_args__ = (
        # An abstained result has a reason and no number; a scored one has all numbers.
        CheckConstraint(
            "(abstain_reason IS NULL AND score IS NOT NULL AND confidence IS NOT NULL "
            "AND margin_of_error IS NOT NULL AND predicted_tier IS NOT NULL) OR "
            "(abstain_reason IS NOT NULL AND score IS NULL)",
            name="scored_or_abstained",
        ),
        CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"
        ),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
            name="confidence_range",
        ),
        CheckConstraint(
            "margin_of_error IS NULL OR margin_of_error >= 0", name="margin_nonnegative"
        ),
        CheckConstraint("similar_alumni_count >= 0", name="similar_alumni_nonnegative"),
        Index(
            "ix_trajectory_scores_student_id_computed_at", "student_id", "computed_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE")
    )
    computed_at: Mapped[datetime] = _created_at()
    score: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    margin_of_error: Mapped[float | None] = mapped_column(Float)
    trend: Mapped[Trend | None] = mapped_column(value_enum(Trend, "trend"))
    velocity: Mapped[float | None] = mapped_column(Float)
    predicted_tier: Mapped[PredictedOutcome | None] = mapped_column(
        value_enum(PredictedOutcome, "predicted_outcome")
    )
    probabilities: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    similar_alumni_count: Mapped[int] = mapped_column(Integer, default=0)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    abstain_reason: Mapped[str | None] = mapped_column(Text)
    engine_version: Mapped[str] = mapped_column(String(32))
    engine_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("engine_runs.id", ondelete="SET NULL")
    )


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (
        CheckConstraint(
            "(completed AND completed_at IS NOT NULL) OR "
            "(NOT completed AND completed_at IS NULL)",
            name="completed_time",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    score_id: Mapped[int | None] = mapped_column(
        ForeignKey("trajectory_scores.id", ondelete="SET NULL")
    )
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    impact: Mapped[Impact] = mapped_column(value_enum(Impact, "impact"))
    estimated_points: Mapped[float] = mapped_column(Float)
    timeline: Mapped[str] = mapped_column(String(120))
    completed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created_at()


class CorrectionRequest(Base):
    """A student's request to correct a stored value, resolved by an officer."""

    __tablename__ = "correction_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(64))
    current_value: Mapped[str | None] = mapped_column(Text)
    requested_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CorrectionStatus] = mapped_column(
        value_enum(CorrectionStatus, "correction_status"), default=CorrectionStatus.OPEN
    )
    created_at: Mapped[datetime] = _created_at()
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """An append-only record of who did what to which record, from which page.

    Database triggers reject updates, and deletes of entries younger than a year.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        default=utcnow,
        server_default=text("CURRENT_TIMESTAMP"),
        index=True,
    )
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_username: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_kind: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
