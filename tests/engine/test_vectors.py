"""Stored feature vectors: written once, reused, replaced and deleted with owners."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from core.engine.features import PIPELINE_VERSION
from core.engine.service import rescore_students
from core.engine.vectors import values_hash
from core.importing import undo_import
from core.privacy import apply_retention
from db.models import (
    Alumnus,
    EngineRun,
    FeatureVector,
    Import,
    ImportKind,
    Student,
    TrajectoryScore,
)
from db.session import session_scope
from tests.engine.helpers import add_ladder
from tests.factories import make_alumnus, make_student

START = datetime(2026, 11, 1, tzinfo=UTC)


def _vector_count(engine: Engine, owner_kind: str) -> int:
    with session_scope(engine) as session:
        return int(
            session.scalar(
                select(func.count(FeatureVector.id)).where(
                    FeatureVector.owner_kind == owner_kind
                )
            )
            or 0
        )


def _alumni_written(engine: Engine, run_id: int) -> int:
    with session_scope(engine) as session:
        run = session.get(EngineRun, run_id)
        assert run is not None
        return int(run.metrics["alumni_vectors_written"])


def _scores(engine: Engine, run_id: int) -> list[tuple[int, float | None]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(TrajectoryScore.student_id, TrajectoryScore.score)
            .where(TrajectoryScore.engine_run_id == run_id)
            .order_by(TrajectoryScore.student_id)
        ).all()
    return [(student_id, score) for student_id, score in rows]


def test_alumni_vectors_hold_raw_values(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 12)
        odd = make_alumnus(
            session,
            gpa=None,
            attendance=91.0,
            extra_features={"internship_count": 2.0, "backlogs": 1.0},
        )
        make_student(session)
        odd_id = odd.id

    summary = rescore_students(engine, now=START)

    assert _alumni_written(engine, summary.run_id) == 13
    with session_scope(engine) as session:
        alumnus = session.get(Alumnus, odd_id)
        assert alumnus is not None and alumnus.feature_vector_id is not None
        vector = session.get(FeatureVector, alumnus.feature_vector_id)
        assert vector is not None
        assert vector.owner_kind == "alumnus"
        assert vector.pipeline_version == PIPELINE_VERSION
        assert vector.values == {
            "attendance": 91.0,
            "internship_count": 2.0,
            "backlogs": 1.0,
        }
        assert vector.source_hash == values_hash(vector.values)
        unlinked = session.scalar(
            select(func.count(Alumnus.id)).where(Alumnus.feature_vector_id.is_(None))
        )
        assert unlinked == 0


def test_second_run_reuses_alumni_vectors(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 20)
        for gpa in (6.0, 7.0, 8.5):
            make_student(session, gpa=gpa)
    first = rescore_students(engine, now=START)

    second = rescore_students(engine, now=START + timedelta(days=1))

    assert _alumni_written(engine, second.run_id) == 0
    assert _vector_count(engine, "alumnus") == 20
    assert [score for _, score in _scores(engine, second.run_id)] == [
        score for _, score in _scores(engine, first.run_id)
    ]


def test_outdated_alumni_vectors_rewritten(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 15)
        make_student(session)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        session.execute(update(FeatureVector).values(pipeline_version="features-0"))

    summary = rescore_students(engine, now=START + timedelta(days=1))

    assert _alumni_written(engine, summary.run_id) == 15
    with session_scope(engine) as session:
        linked_versions = set(
            session.scalars(
                select(FeatureVector.pipeline_version).join(
                    Alumnus, Alumnus.feature_vector_id == FeatureVector.id
                )
            )
        )
        assert linked_versions == {PIPELINE_VERSION}


def test_changed_student_replaces_vector(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 15)
        student_id = make_student(session, gpa=6.0).id
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        old_vector_id = student.feature_vector_id
        student.gpa = 8.0

    rescore_students(engine, now=START + timedelta(days=1), only_changed=True)

    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        assert old_vector_id is not None
        assert student.feature_vector_id != old_vector_id
        assert session.get(FeatureVector, old_vector_id) is None
        vector = session.get(FeatureVector, student.feature_vector_id)
        assert vector is not None
        assert vector.values["gpa"] == pytest.approx(8.0)
    assert _vector_count(engine, "student") == 1


def test_undo_import_deletes_alumni_vectors(engine: Engine) -> None:
    with session_scope(engine) as session:
        record = Import(
            kind=ImportKind.ALUMNI,
            file_name="alumni.csv",
            file_sha256="0" * 64,
            mapping={},
            rows_total=12,
            rows_written=12,
        )
        session.add(record)
        session.flush()
        import_id = record.id
        for number in range(12):
            make_alumnus(session, gpa=5.0 + number * 0.4, import_id=import_id)
        make_student(session)
    rescore_students(engine, now=START)
    assert _vector_count(engine, "alumnus") == 12

    undo_import(engine, None, import_id)

    assert _vector_count(engine, "alumnus") == 0


def test_retention_deletes_student_vectors(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 15)
        make_student(session, expected_graduation_year=2020)
        make_student(session, expected_graduation_year=2027)
    rescore_students(engine, now=START)
    assert _vector_count(engine, "student") == 2

    with session_scope(engine) as session:
        deleted = apply_retention(session, 3, today=date(2026, 12, 4))

    assert len(deleted) == 1
    assert _vector_count(engine, "student") == 1


def test_extreme_old_extras_read_as_missing(engine: Engine) -> None:
    # Stored before the importer rejected such values.
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 12)
        extreme_id = make_alumnus(
            session, extra_features={"internship_count": 1e308, "backlogs": 2.0}
        ).id
        make_student(session)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        rescore_students(engine, now=START)

    with session_scope(engine) as session:
        alumnus = session.get(Alumnus, extreme_id)
        assert alumnus is not None and alumnus.feature_vector_id is not None
        vector = session.get(FeatureVector, alumnus.feature_vector_id)
        assert vector is not None
        assert "internship_count" not in vector.values
        assert vector.values["backlogs"] == 2.0
