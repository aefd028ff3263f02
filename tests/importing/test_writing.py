"""Writing: one transaction per import, interruption, concurrency, undo, audit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import xlwt
from sqlalchemy import Engine, func, select

from benchmarks.importing import write_alumni_csv
from core.importing import undo_import
from core.importing.errors import ImportFailure
from core.importing.history import list_imports
from core.importing.preview import make_plan
from core.importing.reading import open_table
from core.settings import PROJECT_ROOT
from db.models import Alumnus, AuditEntry, ColumnMapping, Import, Role
from db.session import session_scope, write_scope
from tests.factories import make_viewer
from tests.importing.helpers import alumni_rows, prepare, run_import


def _counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        alumni = session.scalar(select(func.count(Alumnus.id))) or 0
        imports = session.scalar(select(func.count(Import.id))) or 0
    return int(alumni), int(imports)


class _Interrupted(Exception):
    pass


def test_progress_exception_leaves_no_rows(engine: Engine, tmp_path: Path) -> None:
    path = write_alumni_csv(tmp_path / "alumni.csv", 5_000)
    calls: list[int] = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise _Interrupted

    with pytest.raises(_Interrupted):
        run_import(engine, path, progress=interrupt, chunk_rows=1_000)

    # The first chunk contains the header row too, so it has one data row fewer.
    assert calls == [999, 1_999, 2_999]
    assert _counts(engine) == (0, 0)
    # The interrupted import left nothing behind, so the file imports in full.
    assert run_import(engine, path).rows_written == 5_000


KILLED_IMPORT = """
import sys, time
from pathlib import Path
from db.session import make_engine
from tests.importing.helpers import run_import

def report(done, total):
    print(f"chunk {done}", flush=True)
    if done >= 2_999:
        time.sleep(120)

run_import(make_engine(sys.argv[1]), Path(sys.argv[2]), progress=report,
           chunk_rows=1_000)
