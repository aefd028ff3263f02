"""Each fault-reproducing spreadsheet, imported through the page's core calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from core.importing import ImportFailure, make_plan
from core.importing.preview import validate_file
from db.models import Alumnus, CompanyTier, Import, PlacementStatus
from db.session import session_scope
from tests.importing.helpers import alumni_by_name, alumni_rows, prepare, run_import


def _case(shared_cases: Path, name: str) -> bytes:
    return (shared_cases / name).read_bytes()


def test_bom_quoted_header(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_bom_quoted.csv")
    prepared = prepare(engine, data, "alumni_bom_quoted.csv")
    assert prepared.proposed_targets[0] == "name"
    assert prepared.headers[0] == "name"

    result = run_import(engine, data, "alumni_bom_quoted.csv")

    assert result.status == "imported"
    assert result.rows_written == 3
    meera = alumni_by_name(engine)["Meera Das"]
    assert meera.placement_status is PlacementStatus.NOT_PLACED
    assert meera.company_tier is None
    assert meera.role_title is None
    assert meera.salary_text is None
    assert meera.salary_min_lpa is None


def test_cp1252_text_kept_exactly(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_cp1252.csv")
    prepared = prepare(engine, data, "alumni_cp1252.csv")
    assert prepared.table.encoding == "cp1252"
    assert "cp1252" in prepared.table.description

    result = run_import(engine, data, "alumni_cp1252.csv")

    assert result.rows_written == 3
    alumni = alumni_by_name(engine)
    assert set(alumni) == {"José Peña", "Zoë Müller", "Renée Côté"}
    assert alumni["Zoë Müller"].role_title == "Data Scientist – ML"
    assert alumni["José Peña"].role_title == "Ingénieur Réseau"
    with session_scope(engine) as session:
        assert session.scalar(select(Import.encoding)) == "cp1252"


def test_messy_headers_mapping_and_values(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_messy_headers.csv")
    prepared = prepare(engine, data, "alumni_messy_headers.csv")
    mapping = dict(zip(prepared.headers, prepared.proposed_targets, strict=True))
    assert mapping == {
        "Name": "name",
        "Branch": "major",
        "Year of Passing": "graduation_year",
        "CGPA": "gpa",
        "Attendance %": "attendance",
        "Placed?": "placement_status",
        "Company Tier": "company_tier",
        "Designation": "role_title",
        "CTC": "salary_range",
        "Role Match": "role_to_major_match_score",
    }

    result = run_import(engine, data, "alumni_messy_headers.csv")

    assert result.rows_written == 5
    rows = alumni_rows(engine)
    assert [row.placement_status.value for row in rows] == [
        "Placed",
        "Placed",
        "Not Placed",
        "Placed",
        "Not Placed",
    ]
    assert [row.company_tier for row in rows if row.company_tier] == [
        CompanyTier.TIER1,
        CompanyTier.TIER2,
        CompanyTier.TIER3,
    ]
    assert rows[0].gpa == 8.5
    assert rows[0].attendance == 85.0
    assert rows[1].attendance == 90.0
    assert [row.major for row in rows] == [
        "Computer Science",
        "Electronics and Communication",
        "Information Technology",
        "Mechanical",
        "Civil",
    ]
    assert (rows[1].salary_min_lpa, rows[1].salary_max_lpa) == (6.5, 8.0)
    assert rows[1].salary_text == "6.5-8 LPA"
    assert rows[0].role_to_major_match_score == 90.0


def test_messy_headers_mapping_can_be_changed(
    engine: Engine, shared_cases: Path
) -> None:
    data = _case(shared_cases, "alumni_messy_headers.csv")
    prepared = prepare(engine, data, "alumni_messy_headers.csv")
    targets = list(prepared.proposed_targets)
    targets[prepared.headers.index("Designation")] = None

    result = run_import(engine, data, "alumni_messy_headers.csv", targets=targets)

    assert result.rows_written == 5
    assert all(row.role_title is None for row in alumni_rows(engine))


def test_duplicate_headers_rejected_naming_both(
    engine: Engine, shared_cases: Path
) -> None:
    data = _case(shared_cases, "alumni_duplicate_headers.csv")
    prepared = prepare(engine, data, "alumni_duplicate_headers.csv")

    with session_scope(engine) as session:
        with pytest.raises(ImportFailure, match=r"'gpa' and 'GPA'") as failure:
            make_plan(session, prepared)

    assert "both map to gpa" in str(failure.value)
    assert alumni_rows(engine) == []


def test_bad_rows_reported_and_nothing_written(
    engine: Engine, shared_cases: Path
) -> None:
    data = _case(shared_cases, "alumni_bad_rows.csv")

    result = run_import(engine, data, "alumni_bad_rows.csv")

    assert result.status == "rejected"
    problems = [(p.row, p.column, p.value) for p in result.report.problems]
    # Spreadsheet rows: the header is row 1, so data row 4 is row 5.
    assert problems == [
        (5, "gpa", "11.2"),
        (8, "attendance", ">50%"),
        (10, "placement_status", "maybe"),
    ]
    assert all(problem.rule for problem in result.report.problems)
    assert all(problem.suggestion for problem in result.report.problems)
    assert alumni_rows(engine) == []
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Import.id))) == 0


def test_bad_rows_only_valid_writes_seven(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_bad_rows.csv")

    result = run_import(engine, data, "alumni_bad_rows.csv", only_valid=True)

    assert result.status == "imported"
    assert result.rows_written == 7
    assert result.report.rows_rejected == 3
    names = {row.name for row in alumni_rows(engine)}
    assert len(names) == 7
    assert {"Alumnus 4", "Alumnus 7", "Alumnus 9"}.isdisjoint(names)
    with session_scope(engine) as session:
        record = session.scalars(select(Import)).one()
    assert (record.rows_total, record.rows_written, record.rows_rejected) == (10, 7, 3)
    assert [entry["row"] for entry in record.report] == [5, 8, 10]


def test_formula_cells_stored_as_text(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_formula_injection.csv")

    result = run_import(engine, data, "alumni_formula_injection.csv")

    assert result.rows_written == 3
    rows = alumni_rows(engine)
    assert rows[0].name == '=HYPERLINK("http://example.invalid","open")'
    assert rows[0].role_title == "@SUM(A1:A9)"
    assert rows[1].name == "+Priya Sen"
    assert rows[1].role_title == "-Analyst"
    assert rows[2].role_title == "\tTester"


def test_tiny_majors_import(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_tiny_majors.csv")

    result = run_import(engine, data, "alumni_tiny_majors.csv")

    assert result.rows_written == 5
    majors = [row.major for row in alumni_rows(engine)]
    assert majors.count("Biotechnology") == 2


def test_missing_values_stored_as_null(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_missing_values.csv")

    result = run_import(engine, data, "alumni_missing_values.csv")

    assert result.rows_written == 3
    alumni = alumni_by_name(engine)
    assert alumni["Lata Joshi"].attendance is None
    assert alumni["Lata Joshi"].gpa == 7.4
    assert alumni["Mohan Lal"].gpa is None
    assert alumni["Mohan Lal"].attendance == 76.0


def test_same_upload_twice_adds_nothing(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_tiny_majors.csv")
    first = run_import(engine, data, "alumni_tiny_majors.csv")

    second = run_import(engine, data, "copy of tiny majors.csv")

    assert second.status == "already_imported"
    assert second.earlier_import is not None
    assert second.earlier_import.import_id == first.import_id
    assert f"import #{first.import_id}" in second.message
    assert "'alumni_tiny_majors.csv'" in second.message
    assert len(alumni_rows(engine)) == 5


def test_preview_and_import_see_every_row(engine: Engine, shared_cases: Path) -> None:
    data = _case(shared_cases, "alumni_bad_rows.csv")
    prepared = prepare(engine, data, "alumni_bad_rows.csv")
    with session_scope(engine) as session:
        plan = make_plan(session, prepared)

    previews = [validate_file(prepared, plan) for _ in range(3)]
    result = run_import(engine, data, "alumni_bad_rows.csv", only_valid=True)

    assert [report.rows_total for report in previews] == [10, 10, 10]
    assert result.report.rows_total == 10
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Alumnus.id))) == 7


def test_cells_beyond_header_reported(engine: Engine) -> None:
    data = b"name,major,placement_status\nAsha Rao,CSE,Placed\nRao, Ravi,IT,Placed\n"

    result = run_import(engine, data, "shifted.csv")

    assert result.status == "rejected"
    columns = {(problem.row, problem.column) for problem in result.report.problems}
    assert (3, "(column 4)") in columns
    assert (3, "placement_status") in columns


def test_header_without_rows_rejected(engine: Engine) -> None:
    with pytest.raises(ImportFailure, match="no data rows"):
        run_import(engine, b"name,major,placement_status\n\n", "empty.csv")

    assert alumni_rows(engine) == []


def test_gpa_column_mixing_scales_flagged(engine: Engine) -> None:
    data = b"name,major,gpa,placement_status\nA,CSE,8.5,Placed\nB,CSE,85,Placed\n"

    result = run_import(engine, data, "mixed.csv")

    assert result.status == "rejected"
    assert [(p.row, p.value) for p in result.report.problems] == [(3, "85")]
    assert "mixes scales" in result.report.notes[0]
    assert (
        "1 value is on the 0-10 scale and 1 value is above 10"
        in (result.report.notes[0])
    )

    converted = run_import(engine, data, "mixed.csv", gpa_from_percent=True)

    assert converted.status == "rejected"
    assert [(p.row, p.value) for p in converted.report.problems] == [(2, "8.5")]
    assert alumni_rows(engine) == []


def test_gpa_outlier_is_only_cell_error(engine: Engine) -> None:
    rows = [f"S{index},CSE,{7 + index / 10},Placed" for index in range(9)]
    data = "\n".join(["name,major,gpa,placement_status", *rows, "X,CSE,11.2,Placed"])

    result = run_import(engine, data.encode(), "outlier.csv")

    assert result.report.notes == []
    assert [(p.row, p.value) for p in result.report.problems] == [(11, "11.2")]


def test_gpa_mostly_percentages_flagged(engine: Engine) -> None:
    rows = [f"S{index},CSE,{70 + index},Placed" for index in range(9)]
    data = "\n".join(["name,major,gpa,placement_status", *rows, "X,CSE,8.2,Placed"])

    result = run_import(engine, data.encode(), "percent.csv")

    assert (
        "1 value is on the 0-10 scale and 9 values are above 10"
        in (result.report.notes[0])
    )
