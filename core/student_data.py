"""Data a student enters about themselves: skills and digital wellbeing.

Students write only their own rows. Reads follow the access rules of
``core.access``: a student reads their own rows, officers and admins read any,
and staff read none. Wellbeing rows are stored only while the student's consent
is active, and withdrawing consent deletes them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from core import audit
from core.access import (
    AccessDenied,
    Viewer,
    require_own_student,
    require_student_access,
)
from core.skill_catalogue import check_name_length, find_entry, skill_key
from db.models import (
    DigitalWellbeing,
    Skill,
    WellbeingConsent,
)
from db.types import utcnow

# Market weight of a skill that has no entry in the admin's skill catalogue.
DEFAULT_MARKET_WEIGHT = 1.0

# Version of the consent notice below; stored with each consent so a later
# change of wording can ask students again.
CONSENT_NOTICE_VERSION = "2026-12"

CONSENT_NOTICE = (
    "If you opt in, Trajectory stores the daily figures you enter here: screen "
    "time, hours in social and in study apps, and hours of sleep, together with a "
    "focus score computed from them. They are used only to show you your own "
    "wellbeing trend and to suggest changes on your trajectory page. Placement "
    "officers and admins can see them; staff and exports for officers cannot. You "
    "can withdraw at any time: collection stops and every wellbeing row stored "
    "about you is deleted at once."
)


@dataclass(frozen=True)
class SkillRow:
    """One of a student's skills as pages show it."""

    skill_id: int
    name: str
    proficiency: float
    quiz_score: float | None
    voice_score: float | None
    market_weight: float


def _check_score(label: str, value: float | None) -> None:
    if value is not None and not 0 <= value <= 100:
        raise ValueError(f"{label} must be between 0 and 100, got {value}")


def list_skills(session: Session, viewer: Viewer, student_id: int) -> list[SkillRow]:
    """Return the skills of ``student_id``, by name.

    Raises ``AccessDenied`` (and writes an audit entry) unless the viewer may
    read that student.
    """
    require_student_access(session, viewer, student_id, "read skills")
    skills = session.scalars(
        select(Skill).where(Skill.student_id == student_id).order_by(Skill.name)
    )
    return [
        SkillRow(
            skill_id=skill.id,
            name=skill.name,
            proficiency=skill.proficiency,
            quiz_score=skill.quiz_score,
            voice_score=skill.voice_score,
            market_weight=skill.market_weight,
        )
        for skill in skills
    ]


def catalogue_weight(session: Session, name: str) -> tuple[float, str]:
    """Return the market weight and reasoning the catalogue gives skill ``name``.

    Names match by ``skill_key`` (trimmed and case-folded). A skill outside the
    catalogue gets ``DEFAULT_MARKET_WEIGHT`` and empty reasoning.
    """
    entry = find_entry(session, name)
    if entry is None:
        return DEFAULT_MARKET_WEIGHT, ""
    return entry.market_weight, entry.reasoning


def save_skill(
    session: Session,
    viewer: Viewer,
    name: str,
    proficiency: float,
    quiz_score: float | None = None,
    voice_score: float | None = None,
) -> int:
    """Add a skill to the viewer's own record, or update it, and return its id.

    Scores are 0-100. The market weight comes from the skill catalogue when it
    has the skill, else it is ``DEFAULT_MARKET_WEIGHT``.
    """
    student_id = require_own_student(session, viewer, "save a skill")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise ValueError("skill name is empty: enter a skill name")
    check_name_length(name)
    _check_score("proficiency", proficiency)
    _check_score("quiz score", quiz_score)
    _check_score("voice score", voice_score)

    weight, reasoning = catalogue_weight(session, name)
    own_skills = session.scalars(select(Skill).where(Skill.student_id == student_id))
    skill = next(
        (own for own in own_skills if skill_key(own.name) == skill_key(name)), None
    )
    if skill is None:
        skill = Skill(student_id=student_id, name=name)
        session.add(skill)
    skill.proficiency = proficiency
    skill.quiz_score = quiz_score
    skill.voice_score = voice_score
    skill.market_weight = weight
    skill.weight_reasoning = reasoning
    session.flush()
    return skill.id


