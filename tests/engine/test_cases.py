"""The tiny-majors and missing-values case spreadsheets, scored end to end."""

from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy import Engine, select

from core.engine.scoring import ABSTAIN_NO_ALUMNI
from core.engine.service import rescore_students
from db.models import Alumnus, TrajectoryScore
from db.session import session_scope
from tests.engine.helpers import add_case_alumni, add_ladder
from tests.factories import make_student


def _scores(engine: Engine) -> dict[int, TrajectoryScore]:
    with session_scope(engine) as session:
        rows = session.scalars(select(TrajectoryScore)).all()
        return {row.student_id: row for row in rows}


def test_tiny_major_scores_with_less_confidence(
    engine: Engine, shared_cases: Path
) -> None:
    with session_scope(engine) as session:
        add_case_alumni(session, shared_cases / "alumni_tiny_majors.csv")
        # Computer Science gets a large pool besides the file's three alumni.
        add_ladder(session, "Computer Science", 40)
        biotech = make_student(session, major="Biotechnology", gpa=7.0, attendance=80.0)
        computing = make_student(
            session, major="Computer Science", gpa=7.0, attendance=80.0
        )
        orphan = make_student(session, major="Astronomy", gpa=7.0, attendance=80.0)
        ids = (biotech.id, computing.id, orphan.id)

    rescore_students(engine)

    scores = _scores(engine)
    small, large, none = (scores[student_id] for student_id in ids)
    assert small.score is not None
    assert small.abstain_reason is None
    assert small.confidence < large.confidence
    assert small.margin_of_error > large.margin_of_error
    assert small.explanation["fallback"] is True
    assert none.score is None
    assert none.abstain_reason == ABSTAIN_NO_ALUMNI
    assert none.similar_alumni_count == 0


def test_missing_values_score_without_error(engine: Engine, shared_cases: Path) -> None:
    with session_scope(engine) as session:
        add_case_alumni(session, shared_cases / "alumni_missing_values.csv")
        stored = session.scalars(select(Alumnus).order_by(Alumnus.id)).all()
        assert [row.attendance for row in stored][0] is None
        assert [row.gpa for row in stored][1] is None
        student = make_student(
            session, major="Information Technology", gpa=None, attendance=80.0
        )
        student_id = student.id

    summary = rescore_students(engine)

    score = _scores(engine)[student_id]
    assert summary.abstained == 0
    assert score.score is not None
    assert not math.isnan(score.score)
    assert 0 < score.confidence < 1
    assert score.explanation["features_present"] == 0.5
