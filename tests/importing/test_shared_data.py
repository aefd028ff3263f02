"""The public placement spreadsheets: proposed mapping, every row accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from core.importing import ImportFailure, make_plan
from db.models import Alumnus, CompanyTier, PlacementStatus
from db.session import session_scope
from tests.importing.helpers import alumni_rows, prepare, run_import


def _mapping(engine: Engine, path: Path) -> dict[str, str | None]:
    prepared = prepare(engine, path.read_bytes(), path.name)
    return dict(zip(prepared.headers, prepared.proposed_targets, strict=True))


def _count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(Alumnus.id))) or 0)


def test_college_place_mapping(engine: Engine, shared_data: Path) -> None:
    assert _mapping(engine, shared_data / "collegePlace.csv") == {
        "Age": "extra:age",
        "Gender": "gender",
        "Stream": "major",
        "Internships": "extra:internship_count",
        "CGPA": "gpa",
        "Hostel": "extra:hostel",
        "HistoryOfBacklogs": "extra:backlogs",
        "PlacedOrNot": "placement_status",
    }


def test_college_place_imports_every_row(engine: Engine, shared_data: Path) -> None:
    path = shared_data / "collegePlace.csv"

    result = run_import(engine, path.read_bytes(), path.name)

    # The file repeats identical nameless rows; each is a different graduate.
    assert result.rows_written == 2966
    assert result.report.rows_rejected == 0
    assert result.rows_duplicate == 0
    first = alumni_rows(engine)[0]
    assert first.source_row == 2
    assert first.major == "Electronics and Communication"
    assert first.gpa == 8.0
    assert first.gender == "Male"
    assert first.placement_status is PlacementStatus.PLACED
    assert first.natural_key is None
    assert first.extra_features == {
        "age": 22.0,
        "internship_count": 1.0,
        "hostel": 1.0,
        "backlogs": 1.0,
    }
    with session_scope(engine) as session:
        majors = set(session.scalars(select(Alumnus.major).distinct()))
        placed = session.scalar(
            select(func.count(Alumnus.id)).where(
                Alumnus.placement_status == PlacementStatus.PLACED
            )
        )
    assert majors == {
        "Civil",
        "Computer Science",
        "Electrical",
        "Electronics and Communication",
        "Information Technology",
        "Mechanical",
    }
    assert placed == 1639

    again = run_import(engine, path.read_bytes(), path.name)

    assert again.status == "already_imported"
    assert _count(engine) == 2966


@pytest.mark.parametrize(
    ("resave", "as_path"),
    [
        ("crlf", False),
        ("bom", False),
        ("crlf", True),
        ("cp1252 with trailing blank lines", False),
    ],
)
def test_college_place_resave_already_imported(
    engine: Engine, shared_data: Path, tmp_path: Path, resave: str, as_path: bool
) -> None:
    path = shared_data / "collegePlace.csv"
    text = path.read_text(encoding="utf-8")
    if resave == "crlf":
        copy = text.replace("\n", "\r\n").encode("utf-8")
    elif resave == "bom":
        copy = text.encode("utf-8-sig")
    else:
        copy = (text + "\n\n").encode("cp1252")
    assert copy != path.read_bytes()
    run_import(engine, path.read_bytes(), path.name)
    copy_path = tmp_path / "collegePlace copy.csv"
    copy_path.write_bytes(copy)

    again = run_import(engine, copy_path if as_path else copy, copy_path.name)

    assert again.status == "already_imported"
    assert _count(engine) == 2966


def test_changed_cell_not_already_imported(engine: Engine, shared_data: Path) -> None:
    data = (shared_data / "collegePlace.csv").read_bytes()
    run_import(engine, data, "collegePlace.csv")
    header, first, rest = data.split(b"\n", 2)
    changed = header + b"\n" + first.replace(b"Male", b"Female", 1) + b"\n" + rest

    again = run_import(engine, changed, "changed.csv")

    assert again.status != "already_imported"


def test_placement_dataset_mapping(engine: Engine, shared_data: Path) -> None:
    assert _mapping(engine, shared_data / "placement_dataset.csv") == {
        "Student_ID": None,
        "Name": "name",
        "Branch": "major",
        "CGPA": "gpa",
        "Aptitude_Score": "extra:aptitude_score",
        "Communication_Score": "extra:communication_score",
        "Coding_Score": "extra:coding_score",
        "Internship_Count": "extra:internship_count",
        "Project_Count": "extra:project_count",
        "Backlogs": "extra:backlogs",
        "Placement_Status": "placement_status",
        "Company_Type": "company_tier",
        "Package_Offered": "salary_range",
    }


def test_placement_dataset_imports_every_row(engine: Engine, shared_data: Path) -> None:
    path = shared_data / "placement_dataset.csv"

    result = run_import(engine, path.read_bytes(), path.name)

    assert result.rows_written == 200
    assert result.report.rows_rejected == 0
    rows = {row.name: row for row in alumni_rows(engine)}
    first = rows["Student_1"]
    assert first.major == "Computer Science"
    assert first.gpa == 8.6
    assert first.company_tier is CompanyTier.TIER1
    assert (first.salary_min_lpa, first.salary_max_lpa) == (15.0, 15.0)
    assert first.extra_features["coding_score"] == 92.0
    assert first.extra_features["internship_count"] == 2.0
    fourth = rows["Student_4"]
    assert fourth.placement_status is PlacementStatus.NOT_PLACED
    assert fourth.company_tier is None
    assert fourth.salary_text is None
    assert rows["Student_2"].company_tier is CompanyTier.TIER2

    # The same alumni in another order (other content) are not added again.
    header, *lines = path.read_bytes().splitlines()
    reordered = b"\n".join([header, *reversed(lines)]) + b"\n"
    again = run_import(engine, reordered, "placement_dataset (sorted).csv")

    assert again.status == "imported"
    assert again.rows_written == 0
    assert again.rows_duplicate == 200
    assert _count(engine) == 200


def test_mba_file_mapping(engine: Engine, shared_data: Path) -> None:
    mapping = _mapping(engine, shared_data / "Placement_Data_Full_Class.csv")

    assert mapping["specialisation"] == "major"
    assert mapping["status"] == "placement_status"
    assert mapping["salary"] == "salary_range"
    assert mapping["gender"] == "gender"
    assert mapping["sl_no"] is None
    assert mapping["mba_p"] == "extra:mba_p"
    assert mapping["degree_p"] == "extra:degree_p"
    assert "gpa" not in mapping.values()


def test_mba_file_imports_every_row(engine: Engine, shared_data: Path) -> None:
    path = shared_data / "Placement_Data_Full_Class.csv"

    result = run_import(engine, path.read_bytes(), path.name)

    assert result.rows_written == 215
    rows = alumni_rows(engine)
    first = rows[0]
    assert first.major == "Mkt&HR"
    assert (first.salary_min_lpa, first.salary_max_lpa) == (2.7, 2.7)
    assert first.salary_text == "270000"
    assert first.gpa is None
    assert first.extra_features["mba_p"] == 58.8
    assert rows[3].placement_status is PlacementStatus.NOT_PLACED
    assert rows[3].salary_text is None


def test_mba_percent_as_gpa_needs_conversion(engine: Engine, shared_data: Path) -> None:
    path = shared_data / "Placement_Data_Full_Class.csv"
    prepared = prepare(engine, path.read_bytes(), path.name)
    targets = list(prepared.proposed_targets)
    targets[prepared.headers.index("mba_p")] = "gpa"

    plain = run_import(engine, path.read_bytes(), path.name, targets=targets)

    assert plain.status == "rejected"
    assert plain.report.rows_rejected == 215
    assert any("look like percentages" in note for note in plain.report.notes)

    converted = run_import(
        engine, path.read_bytes(), path.name, targets=targets, gpa_from_percent=True
    )

    assert converted.rows_written == 215
    assert alumni_rows(engine)[0].gpa == 5.88


def test_habits_file_missing_placement_status(
    engine: Engine, shared_data: Path
) -> None:
    path = shared_data / "student_habits_performance.csv"
    prepared = prepare(engine, path.read_bytes(), path.name)

    with session_scope(engine) as session:
        with pytest.raises(ImportFailure, match="Placement status") as failure:
            make_plan(session, prepared)

    assert "required column missing" in str(failure.value)
    assert _count(engine) == 0