def remove_skill(session: Session, viewer: Viewer, skill_id: int) -> None:
    """Delete one of the viewer's own skills.

    A skill of another student is refused with ``AccessDenied`` like a missing
    one, so the refusal does not tell whether the id exists.
    """
    student_id = require_own_student(session, viewer, "remove a skill")
    skill = session.get(Skill, skill_id)
    if skill is None or skill.student_id != student_id:
        audit.record_denial(
            session,
            viewer,
            "remove a skill",
            target_kind="skill",
            target_id=str(skill_id),
            detail={},
        )
        raise AccessDenied(f"skill id {skill_id} is not one of your skills")
    session.delete(skill)
    session.flush()


def active_consent(session: Session, student_id: int) -> WellbeingConsent | None:
    """Return the student's consent to wellbeing collection, if it is active."""
    return session.scalar(
        select(WellbeingConsent)
        .where(
            WellbeingConsent.student_id == student_id,
            WellbeingConsent.withdrawn_at.is_(None),
        )
        .order_by(WellbeingConsent.granted_at.desc())
        .limit(1)
    )


def has_consent(session: Session, viewer: Viewer, student_id: int) -> bool:
    """Return whether ``student_id`` has opted in to wellbeing collection."""
    require_student_access(session, viewer, student_id, "read wellbeing consent")
    return active_consent(session, student_id) is not None


def grant_consent(session: Session, viewer: Viewer) -> None:
    """Record the viewer's opt-in to wellbeing collection under the current notice."""
    student_id = require_own_student(session, viewer, "grant wellbeing consent")
    if active_consent(session, student_id) is not None:
        return
    session.add(
        WellbeingConsent(student_id=student_id, notice_version=CONSENT_NOTICE_VERSION)
    )
    audit.record(
        session,
        viewer,
        "consent_granted",
        target_kind="student",
        target_id=student_id,
        detail={"purpose": "wellbeing", "notice_version": CONSENT_NOTICE_VERSION},
    )


def withdraw_consent(session: Session, viewer: Viewer) -> int:
    """Withdraw the viewer's wellbeing consent and delete their wellbeing rows.

    Returns the number of rows deleted. Other students' rows are untouched.
    """
    student_id = require_own_student(session, viewer, "withdraw wellbeing consent")
    consent = active_consent(session, student_id)
    if consent is not None:
        consent.withdrawn_at = utcnow()
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(DigitalWellbeing).where(DigitalWellbeing.student_id == student_id)
    )
    deleted = result.rowcount
    audit.record(
        session,
        viewer,
        "consent_withdrawn",
        target_kind="student",
        target_id=student_id,
        detail={"purpose": "wellbeing", "rows_deleted": deleted},
    )
    return deleted


# Sleep range that scores full marks, in hours: the National Sleep Foundation's
# recommendation for ages 18-64 (Hirshkowitz et al., Sleep Health 1(1):40-43, 2015).
HEALTHY_SLEEP_HOURS = (7.0, 9.0)
SLEEP_PENALTY_PER_HOUR = 15.0
SOCIAL_PENALTY_PER_HOUR = 12.5
FOCUS_WEIGHTS = {"sleep": 0.4, "social": 0.4, "study_share": 0.2}