"""


def test_killed_import_leaves_no_rows(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    path = write_alumni_csv(tmp_path / "alumni.csv", 10_000)
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORT, database_url, str(path)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line.strip())
        if line.strip() == "chunk 2999":
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    assert seen == ["chunk 999", "chunk 1999", "chunk 2999"]
    assert process.returncode == -signal.SIGKILL
    assert _counts(engine) == (0, 0)
    assert run_import(engine, path).rows_written == 10_000


def test_concurrent_imports_both_complete(engine: Engine, tmp_path: Path) -> None:
    # On SQLite the second writer waits for the first one's write lock.
    first = write_alumni_csv(tmp_path / "first.csv", 3_000, seed=1)
    second = tmp_path / "second.csv"
    # Other names, so neither import's rows are duplicates of the other's.
    second.write_text(first.read_text().replace("Alumnus ", "Graduate "))
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(path: Path) -> None:
        try:
            results[path.name] = run_import(engine, path, chunk_rows=500).rows_written
        except BaseException as error:  # reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(path,)) for path in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert results == {"first.csv": 3_000, "second.csv": 3_000}
    assert _counts(engine) == (6_000, 2)


def test_undo_removes_exactly_its_rows(engine: Engine, shared_cases: Path) -> None:
    with write_scope(engine) as session:
        staff = make_viewer(session, Role.STAFF)
    kept = run_import(
        engine,
        (shared_cases / "alumni_tiny_majors.csv").read_bytes(),
        "tiny.csv",
        viewer=staff,
    )
    data = (shared_cases / "alumni_missing_values.csv").read_bytes()
    undone = run_import(engine, data, "missing.csv", viewer=staff)
    assert undone.import_id is not None

    removed = undo_import(engine, staff, undone.import_id)

    assert removed == 3
    assert {row.import_id for row in alumni_rows(engine)} == {kept.import_id}
    assert len(alumni_rows(engine)) == 5
    with pytest.raises(ImportFailure, match="already undone"):
        undo_import(engine, staff, undone.import_id)
    again = run_import(engine, data, "missing.csv", viewer=staff)
    assert again.status == "imported"
    assert again.rows_written == 3
    with session_scope(engine) as session:
        history = list_imports(session, staff)
        actions = list(
            session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        )
    assert len(history) == 3
    assert history["undone by"].tolist().count(staff.username) == 1
    assert actions.count("import_alumni") == 3
    assert actions.count("undo_import") == 1


def test_undo_unknown_import(engine: Engine) -> None:
    with pytest.raises(ImportFailure, match="#999 not found"):
        undo_import(engine, None, 999)


def test_confirmed_mapping_remembered(engine: Engine, shared_cases: Path) -> None:
    data = (shared_cases / "alumni_messy_headers.csv").read_bytes()
    prepared = prepare(engine, data, "messy.csv")
    targets = list(prepared.proposed_targets)
    targets[prepared.headers.index("Role Match")] = None
    run_import(engine, data, "messy.csv", targets=targets)

    other_file = data.replace(b"Kiran Shah", b"Kiran Shah Jr")
    again = prepare(engine, other_file, "messy again.csv")

    assert again.mapping_remembered
    assert again.proposed_targets == targets
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(ColumnMapping.id))) == 1


def test_constant_fills_missing_field(engine: Engine) -> None:
    data = b"Name,Branch,Placed\nAsha,CSE,Yes\nRavi,IT,No\n"

    result = run_import(
        engine, data, "no year.csv", constants={"graduation_year": "2024"}
    )

    assert result.rows_written == 2
    assert {row.graduation_year for row in alumni_rows(engine)} == {2024}


def test_invalid_constant_rejected(engine: Engine) -> None:
    data = b"Name,Branch,Placed\nAsha,CSE,Yes\n"
    prepared = prepare(engine, data, "no year.csv")

    with session_scope(engine) as session:
        with pytest.raises(ImportFailure, match="Graduation year is invalid"):
            make_plan(session, prepared, constants={"graduation_year": "soon"})


@pytest.mark.parametrize(
    ("constants", "message"),
    [
        ({"nosuchfield": "1"}, "unknown field 'nosuchfield'"),
        ({"gpa": "8"}, "column 'GPA' is mapped to it"),
        ({"attendance": "140"}, "value '140' given for"),
    ],
)
def test_bad_constant_rejected(
    engine: Engine, constants: dict[str, str], message: str
) -> None:
    data = b"Name,Branch,Placed,GPA\nAsha,CSE,Yes,8.1\n"
    prepared = prepare(engine, data, "no year.csv")

    with session_scope(engine) as session:
        with pytest.raises(ImportFailure, match=message):
            make_plan(
                session,
                prepared,
                constants={"graduation_year": "2024", **constants},
            )


def test_tier_for_not_placed_reported(engine: Engine) -> None:
    data = b"Name,Branch,Placed,Tier\nAsha,CSE,No,Tier 1\n"

    result = run_import(engine, data, "tier.csv")

    assert result.status == "rejected"
    assert result.report.problems[0].column == "Tier"
    assert "not placed" in result.report.problems[0].rule


def test_student_cannot_import(engine: Engine, shared_cases: Path) -> None:
    from core.access import AccessDenied
    from tests.factories import make_student

    with write_scope(engine) as session:
        student = make_viewer(session, Role.STUDENT, make_student(session))

    with pytest.raises(AccessDenied):
        run_import(
            engine,
            (shared_cases / "alumni_tiny_majors.csv").read_bytes(),
            "tiny.csv",
            viewer=student,
        )
    assert _counts(engine) == (0, 0)


ROSTER = (
    b"Roll No,Name,Branch,Semester,Batch,CGPA\n"
    b"CS21001,Asha Rao,CSE,5,2027,8.4\n"
    b"cs21001,Asha Rao again,CSE,5,2027,8.4\n"
    b"EC21002,Ravi Kumar,ECE,13,2027,7.1\n"
    b"IT21003,Meena Iyer,IT,3,2028,\n"
)


def test_roster_import_and_undo(engine: Engine) -> None:
    from core.auth import verify_password
    from core.importing.roster import import_roster
    from db.models import ImportKind, Student, User

    prepared = prepare(engine, ROSTER, "roster.csv", kind=ImportKind.ROSTER)
    with session_scope(engine) as session:
        plan = make_plan(session, prepared)

    rejected = import_roster(engine, None, prepared, plan)
    assert rejected.status == "rejected"
    assert [(p.row, p.column) for p in rejected.report.problems] == [(4, "Semester")]

    result = import_roster(engine, None, prepared, plan, only_valid=True)

    assert result.status == "imported"
    assert result.rows_written == 2
    assert result.rows_duplicate == 1
    assert [account[:2] for account in result.accounts] == [
        ("CS21001", "cs21001"),
        ("IT21003", "it21003"),
    ]
    with session_scope(engine) as session:
        students = {s.roll_number: s for s in session.scalars(select(Student))}
        user = session.scalars(select(User).where(User.username == "it21003")).one()
        assert verify_password(user.password_hash, result.accounts[1][2])
    assert students["IT21003"].gpa is None
    assert students["IT21003"].expected_graduation_year == 2028
    assert students["CS21001"].major == "Computer Science"

    assert result.import_id is not None
    assert undo_import(engine, None, result.import_id) == 2
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Student.id))) == 0
        assert session.scalar(select(func.count(User.id))) == 0


def test_mapping_remembered_by_concurrent_imports(engine: Engine) -> None:
    import time

    from core.importing.mapping import remember_targets
    from db.models import ImportKind

    headers = ["Name", "Branch", "Placed"]
    targets: list[str | None] = ["name", "major", "placement_status"]
    outcomes: list[object] = []

    def second_import() -> None:
        try:
            with write_scope(engine) as session:
                remember_targets(session, headers, targets, ImportKind.ALUMNI)
            outcomes.append("stored")
        except Exception as error:  # reported by the assert below
            outcomes.append(error)

    with write_scope(engine) as session:
        remember_targets(session, headers, targets, ImportKind.ALUMNI)
        thread = threading.Thread(target=second_import)
        thread.start()
        time.sleep(0.5)
        # The second transaction waits for this one's row (PostgreSQL) or
        # write lock (SQLite) until this one commits.
        assert outcomes == []
    thread.join(timeout=60)

    assert outcomes == ["stored"]
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(ColumnMapping.id))) == 1


def test_import_record_contents(engine: Engine, shared_cases: Path) -> None:
    with write_scope(engine) as session:
        staff = make_viewer(session, Role.STAFF)
    data = (shared_cases / "alumni_bad_rows.csv").read_bytes()

    result = run_import(engine, data, "bad rows.csv", viewer=staff, only_valid=True)

    with session_scope(engine) as session:
        record = session.get(Import, result.import_id)
        assert record is not None
        audit = session.scalars(select(AuditEntry)).one()
    assert record.file_name == "bad rows.csv"
    assert record.file_sha256 == open_table(data).content_sha256()
    assert record.created_by_id == staff.user_id
    assert record.created_at is not None
    assert record.encoding == "utf-8"
    assert record.mapping["columns"][3] == {"header": "gpa", "target": "gpa"}
    assert (record.rows_total, record.rows_written) == (10, 7)
    assert (record.rows_rejected, record.rows_duplicate) == (3, 0)
    assert audit.action == "import_alumni"
    assert audit.actor_user_id == staff.user_id
    assert audit.target_id == str(record.id)
    assert audit.detail["rows_written"] == 7


def test_legacy_xls_imported(engine: Engine, tmp_path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Placements")
    rows = [
        ["Name", "Branch", "Passing Year", "CGPA", "Status", "Company Tier"],
        ["Asha", "CSE", 2023, 8.5, "Placed", "Tier 1"],
        ["Ravi", "ECE", 2023, 6.1, "Not Placed", ""],
    ]
    for row_number, row in enumerate(rows):
        for column, value in enumerate(row):
            sheet.write(row_number, column, value)
    path = tmp_path / "alumni.xls"
    book.save(str(path))

    result = run_import(engine, path)

    assert result.rows_written == 2
    stored = {row.name: row for row in alumni_rows(engine)}
    assert stored["Asha"].gpa == pytest.approx(8.5)
    assert stored["Asha"].graduation_year == 2023
    assert stored["Asha"].company_tier is not None
    assert stored["Asha"].company_tier.value == "Tier1"
    assert stored["Ravi"].placement_status.value == "Not Placed"


@pytest.mark.parametrize("bad_value", ["abc", "inf"])
def test_bad_cell_in_extra_column_reported(engine: Engine, bad_value: str) -> None:
    lines = ["name,major,graduation_year,gpa,placement_status,hackathon_score"]
    for number in range(300):
        score = bad_value if number == 4 else str(50 + number % 40)
        lines.append(f"Alumnus {number},CSE,2023,7.5,Placed,{score}")
    data = ("\n".join(lines) + "\n").encode()

    result = run_import(engine, data, "alumni.csv")

    problems = [(p.row, p.column, p.value) for p in result.report.problems]
    assert result.status == "rejected"
    # The header is spreadsheet row 1, so data row 5 is row 6.
    assert problems == [(6, "hackathon_score", bad_value)]
    assert alumni_rows(engine) == []
