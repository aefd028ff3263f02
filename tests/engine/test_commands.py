"""The rescore command as a nightly cron job runs it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from core.cli import main
from db.models import TrajectoryScore
from db.session import session_scope
from tests.engine.helpers import add_ladder
from tests.factories import make_student


def test_cli_rescore_reports_counts(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 20)
        make_student(session)
        make_student(session, major="Astronomy")

    assert main(["rescore"]) == 0

    output = capsys.readouterr()
    assert "scored 2 of 2 students" in output.err
    assert "Rescored 2 students (1 without enough comparable alumni" in output.out
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(TrajectoryScore.id))) == 2


def test_cli_rescore_changed_only_skips(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_ladder(session, "Computer Science", 20)
        make_student(session)
    assert main(["rescore", "--quiet"]) == 0

    assert main(["rescore", "--quiet", "--changed-only"]) == 0

    assert "1 unchanged and skipped" in capsys.readouterr().out.splitlines()[-1]


def test_cli_rescore_without_students_hints(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rescore", "--quiet"]) == 0

    assert "import a roster first" in capsys.readouterr().out
