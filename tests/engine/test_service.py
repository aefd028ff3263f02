"""Rescoring end to end: stored rows, vectors, trends, recommendations, weights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from core.access import AccessDenied
from core.engine import views
from core.engine.data import load_skills, load_students
from core.engine.service import rescore_students
from core.skill_catalogue import save_catalogue_entry
from db.models import (
    AuditEntry,
    EngineRun,
    Recommendation,
    Role,
    Skill,
    SkillCatalogueEntry,
    Student,
    TrajectoryScore,
)
from db.session import session_scope
from tests.engine.helpers import add_ladder
from tests.factories import make_student, make_viewer

START = datetime(2026, 11, 1, tzinfo=UTC)


def _setup(engine: Engine) -> int:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 30)
        student = make_student(session, gpa=6.0, attendance=72.0, internship_count=0)
        session.add(
            Skill(
                student_id=student.id, name="SQL", proficiency=40.0, market_weight=1.0
            )
        )
        return student.id


def test_rescore_writes_scores_and_run(engine: Engine) -> None:
    student_id = _setup(engine)
    seen: list[tuple[int, int]] = []

    summary = rescore_students(
        engine, now=START, progress=lambda done, total: seen.append((done, total))
    )

    assert summary.students_scored == 1
    assert seen == [(1, 1)]
    with session_scope(engine) as session:
        score = session.scalars(select(TrajectoryScore)).one()
        run = session.get(EngineRun, summary.run_id)
        student = session.get(Student, student_id)
        assert run is not None and student is not None
        assert run.kind == "rescore"
        assert run.rows_scored == 1
        assert score.engine_run_id == run.id
        assert set(score.probabilities) == {"Tier1", "Tier2", "Tier3", "Not Placed"}
        assert sum(score.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        assert score.similar_alumni_count == 15
        assert len(score.explanation["evidence"]) == 5
        assert "name" not in score.explanation["evidence"][0]
        assert student.feature_vector_id is not None
        assert score.trend is None


def test_recommendations_priced_by_rescoring(engine: Engine) -> None:
    _setup(engine)

    rescore_students(engine, now=START)

    with session_scope(engine) as session:
        rows = session.scalars(select(Recommendation)).all()
        categories = {row.category for row in rows}
        assert "gpa" in categories
        assert "skill:SQL" in categories
        assert all(row.estimated_points > 0 for row in rows)
        assert all("not a promise" in row.description for row in rows)


def test_unchanged_students_are_skipped(engine: Engine) -> None:
    _setup(engine)
    rescore_students(engine, now=START)

    again = rescore_students(engine, now=START + timedelta(days=1), only_changed=True)

    assert again.skipped_unchanged == 1
    assert again.students_scored == 0


def test_trend_after_completed_recommendation(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        viewer = make_viewer(session, Role.STUDENT, student)
        score_id = views.latest_scores(session, viewer, student_id)[0].id
        recommendation = next(
            row
            for row in views.recommendations_for(session, viewer, student_id, score_id)
            if row["category"] == "gpa"
        )
        views.set_recommendation_completed(session, viewer, recommendation["id"], True)
        student.gpa = 8.0

    rescore_students(engine, now=datetime.now(UTC) + timedelta(days=15))

    with session_scope(engine) as session:
        change = views.what_changed(session, viewer, student_id)
        newest = views.latest_scores(session, viewer, student_id)[0]
        assert change is not None
        assert change["score_change"] > 0
        assert change["completed"] == [recommendation["title"]]
        assert newest.trend == "improving"
        assert newest.velocity is not None and newest.velocity > 0


def test_completed_gap_found_again(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        viewer = make_viewer(session, Role.STUDENT, student)
        first_score = views.latest_scores(session, viewer, student_id)[0].id
        first = next(
            row
            for row in views.recommendations_for(
                session, viewer, student_id, first_score
            )
            if row["category"] == "gpa"
        )
        views.set_recommendation_completed(session, viewer, first["id"], True)

    # The GPA is unchanged, so the rescoring finds the same gap.
    rescore_students(engine, now=datetime.now(UTC) + timedelta(days=15))

    with session_scope(engine) as session:
        newest = views.latest_scores(session, viewer, student_id)[0]
        items = views.recommendations_for(session, viewer, student_id, newest.id)
        again = [row for row in items if row["category"] == "gpa"]
        old = session.get(Recommendation, first["id"])
        change = views.what_changed(session, viewer, student_id)
        assert old is not None
        assert old.completed
        assert len(again) == 1
        assert not again[0]["completed"]
        assert again[0]["previously_completed_at"] == old.completed_at
        others = [row for row in items if row["category"] != "gpa"]
        assert all(row["previously_completed_at"] is None for row in others)
        assert change is not None
        assert change["completed"] == [first["title"]]


def test_catalogue_weight_reaches_skills(engine: Engine) -> None:
    student_id = _setup(engine)
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
        changed = save_catalogue_entry(
            session, admin, "SQL", 2.0, "Every analyst posting asks for it."
        )
        assert changed == 1
    with session_scope(engine) as session:
        skill = session.scalars(
            select(Skill).where(Skill.student_id == student_id)
        ).one()
        audits = session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "market_weight_change"
            )
        )
        assert skill.market_weight == 2.0
        assert audits == 1


def test_catalogue_rejects_other_weights(engine: Engine) -> None:
    with session_scope(engine) as session:
        admin = make_viewer(session, Role.ADMIN)
        with pytest.raises(ValueError, match="market weight 3.0 is invalid"):
            save_catalogue_entry(session, admin, "SQL", 3.0, "why")


def test_student_reads_only_own_trajectory(engine: Engine) -> None:
    student_id = _setup(engine)
    with session_scope(engine) as session:
        other = make_student(session)
        student = session.get(Student, student_id)
        viewer = make_viewer(session, Role.STUDENT, student)
        officer = make_viewer(session, Role.OFFICER)
        other_id = other.id
    rescore_students(engine, now=START)

    with session_scope(engine) as session:
        with pytest.raises(AccessDenied):
            views.latest_scores(session, viewer, other_id)
        with pytest.raises(AccessDenied):
            views.list_students(session, viewer)
        assert views.latest_scores(session, officer, other_id)
        views.student_summary(session, officer, other_id)
    with session_scope(engine) as session:
        viewed = session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "view_trajectory"
            )
        )
        assert viewed == 1


def test_stored_time_matches_run_time(engine: Engine) -> None:
    # Rows written in bulk must store timestamps exactly as the ORM does, so that
    # an equality filter on the run's time finds them.
    _setup(engine)

    rescore_students(engine, now=START)

    with session_scope(engine) as session:
        found = session.scalar(
            select(func.count(TrajectoryScore.id)).where(
                TrajectoryScore.computed_at == START
            )
        )
        recommended = session.scalar(
            select(func.count(Recommendation.id)).where(
                Recommendation.created_at == START
            )
        )
        assert found == 1
        assert recommended >= 1


def _newest_score(engine: Engine, student_id: int) -> TrajectoryScore:
    with session_scope(engine) as session:
        score = session.scalars(
            select(TrajectoryScore)
            .where(TrajectoryScore.student_id == student_id)
            .order_by(TrajectoryScore.computed_at.desc(), TrajectoryScore.id.desc())
            .limit(1)
        ).one()
        session.expunge(score)
        return score


def test_same_day_rescore_keeps_trend(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        student.gpa = 8.5
    later = START + timedelta(days=20)
    rescore_students(engine, now=later)
    first = _newest_score(engine, student_id)

    rescore_students(engine, now=later + timedelta(minutes=9))
    again = _newest_score(engine, student_id)

    assert first.trend == "improving"
    assert again.trend == "improving"
    assert again.velocity == pytest.approx(first.velocity, abs=0.1)


def test_trend_empty_within_interval(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        student.gpa = 8.5

    rescore_students(engine, now=START + timedelta(days=2))

    newest = _newest_score(engine, student_id)
    assert newest.trend is None
    assert newest.velocity is None


def test_unchanged_score_has_zero_velocity(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)

    rescore_students(engine, now=START + timedelta(days=10))

    newest = _newest_score(engine, student_id)
    assert newest.velocity == 0.0
    assert newest.trend == "stable"


def test_changed_skill_list_rescored(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        skill = session.scalars(
            select(Skill).where(Skill.student_id == student_id)
        ).one()
        # Same proficiency and weight, so the weighted skill score is unchanged.
        skill.name = "PostgreSQL"

    again = rescore_students(engine, now=START + timedelta(days=1), only_changed=True)

    assert again.students_scored == 1
    assert again.skipped_unchanged == 0


def test_tick_on_replaced_recommendation_moves(engine: Engine) -> None:
    student_id = _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        student = session.get(Student, student_id)
        assert student is not None
        viewer = make_viewer(session, Role.STUDENT, student)
        first_score = views.latest_scores(session, viewer, student_id)[0].id
        old = next(
            row
            for row in views.recommendations_for(
                session, viewer, student_id, first_score
            )
            if row["category"] == "gpa"
        )
    rescore_students(engine, now=START + timedelta(days=1))

    with session_scope(engine) as session:
        changed_id = views.set_recommendation_completed(
            session, viewer, old["id"], True
        )
    with session_scope(engine) as session:
        changed = session.get(Recommendation, changed_id)
        stale = session.get(Recommendation, old["id"])
        newest_score = views.latest_scores(session, viewer, student_id)[0].id
        assert changed is not None and stale is not None
        assert changed_id != old["id"]
        assert changed.score_id == newest_score
        assert changed.category == "gpa"
        assert changed.completed is True
        assert stale.completed is False


def test_case_variant_catalogue_counted_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        student_id = make_student(session).id
        # Entries saved before catalogue names were matched without regard to case.
        session.add(SkillCatalogueEntry(name="Python", market_weight=2.0))
        session.add(SkillCatalogueEntry(name="python", market_weight=0.5))
        session.add_all(
            [
                Skill(
                    student_id=student_id,
                    name="python",
                    proficiency=80.0,
                    market_weight=1.0,
                ),
                Skill(
                    student_id=student_id,
                    name="SQL",
                    proficiency=40.0,
                    market_weight=1.0,
                ),
            ]
        )

    with engine.connect() as connection:
        students = load_students(connection, [student_id], START)
        skills = load_skills(connection, students["id"].to_numpy())

    assert students["skill_score"].iloc[0] == pytest.approx((2 * 80 + 40) / 3)
    assert len(skills) == 2
    assert skills.set_index("name").loc["python", "market_weight"] == 2.0


def test_tick_on_other_students_row_not_found(engine: Engine) -> None:
    _setup(engine)
    rescore_students(engine, now=START)
    with session_scope(engine) as session:
        other = make_viewer(session, Role.STUDENT, make_student(session))
        foreign_id = session.scalars(select(Recommendation.id)).first()
        missing_id = (session.scalar(select(func.max(Recommendation.id))) or 0) + 1
    assert foreign_id is not None

    with session_scope(engine) as session:
        with pytest.raises(LookupError, match=f"recommendation {foreign_id} not"):
            views.set_recommendation_completed(session, other, foreign_id, True)
        with pytest.raises(LookupError, match=f"recommendation {missing_id} not"):
            views.set_recommendation_completed(session, other, missing_id, True)
    with session_scope(engine) as session:
        denials = session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "access_denied"
            )
        )
        assert denials == 1
