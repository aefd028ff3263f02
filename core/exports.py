"""Spreadsheet exports that a spreadsheet program cannot run as formulas.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets. Such text
cells are prefixed with an apostrophe, which those programs show as plain text.
Numbers, including negative ones, and text such as ``15-20 LPA`` are unchanged.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """Return ``value`` prefixed with ``'`` when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with every risky text cell and header neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [neutralise_cell(str(column)) for column in safe.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as formula-safe UTF-8 CSV with a byte-order mark for Excel."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "Export") -> bytes:
    """Return ``frame`` as a formula-safe XLSX workbook."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_frame(frame).to_excel(writer, index=False, sheet_name=sheet_name)
    return buffer.getvalue()


def export_file_name(stem: str, extension: str, now: datetime | None = None) -> str:
    """Return ``stem`` with a UTC timestamp, so each download has a distinct name."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{stem}-{moment:%Y%m%d-%H%M%S}.{extension.lstrip('.')}"