def focus_score(
    screen_time_hours: float,
    social_hours: float,
    study_app_hours: float,
    sleep_hours: float,
) -> float:
    """Compute the 0-100 focus score of one day.

    ``focus = 0.4 * sleep_part + 0.4 * social_part + 0.2 * study_part`` where

    - ``sleep_part = 100 - 15 * h``, with ``h`` the hours of sleep outside the
      7-9 hour range, floored at 0;
    - ``social_part = 100 - 12.5 * social_hours``, floored at 0 (8 hours of
      social apps score 0);
    - ``study_part = 100 * study_app_hours / screen_time_hours``, and 100 on a
      day without screen time.

    This is our own heuristic for showing a trend, not a validated clinical
    measure. The result is rounded to one decimal.
    """
    low, high = HEALTHY_SLEEP_HOURS
    sleep_gap = max(low - sleep_hours, sleep_hours - high, 0.0)
    sleep_part = max(0.0, 100.0 - SLEEP_PENALTY_PER_HOUR * sleep_gap)
    social_part = max(0.0, 100.0 - SOCIAL_PENALTY_PER_HOUR * social_hours)
    if screen_time_hours > 0:
        study_part = 100.0 * min(study_app_hours / screen_time_hours, 1.0)
    else:
        study_part = 100.0
    score = (
        FOCUS_WEIGHTS["sleep"] * sleep_part
        + FOCUS_WEIGHTS["social"] * social_part
        + FOCUS_WEIGHTS["study_share"] * study_part
    )
    return round(min(max(score, 0.0), 100.0), 1)


@dataclass(frozen=True)
class WellbeingDay:
    """One day of a student's wellbeing data."""

    day: date
    screen_time_hours: float
    social_hours: float
    study_app_hours: float
    sleep_hours: float
    focus_score: float


def _check_day(screen: float, social: float, study: float, sleep: float) -> None:
    if not 0 <= screen <= 24:
        raise ValueError(f"screen time must be 0-24 hours, got {screen}")
    if not 0 <= sleep <= 24:
        raise ValueError(f"sleep must be 0-24 hours, got {sleep}")
    if social < 0 or study < 0:
        raise ValueError("app hours cannot be negative")
    if social + study > screen:
        raise ValueError(
            f"social ({social} h) and study ({study} h) app hours exceed the "
            f"screen time ({screen} h): they are part of it"
        )


def save_wellbeing_day(
    session: Session,
    viewer: Viewer,
    day: date,
    screen_time_hours: float,
    social_hours: float,
    study_app_hours: float,
    sleep_hours: float,
) -> float:
    """Store one day of the viewer's wellbeing data and return its focus score.

    Replaces an earlier entry of the same day. Raises ``PermissionError`` when
    the student has not opted in (or has withdrawn), so nothing is collected
    without consent.
    """
    student_id = require_own_student(session, viewer, "save wellbeing data")
    if active_consent(session, student_id) is None:
        raise PermissionError("wellbeing data is collected only after you opt in")
    _check_day(screen_time_hours, social_hours, study_app_hours, sleep_hours)

    score = focus_score(screen_time_hours, social_hours, study_app_hours, sleep_hours)
    row = session.scalar(
        select(DigitalWellbeing).where(
            DigitalWellbeing.student_id == student_id, DigitalWellbeing.date == day
        )
    )
    if row is None:
        row = DigitalWellbeing(student_id=student_id, date=day)
        session.add(row)
    row.screen_time_hours = screen_time_hours
    row.social_hours = social_hours
    row.study_app_hours = study_app_hours
    row.sleep_hours = sleep_hours
    row.focus_score = score
    session.flush()
    return score


def list_wellbeing(
    session: Session, viewer: Viewer, student_id: int
) -> list[WellbeingDay]:
    """Return the wellbeing days of ``student_id``, oldest first.

    Students read their own; officers and admins read any; staff none.
    """
    require_student_access(session, viewer, student_id, "read wellbeing data")
    rows = session.scalars(
        select(DigitalWellbeing)
        .where(DigitalWellbeing.student_id == student_id)
        .order_by(DigitalWellbeing.date)
    )
    return [
        WellbeingDay(
            day=row.date,
            screen_time_hours=row.screen_time_hours,
            social_hours=row.social_hours,
            study_app_hours=row.study_app_hours,
            sleep_hours=row.sleep_hours,
            focus_score=row.focus_score,
        )
        for row in rows
    ]
