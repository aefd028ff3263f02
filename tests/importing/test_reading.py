"""Reading files: encodings, delimiters, title rows, workbooks and sheets."""

from __future__ import annotations

import io

import openpyxl
import pytest
import xlwt

from core.importing import ImportFailure
from core.importing.mapping import find_header_row, normalise_header
from core.importing.reading import (
    MAX_COLUMNS,
    SAMPLE_BYTES,
    detect_delimiter,
    detect_encoding,
    open_table,
)
from db.models import ImportKind

HEADER = "name,major,graduation_year,gpa,placement_status"


def _rows(data: bytes, file_name: str = "file.csv") -> list[list[str]]:
    table = open_table(data, file_name)
    return [list(chunk) for frame in table.iter_rows() for chunk in frame.values]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("name\nJosé\n".encode(), "utf-8"),
        ("name\nJosé\n".encode("utf-8-sig"), "utf-8-sig"),
        ("name\nData Scientist – ML\n".encode("cp1252"), "cp1252"),
    ],
)
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert detect_encoding(data) == expected


def test_latin1_text_decoded() -> None:
    data = f"{HEADER}\nRenée Côté,Civil,2022,7.0,Placed\n".encode("latin-1")

    rows = _rows(data)

    assert rows[1][0] == "Renée Côté"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_detect_delimiter(delimiter: str) -> None:
    text = HEADER.replace(",", delimiter) + "\n" + delimiter.join("abcde") + "\n"

    assert detect_delimiter(text) == (delimiter, 5)


def test_semicolon_file_with_decimal_commas() -> None:
    data = b"name;gpa;placement_status\nAsha;8,5;Placed\n"

    table = open_table(data, "semicolon.csv")

    assert table.delimiter == ";"
    assert _rows(data)[1] == ["Asha", "8,5", "Placed"]


def test_empty_rows_dropped_row_numbers_kept() -> None:
    data = f"{HEADER}\n,,,,\nAsha,CSE,2023,8,Placed\n\nRavi,IT,2023,7,No\n".encode()

    frame = next(open_table(data, "gaps.csv").iter_rows(start_row=2))

    assert list(frame.index) == [3, 5]


def test_cells_stay_text() -> None:
    data = f"{HEADER}\n007,CSE,2023,08.50,1\n".encode()

    assert _rows(data)[1] == ["007", "CSE", "2023", "08.50", "1"]


def test_title_row_above_header() -> None:
    data = f"Placement results 2023,,,,\n{HEADER}\nAsha,CSE,2023,8,Placed\n".encode()
    table = open_table(data, "titled.csv")

    assert find_header_row(table.head(20), ImportKind.ALUMNI) == 2


def test_header_not_found() -> None:
    data = b"alpha,beta\n1,2\n3,4\n"
    table = open_table(data, "numbers.csv")

    with pytest.raises(ImportFailure, match="header not found"):
        find_header_row(table.head(20), ImportKind.ALUMNI)


