"""The import-alumni, import-roster and undo-import commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from core.cli import main
from db.models import Alumnus, Import, Student
from db.session import session_scope


def _count(engine: Engine, model: type[Alumnus] | type[Student]) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(model.id))) or 0)


def test_import_alumni_command(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no year.csv"
    path.write_text("Name,Branch,Placed,CTC\nAsha,CSE,Yes,12 LPA\nRavi,IT,No,\n")

    status = main(["import-alumni", str(path), "--set", "graduation_year=2024"])

    output = capsys.readouterr().out
    assert status == 0
    assert "'CTC' -> salary_range" in output
    assert "2 rows written" in output
    assert "python -m core.cli rescore" in output
    with session_scope(engine) as session:
        years = set(session.scalars(select(Alumnus.graduation_year)))
    assert years == {2024}


def test_import_alumni_command_bad_rows(
    engine: Engine, shared_cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_cases / "alumni_bad_rows.csv"

    assert main(["import-alumni", str(path)]) == 1
    errors = capsys.readouterr().err
    assert "row 5, column 'gpa', value '11.2'" in errors
    assert "error: Nothing was written" in errors
    assert _count(engine, Alumnus) == 0

    assert main(["import-alumni", str(path), "--only-valid"]) == 0
    assert _count(engine, Alumnus) == 7


def test_import_alumni_command_missing_file(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-alumni", str(tmp_path / "absent.csv")]) == 1
    assert "absent.csv' not found" in capsys.readouterr().err


def test_import_alumni_command_bad_set(
    engine: Engine, shared_cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_cases / "alumni_tiny_majors.csv"

    assert main(["import-alumni", str(path), "--set", "graduation_year"]) == 1

    assert "write FIELD=VALUE" in capsys.readouterr().err


def test_undo_import_command(
    engine: Engine, shared_cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["import-alumni", str(shared_cases / "alumni_tiny_majors.csv")])
    with session_scope(engine) as session:
        import_id = session.scalar(select(Import.id))

    status = main(["undo-import", str(import_id)])

    output = capsys.readouterr().out
    assert status == 0
    assert f"Undid import #{import_id}: removed 5 rows" in output
    assert "core.cli rescore" in output
    assert _count(engine, Alumnus) == 0


def test_import_roster_command(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("Roll No,Name,Branch,Semester,Batch\nCS1,Asha,CSE,5,2027\n")

    status = main(["import-roster", str(path)])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    account = lines[-1].split(",")
    assert account[:2] == ["CS1", "cs1"]
    assert len(account[2]) == 12
    assert _count(engine, Student) == 1


def test_import_alumni_command_wide_header(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"column {index}" for index in range(20_000)) + "\n")

    assert main(["import-alumni", str(path)]) == 1
    assert "more than the maximum of 500" in capsys.readouterr().err


def test_import_alumni_command_unknown_set(
    engine: Engine, shared_cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_cases / "alumni_tiny_majors.csv"

    assert main(["import-alumni", str(path), "--set", "nosuchfield=1"]) == 1

    errors = capsys.readouterr().err
    assert "unknown field 'nosuchfield'" in errors
    assert "graduation_year" in errors
    assert _count(engine, Alumnus) == 0


def test_import_alumni_command_set_mapped_field(
    engine: Engine, shared_cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_cases / "alumni_tiny_majors.csv"

    status = main(["import-alumni", str(path), "--set", "graduation_year=2020"])

    assert status == 1
    errors = capsys.readouterr().err
    assert "column 'graduation_year' is mapped to it" in errors
    assert "ignore that column" in errors
    assert _count(engine, Alumnus) == 0


def test_import_alumni_command_invalid_set_value(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no gpa.csv"
    path.write_text("Name,Branch,Placed,Year\nAsha,CSE,Yes,2024\n")

    assert main(["import-alumni", str(path), "--set", "gpa=99"]) == 1

    errors = capsys.readouterr().err
    assert "value '99' given for GPA" in errors
    assert _count(engine, Alumnus) == 0


def test_import_alumni_command_impossible_extras(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "extras.csv"
    path.write_text(
        "Name,Branch,Placed,Year,Internships,Hostel\n"
        "Asha,CSE,Yes,2024,1,0\n"
        "Ravi,IT,No,2024,-3,1\n"
        "Mira,IT,No,2024,0,1e308\n"
    )

    assert main(["import-alumni", str(path)]) == 1

    errors = capsys.readouterr().err
    assert "row 3, column 'Internships', value '-3'" in errors
    assert "count must be a whole number of 0 or more" in errors
    assert "row 4, column 'Hostel', value '1e308'" in errors
    assert "below 1,000,000 in absolute value" in errors
    assert "Nothing was written" in errors
    assert _count(engine, Alumnus) == 0
