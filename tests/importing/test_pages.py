"""The upload, history and roster pages through Streamlit's AppTest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from db.models import Alumnus, EngineRun, Import, Role, TrajectoryScore
from db.session import session_scope, write_scope
from tests.apptest import app_as
from tests.factories import make_student, make_viewer


def _staff_app(engine: Engine, page: str) -> AppTest:
    with write_scope(engine) as session:
        staff = make_viewer(session, Role.STAFF)
    return app_as(staff, page)


def _alumni_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(Alumnus.id))) or 0)


def _score_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(TrajectoryScore.id))) or 0)


def _button(app: AppTest, label_start: str):  # type: ignore[no-untyped-def]
    return next(button for button in app.button if button.label.startswith(label_start))


def test_upload_page_empty_state(engine: Engine) -> None:
    app = _staff_app(engine, "alumni_upload.py")

    assert not app.exception
    assert "Choose a file" in app.info[0].value


def test_upload_preview_names_earlier_import(
    engine: Engine, shared_cases: Path
) -> None:
    data = (shared_cases / "alumni_tiny_majors.csv").read_bytes()
    app = _staff_app(engine, "alumni_upload.py")
    app.file_uploader[0].upload("alumni_tiny_majors.csv", data, "text/csv").run()
    _button(app, "Import 5 rows").click().run()

    again = _staff_app(engine, "alumni_upload.py")
    with_bom = b"\xef\xbb\xbf" + data
    again.file_uploader[0].upload("copy.csv", with_bom, "text/csv").run()

    assert not again.exception
    assert "already imported as import #1" in again.warning[0].value
    assert "Undo that import" in again.warning[0].value


def test_upload_empty_file_only_error(engine: Engine) -> None:
    app = _staff_app(engine, "alumni_upload.py")

    app.file_uploader[0].upload("empty.csv", b"", "text/csv").run()

    assert not app.exception
    assert "is empty" in app.error[0].value
    assert not any("Choose a file" in info.value for info in app.info)


def test_upload_header_only_file(engine: Engine) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = b"name,major,graduation_year,gpa,placement_status\n"

    app.file_uploader[0].upload("header.csv", data, "text/csv").run()

    assert not app.exception
    assert "no data rows below the header (row 1)" in app.warning[-1].value
    assert not app.success
    assert not any(button.label.startswith("Import") for button in app.button)


def test_upload_preview_confirm_flow(engine: Engine, shared_cases: Path) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_cases / "alumni_bad_rows.csv").read_bytes()

    app.file_uploader[0].upload("alumni_bad_rows.csv", data, "text/csv").run()

    assert not app.exception
    assert any("CSV text in utf-8" in caption.value for caption in app.caption)
    assert [metric.value for metric in app.metric] == ["10", "7", "3"]
    assert "3 invalid cells in 3 rows" in app.error[0].value
    assert _button(app, "Import 7 rows").disabled

    app.radio[0].set_value("Import only the 7 valid rows").run()
    _button(app, "Import 7 rows").click().run()

    assert not app.exception
    assert "7 rows written, 3 rejected" in app.success[-1].value
    assert _alumni_count(engine) == 7

    # A later rerun shows the result again without importing again.
    app.run()
    assert "7 rows written" in app.success[-1].value
    assert _alumni_count(engine) == 7


def test_upload_same_file_again_says_so(engine: Engine, shared_cases: Path) -> None:
    data = (shared_cases / "alumni_tiny_majors.csv").read_bytes()
    for _attempt in range(2):
        app = _staff_app(engine, "alumni_upload.py")
        app.file_uploader[0].upload("alumni_tiny_majors.csv", data, "text/csv").run()
        _button(app, "Import 5 rows").click().run()
        assert not app.exception

    assert "already imported as import #1" in app.warning[-1].value
    assert _alumni_count(engine) == 5


def test_upload_then_rescore_students(engine: Engine, shared_cases: Path) -> None:
    with write_scope(engine) as session:
        for number in range(3):
            make_student(session, major="Computer Science", gpa=6.0 + number)
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_cases / "alumni_tiny_majors.csv").read_bytes()
    app.file_uploader[0].upload("alumni_tiny_majors.csv", data, "text/csv").run()
    _button(app, "Import 5 rows").click().run()
    assert not app.exception
    assert _score_count(engine) == 0

    _button(app, "Rescore all students now").click().run()

    assert not app.exception
    assert "Rescored 3 students" in app.success[-1].value
    assert _score_count(engine) == 3
    with session_scope(engine) as session:
        run = session.scalars(select(EngineRun)).one()
        assert run.triggered_by_id is not None


def test_upload_mapping_changed_on_page(engine: Engine, shared_cases: Path) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_cases / "alumni_messy_headers.csv").read_bytes()
    app.file_uploader[0].upload("messy.csv", data, "text/csv").run()
    designation = next(box for box in app.selectbox if box.label == "Designation")
    assert designation.value == "role_title"

    designation.set_value("(ignore)").run()
    _button(app, "Import 5 rows").click().run()

    assert not app.exception
    with session_scope(engine) as session:
        titles = set(session.scalars(select(Alumnus.role_title)))
    assert titles == {None}


def test_upload_duplicate_headers_error(engine: Engine, shared_cases: Path) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_cases / "alumni_duplicate_headers.csv").read_bytes()

    app.file_uploader[0].upload("dup.csv", data, "text/csv").run()

    assert "'gpa' and 'GPA'" in app.error[0].value
    assert not [button for button in app.button if button.label.startswith("Import")]


def test_history_page_undo(engine: Engine, shared_cases: Path) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_cases / "alumni_tiny_majors.csv").read_bytes()
    app.file_uploader[0].upload("tiny.csv", data, "text/csv").run()
    _button(app, "Import 5 rows").click().run()
    assert _alumni_count(engine) == 5

    history = _staff_app(engine, "import_history.py")
    assert not history.exception
    history.checkbox[0].check().run()
    _button(history, "Undo import #1").click().run()

    assert not history.exception
    assert "removed 5 rows" in history.success[0].value
    assert _alumni_count(engine) == 0
    with session_scope(engine) as session:
        assert session.scalar(select(Import.undone_at)) is not None


def test_history_page_empty_state(engine: Engine) -> None:
    app = _staff_app(engine, "import_history.py")

    assert not app.exception
    assert "No imports yet" in app.info[0].value


@pytest.mark.parametrize("page", ["alumni_upload.py", "import_history.py", "roster.py"])
def test_student_stopped_by_page_guard(engine: Engine, page: str) -> None:
    from core.settings import PROJECT_ROOT
    from dashboard.guard import VIEWER_KEY
    from tests.apptest import TIMEOUT_SECONDS
    from tests.factories import make_student

    with write_scope(engine) as session:
        student = make_viewer(session, Role.STUDENT, make_student(session))
    # Run the page script directly, as if reached without the navigation.
    app = AppTest.from_file(
        str(PROJECT_ROOT / "pages" / page), default_timeout=TIMEOUT_SECONDS
    )
    app.session_state[VIEWER_KEY] = student
    app.run()

    assert "does not give access" in app.error[0].value
    assert not app.file_uploader
    assert not app.dataframe


ROSTER = (
    b"Roll No,Student Name,Branch,Sem,Batch,CGPA,Attendance\n"
    b"CS21001,Asha Rao,CSE,5,2027,8.4,91%\n"
    b"EC21002,Ravi Kumar,ECE,5,2027,7.1,84\n"
)


def test_roster_page_shows_passwords_once(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    from core.auth import verify_password
    from db.models import Student, User

    app = _staff_app(engine, "roster.py")
    app.file_uploader[0].upload("roster.csv", ROSTER, "text/csv").run()
    assert not app.exception
    _button(app, "Import 2 rows").click().run()

    assert not app.exception
    assert "2 rows written" in app.success[-1].value
    shown = app.dataframe[-1].value
    assert shown["user name"].tolist() == ["cs21001", "ec21002"]
    passwords = shown["one-time password"].tolist()
    with session_scope(engine) as session:
        students = {s.roll_number: s for s in session.scalars(select(Student))}
        users = {u.username: u for u in session.scalars(select(User)) if u.student_id}
    assert students["CS21001"].major == "Computer Science"
    assert students["CS21001"].attendance == 91.0
    assert users["cs21001"].must_change_password
    assert verify_password(users["cs21001"].password_hash, passwords[0])
    assert all(
        password not in record.getMessage()
        for record in caplog.records
        for password in passwords
    )

    _button(app, "I have saved the passwords").click().run()

    assert not app.exception
    assert all(
        "one-time password" not in frame.value.columns for frame in app.dataframe
    )


def test_upload_workbook_sheet_choice(engine: Engine) -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Exported from the placement cell"])
    alumni = book.create_sheet("Alumni")
    alumni.append(["Name", "Branch", "Batch", "CGPA", "Placed"])
    alumni.append(["Asha", "CSE", 2023, 8.5, "Yes"])
    alumni.append(["Ravi", "ECE", 2023, 7, "No"])
    buffer = io.BytesIO()
    book.save(buffer)
    app = _staff_app(engine, "alumni_upload.py")

    app.file_uploader[0].upload("alumni.xlsx", buffer.getvalue()).run()
    assert "header not found" in app.error[0].value

    sheet = next(box for box in app.selectbox if box.label == "Sheet")
    sheet.set_value("Alumni").run()
    _button(app, "Import 2 rows").click().run()

    assert not app.exception
    assert "2 rows written" in app.success[-1].value
    with session_scope(engine) as session:
        years = set(session.scalars(select(Alumnus.graduation_year)))
    assert years == {2023}


def test_upload_large_file_in_chunks(engine: Engine, tmp_path: Path) -> None:
    from benchmarks.importing import write_alumni_csv

    # Two 20,000-row chunks, so the progress bar moves between writes.
    path = write_alumni_csv(tmp_path / "alumni.csv", 30_000)
    app = _staff_app(engine, "alumni_upload.py")

    app.file_uploader[0].upload("alumni.csv", path.read_bytes(), "text/csv").run()
    _button(app, "Import 30,000 rows").click().run()

    assert not app.exception
    assert "30,000 rows written" in app.success[-1].value
    assert _alumni_count(engine) == 30_000


@pytest.mark.parametrize(
    ("file_name", "rows"), [("collegePlace.csv", 2966), ("placement_dataset.csv", 200)]
)
def test_upload_public_data_files(
    engine: Engine, shared_data: Path, file_name: str, rows: int
) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_data / file_name).read_bytes()

    app.file_uploader[0].upload(file_name, data, "text/csv").run()
    assert [metric.value for metric in app.metric] == [f"{rows:,}", f"{rows:,}", "0"]
    _button(app, f"Import {rows:,} rows").click().run()

    assert not app.exception
    assert f"{rows:,} rows written, 0 rejected, 0 already present" in (
        app.success[-1].value
    )
    assert _alumni_count(engine) == rows


def test_major_spellings_saved_from_page(engine: Engine) -> None:
    from db.models import AuditEntry, MajorAlias

    app = _staff_app(engine, "alumni_upload.py")

    _button(app, "Save major spellings").click().run()

    assert not app.exception
    assert "Saved" in app.success[0].value
    with session_scope(engine) as session:
        aliases = dict(
            session.execute(select(MajorAlias.alias, MajorAlias.canonical)).all()
        )
        actions = list(session.scalars(select(AuditEntry.action)))
    assert aliases["cse"] == "Computer Science"
    assert "edit_major_aliases" in actions


def test_upload_invalid_constant_shown(engine: Engine) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = b"Name,Branch,Placed\nAsha,CSE,Yes\n"
    app.file_uploader[0].upload("no year.csv", data, "text/csv").run()
    year = next(box for box in app.text_input if box.label.startswith("Graduation"))

    year.set_value("1800").run()

    assert not app.exception
    assert "value '1800' given for Graduation year is invalid" in app.error[0].value
    assert not any(button.label.startswith("Import") for button in app.button)


def test_history_page_time_and_blank_cells(engine: Engine, shared_cases: Path) -> None:
    app = _staff_app(engine, "alumni_upload.py")
    data = (shared_cases / "alumni_tiny_majors.csv").read_bytes()
    app.file_uploader[0].upload("tiny.csv", data, "text/csv").run()
    _button(app, "Import 5 rows").click().run()

    history = _staff_app(engine, "import_history.py")

    assert not history.exception
    row = history.dataframe[0].value.iloc[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row["imported at"])
    assert row["undone at"] == ""
    assert row["undone by"] == ""

    history.checkbox[0].check().run()
    _button(history, "Undo import #1").click().run()

    row = history.dataframe[0].value.iloc[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row["undone at"])
    assert row["undone by"].startswith("staff")


def test_history_page_no_undo_without_rows(engine: Engine, shared_cases: Path) -> None:
    header, *lines = (shared_cases / "alumni_tiny_majors.csv").read_bytes().splitlines()
    for name, rows in [("tiny.csv", lines), ("reversed.csv", lines[::-1])]:
        app = _staff_app(engine, "alumni_upload.py")
        data = b"\n".join([header, *rows]) + b"\n"
        app.file_uploader[0].upload(name, data, "text/csv").run()
        _button(app, "Import 5 rows").click().run()

    history = _staff_app(engine, "import_history.py")

    assert not history.exception
    assert history.dataframe[0].value.iloc[0]["written"] == 0
    assert any("nothing to undo" in caption.value for caption in history.caption)
    assert not [button for button in history.button if button.label.startswith("Undo")]