def test_empty_file_rejected() -> None:
    with pytest.raises(ImportFailure, match="is empty"):
        open_table(b"", "empty.csv")


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Exported from the placement cell"])
    alumni = book.create_sheet("Alumni 2023")
    alumni.append(["Alumni outcomes"])
    alumni.append(["Name", "Branch", "Batch", "CGPA", "Placed"])
    alumni.append(["Asha", "CSE", 2023, 8.5, "Yes"])
    alumni.append([None, None, None, None, None])
    alumni.append(["Ravi", "ECE", 2023.0, 7, 0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_sheet_choice_and_text_cells() -> None:
    data = _workbook()

    first = open_table(data, "alumni.xlsx")
    chosen = open_table(data, "alumni.xlsx", sheet="Alumni 2023")

    assert first.kind == "excel"
    assert first.sheet_names == ["Notes", "Alumni 2023"]
    assert first.sheet == "Notes"
    assert find_header_row(chosen.head(20), ImportKind.ALUMNI) == 2
    frame = next(chosen.iter_rows(start_row=3))
    assert list(frame.index) == [3, 5]
    assert frame.loc[3].tolist() == ["Asha", "CSE", "2023", "8.5", "Yes"]
    assert frame.loc[5].tolist() == ["Ravi", "ECE", "2023", "7", "0"]


def _legacy_workbook() -> bytes:
    # The same sheets as _workbook, in the Excel 97-2003 (.xls) format.
    book = xlwt.Workbook()
    book.add_sheet("Notes").write(0, 0, "Exported from the placement cell")
    alumni = book.add_sheet("Alumni 2023")
    rows = [
        ["Alumni outcomes"],
        ["Name", "Branch", "Batch", "CGPA", "Placed"],
        ["Asha", "CSE", 2023, 8.5, "Yes"],
        [],
        ["Ravi", "ECE", 2023.0, 7, 0],
    ]
    for row_number, row in enumerate(rows):
        for column, value in enumerate(row):
            alumni.write(row_number, column, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xls_sheet_choice_and_text_cells() -> None:
    data = _legacy_workbook()

    first = open_table(data, "alumni.xls")
    chosen = open_table(data, "alumni.xls", sheet="Alumni 2023")

    assert first.kind == "excel"
    assert first.sheet_names == ["Notes", "Alumni 2023"]
    assert find_header_row(chosen.head(20), ImportKind.ALUMNI) == 2
    frame = next(chosen.iter_rows(start_row=3))
    assert list(frame.index) == [3, 5]
    assert frame.loc[3].tolist() == ["Asha", "CSE", "2023", "8.5", "Yes"]
    assert frame.loc[5].tolist() == ["Ravi", "ECE", "2023", "7", "0"]


def test_xlsx_unknown_sheet() -> None:
    with pytest.raises(ImportFailure, match="sheet 'Missing' not found"):
        open_table(_workbook(), "alumni.xlsx", sheet="Missing")


def test_broken_workbook_reported() -> None:
    with pytest.raises(ImportFailure, match="could not be read as an Excel"):
        open_table(b"PK\x03\x04 not really a zip", "broken.xlsx")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (" Name ", "name"),
        ("PlacedOrNot", "placed or not"),
        ("Attendance %", "attendance percent"),
        ("Year of Passing ", "year of passing"),
        ("Package_Offered", "package offered"),
        ("Sci&Tech", "sci and tech"),
    ],
)
def test_normalise_header(header: str, expected: str) -> None:
    assert normalise_header(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Gradution Year", "graduation_year"),
        ("Placement Sttus", "placement_status"),
        ("Desgination", "role_title"),
        ("Student_ID", None),
        ("Hobby", None),
    ],
)
def test_match_header_fuzzy(header: str, expected: str | None) -> None:
    from core.importing.mapping import match_header

    assert match_header(header, ImportKind.ALUMNI)[0] == expected


def test_wide_header_rejected() -> None:
    header = ",".join(f"column {index}" for index in range(20_000))

    with pytest.raises(ImportFailure, match="20,000 columns, more than the maximum"):
        open_table(header.encode(), "wide.csv")


def test_column_limit_allows_maximum() -> None:
    header = ",".join(f"c{index}" for index in range(MAX_COLUMNS))

    assert open_table(f"{header}\n".encode(), "wide.csv").width == MAX_COLUMNS


def test_column_limit_applies_to_workbook() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append([f"c{index}" for index in range(MAX_COLUMNS + 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)

    with pytest.raises(ImportFailure, match="501 columns"):
        open_table(buffer.getvalue(), "wide.xlsx")


def test_first_line_longer_than_sample_rejected() -> None:
    data = b"x," * (SAMPLE_BYTES // 2 + 10)

    with pytest.raises(ImportFailure, match="first line longer than"):
        open_table(data, "huge.csv")


def test_cell_over_field_limit_rejected() -> None:
    data = b"name\n" + b"x" * 200_000 + b"\n"

    with pytest.raises(ImportFailure, match="cell is longer than 131,072"):
        open_table(data, "long.csv")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8,
        "name,major\nAsha,CSE\n".encode("utf-16"),
        b"GIF89a" + bytes(range(1, 32)) * 40 + b"\nx,y\n",
    ],
    ids=["png", "utf-16", "controls without NUL"],
)
def test_binary_file_rejected(data: bytes) -> None:
    with pytest.raises(ImportFailure, match="not a CSV text file or an Excel"):
        open_table(data, "photo.csv")


def test_dos_end_of_file_marker_allowed() -> None:
    rows = _rows(b"name,major\nAsha,CSE\n\x1a")

    assert rows[1] == ["Asha", "CSE"]
