"""Exports of imported alumni neutralise formula cells and leave the rest alone."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from core.exports import csv_bytes, export_file_name, xlsx_bytes
from db.models import Alumnus
from db.session import session_scope
from tests.importing.helpers import run_import

COLUMNS = ["name", "role_title", "salary_text", "gpa", "attendance"]


def _exported_alumni(engine: Engine, shared_cases: Path) -> pd.DataFrame:
    data = (shared_cases / "alumni_formula_injection.csv").read_bytes()
    run_import(engine, data, "alumni_formula_injection.csv")
    with session_scope(engine) as session:
        rows = session.execute(
            select(*(getattr(Alumnus, column) for column in COLUMNS)).order_by(
                Alumnus.source_row
            )
        ).all()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=COLUMNS)
    frame["balance"] = [-5.0, 0.0, 3.5]
    return frame


def _csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    text = csv_bytes(frame).decode("utf-8-sig")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_csv_export_neutralises_formulas(engine: Engine, shared_cases: Path) -> None:
    cells = _csv_cells(_exported_alumni(engine, shared_cases))

    assert cells["name"].tolist() == [
        '\'=HYPERLINK("http://example.invalid","open")',
        "'+Priya Sen",
        "Arjun Bose",
    ]
    assert cells["role_title"].tolist() == ["'@SUM(A1:A9)", "'-Analyst", "'\tTester"]
    assert cells["salary_text"].tolist() == ["15-20 LPA", "6-8 LPA", "3-4 LPA"]
    assert cells["balance"].tolist() == ["-5.0", "0.0", "3.5"]
    assert cells["gpa"].tolist() == ["8.0", "7.5", "7.0"]


def test_xlsx_export_neutralises_formulas(engine: Engine, shared_cases: Path) -> None:
    frame = _exported_alumni(engine, shared_cases)

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame)))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=2, values_only=True))

    names = [row[0] for row in rows]
    assert names[0] == '\'=HYPERLINK("http://example.invalid","open")'
    assert names[1] == "'+Priya Sen"
    assert [row[1] for row in rows] == ["'@SUM(A1:A9)", "'-Analyst", "'\tTester"]
    assert [row[2] for row in rows] == ["15-20 LPA", "6-8 LPA", "3-4 LPA"]
    assert [row[5] for row in rows] == [-5, 0, 3.5]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize(
    "header", ["=cmd", "+total", "-minus", "@at", "\tindent", "\rreturn"]
)
def test_export_neutralises_headers(header: str) -> None:
    frame = pd.DataFrame({header: ["x"]})

    assert csv_bytes(frame).decode("utf-8-sig").startswith("'")


def test_export_file_name_has_timestamp() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 4, 15, 30, 5, tzinfo=UTC)

    assert export_file_name("import-report", "csv", moment) == (
        "import-report-20261204-153005.csv"
    )
