"""Reading CSV and Excel files into rows of text cells.

Every cell stays text until the field parsers read it, so that no reader
converts ``08`` to 8 or ``1,20,000`` to a string of digits behind our back.
Rows are numbered as the user sees them in a spreadsheet program (the first line
of the file is row 1), and rows whose cells are all empty are skipped.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Literal

import charset_normalizer
import pandas as pd

from core.importing.errors import ImportFailure

# Uploads above this size are rejected before parsing; the command line has no limit.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024

# Bytes read to detect the encoding and delimiter of a CSV file given as a path.
SAMPLE_BYTES = 1024 * 1024

# Rows parsed and written per step; each step reports progress.
DEFAULT_CHUNK_ROWS = 20_000

# Files with more columns than this are rejected, because no alumni export has
# that many and the mapping page draws one drop-down per column.
MAX_COLUMNS = 500

DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Legacy .xls workbooks (this OLE signature) go through calamine like .xlsx.

FileKind = Literal["csv", "excel"]

# Control characters that do not occur in CSV text: all of C0 except tab, line
# feed, carriage return and form feed, and DEL.
_BINARY_CONTROLS = frozenset(
    [chr(code) for code in range(32) if chr(code) not in "\t\n\r\f"] + ["\x7f"]
)


@dataclass
class TableSource:
    """An opened spreadsheet: how it was read and where its rows come from."""

    file_name: str
    kind: FileKind
    encoding: str | None = None
    delimiter: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    sheet: str | None = None
    width: int = 0
    line_count: int = 0
    data: bytes | None = None
    path: Path | None = None
    frame: pd.DataFrame | None = None

    @property
    def description(self) -> str:
        """How the file was read, in words for the user."""
        if self.kind == "excel":
            return f"Excel workbook, sheet {self.sheet!r}"
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
        return (
            f"CSV text in {self.encoding}, "
            f"{names.get(self.delimiter or ',', self.delimiter)}-separated"
        )

    def iter_rows(
        self, chunk_rows: int = DEFAULT_CHUNK_ROWS, start_row: int = 1
    ) -> Iterator[pd.DataFrame]:
        """Yield frames of text cells from spreadsheet row ``start_row`` on.

        The index of each frame is the spreadsheet row number; all-empty rows
        are left out.
        """
        for chunk in self._raw_chunks(chunk_rows):
            chunk.index = chunk.index + 1
            chunk = chunk[chunk.index >= start_row].fillna("")
            # Spaces and line breaks around a cell are noise; a leading tab is
            # kept because it is part of the text (and exports neutralise it).
            cells = chunk.apply(lambda column: column.astype(str).str.strip(" \r\n"))
            keep = (cells != "").any(axis=1)
            yield cells[keep]

    def content_sha256(self) -> str:
        """Return the SHA-256 of the table's content as read, not of its bytes.

        For CSV this hashes the decoded text with a BOM dropped, line endings
        normalised to ``\\n``, spaces at line ends removed and blank lines
        dropped. So a re-save in another encoding, with a BOM or with
        CRLF line endings hashes the same. For a workbook it hashes the text
        of every cell of the chosen sheet.
        """
        digest = hashlib.sha256()
        if self.frame is not None:
            for row in self.frame.itertuples(index=False):
                digest.update("\x1f".join(map(str, row)).encode("utf-8") + b"\n")
            return digest.hexdigest()
        for line in self._text_lines():
            line = line.rstrip(" \r\n")
            # Blank lines are skipped like all-empty rows, so a copy saved with
            # extra line breaks (such as \r\r\n) hashes the same.
            if line:
                digest.update(line.encode("utf-8") + b"\n")
        return digest.hexdigest()

    def _text_lines(self) -> Iterator[str]:
        # newline=None turns \r\n and \r into \n, and utf-8-sig drops a BOM.
        if self.data is not None:
            binary: IO[bytes] = io.BytesIO(self.data)
        elif self.path is not None:
            binary = self.path.open("rb")
        else:
            return
        with io.TextIOWrapper(
            binary, encoding=self.encoding, errors="replace", newline=None
        ) as text:
            yield from text

    def head(self, rows: int) -> pd.DataFrame:
        """Return the first ``rows`` non-empty rows."""
        for chunk in self.iter_rows(chunk_rows=max(rows, 1000)):
            return chunk.head(rows)
        return pd.DataFrame()

    def _raw_chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        if self.frame is not None:
            for start in range(0, len(self.frame), chunk_rows):
                yield self.frame.iloc[start : start + chunk_rows].copy()
            return
        source: io.BytesIO | Path = (
            io.BytesIO(self.data) if self.data is not None else self.path  # type: ignore[assignment]
        )
        try:
            reader = pd.read_csv(
                source,
                sep=self.delimiter,
                header=None,
                names=list(range(self.width)),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                encoding=self.encoding,
                chunksize=chunk_rows,
            )
            with reader:
                yield from reader
        except pd.errors.ParserError as error:
            raise ImportFailure(
                f"{self.file_name} could not be read as CSV ({error}): check that "
                "every row has no more cells than the header row"
            ) from error
        except UnicodeDecodeError as error:
            raise ImportFailure(
                f"{self.file_name} is not valid {self.encoding} text after byte "
                f"{error.start}: save it again as UTF-8 and upload that file"
            ) from error


def open_table(
    source: bytes | Path, file_name: str | None = None, sheet: str | None = None
) -> TableSource:
    """Open a CSV or Excel file given as bytes (an upload) or a path.

    Parameters
    ----------
    source : bytes or Path
        The file's content, or its path for files read in chunks.
    file_name : str, optional
        The name shown to the user; defaults to the path's name.
    sheet : str, optional
        The sheet of a workbook; defaults to the first sheet.

    Returns
    -------
    TableSource
        The opened table, with the detected encoding and delimiter, or the
        sheet names of a workbook.

    Raises
    ------
    ImportFailure
        When the file is empty or neither CSV text nor an Excel workbook.
    """
    name = file_name or (source.name if isinstance(source, Path) else "upload")
    head = source[:8] if isinstance(source, bytes) else _read_head(source, 8)
    if not head:
        raise ImportFailure(f"{name} is empty: choose a file that contains a table")
    if head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC):
        content = source if isinstance(source, bytes) else source.read_bytes()
        return _open_excel(content, name, sheet)
    return _open_csv(source, name)


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as stream:
        return stream.read(size)


def _open_excel(content: bytes, name: str, sheet: str | None) -> TableSource:
    try:
        workbook = pd.ExcelFile(io.BytesIO(content), engine="calamine")
        sheet_names = [str(sheet_name) for sheet_name in workbook.sheet_names]
        chosen = sheet if sheet is not None else sheet_names[0]
        if chosen not in sheet_names:
            raise ImportFailure(
                f"sheet {chosen!r} not found in {name}: choose one of "
                + ", ".join(repr(sheet_name) for sheet_name in sheet_names)
            )
        frame = pd.read_excel(workbook, sheet_name=chosen, header=None, dtype=object)
    except ImportFailure:
        raise
    except Exception as error:  # calamine raises its own types for broken files
        raise ImportFailure(
            f"{name} could not be read as an Excel workbook ({error}): open it in "
            "a spreadsheet program and save it again as .xlsx"
        ) from error
    _check_width(frame.shape[1], name)
    text = frame.map(_excel_cell_text) if not frame.empty else frame
    text.columns = list(range(text.shape[1]))
    return TableSource(
        file_name=name,
        kind="excel",
        sheet_names=sheet_names,
        sheet=chosen,
        width=text.shape[1],
        line_count=len(text),
        frame=text,
    )


def _check_width(width: int, name: str) -> None:
    if width > MAX_COLUMNS:
        raise ImportFailure(
            f"{name} has {width:,} columns, more than the maximum of {MAX_COLUMNS}: "
            "delete the columns you do not need and upload the file again"
        )


def _excel_cell_text(value: object) -> str:
    # Excel stores every number as a float, so 2023 arrives as 2023.0; whole
    # numbers are written without the ".0" so years and counts read as typed.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _open_csv(source: bytes | Path, name: str) -> TableSource:
    if isinstance(source, bytes):
        sample, whole = source[:SAMPLE_BYTES], True
        line_count = source.count(b"\n") + (0 if source.endswith(b"\n") else 1)
    else:
        sample, whole = _read_head(source, SAMPLE_BYTES), False
        line_count = _count_lines(source)
    encoding = detect_encoding(source if isinstance(source, bytes) else sample, whole)
    text = sample.decode(encoding, errors="replace")
    if _looks_binary(sample, text):
        raise ImportFailure(
            f"{name} is not a CSV text file or an Excel workbook: it contains "
            "binary data, such as an image or a document. Export the table from "
            "your spreadsheet program as CSV (UTF-8) or .xlsx and upload that file"
        )
    if len(sample) >= SAMPLE_BYTES and "\n" not in text:
        raise ImportFailure(
            f"{name} has a first line longer than {SAMPLE_BYTES:,} bytes, so it is "
            f"not a table of at most {MAX_COLUMNS} columns: check that you chose "
            "the right file"
        )
    try:
        delimiter, width = detect_delimiter(text)
    except ImportFailure as error:
        raise ImportFailure(f"{name}: {error}") from error
    _check_width(width, name)
    return TableSource(
        file_name=name,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        width=width,
        line_count=line_count,
        data=source if isinstance(source, bytes) else None,
        path=source if isinstance(source, Path) else None,
    )


def _looks_binary(sample: bytes, text: str) -> bool:
    # CSV text has no NUL bytes, and control characters other than tab, line
    # breaks and form feed are rare in it, but images and documents have many.
    # One is allowed because old DOS files end with Ctrl-Z (\x1a).
    # NOTE: UTF-16 text also contains NUL bytes, so it is rejected here too.
    if b"\x00" in sample:
        return True
    controls = sum(1 for char in text if char in _BINARY_CONTROLS)
    return controls > 1 and controls * 100 > len(text)


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as stream:
        while block := stream.read(SAMPLE_BYTES):
            count += block.count(b"\n")
    return count


def detect_encoding(content: bytes, whole: bool = True) -> str:
    """Return the text encoding of ``content``: UTF-8 (with or without BOM) first.

    Content that is not UTF-8 goes to charset-normalizer with the choice
    narrowed to Windows-1252 and Latin-1, the encodings that Excel and older
    tools write. Unrestricted, charset-normalizer 3.5 names rarer code pages
    for short files, such as mac_latin2 for a Windows-1252 file of three rows.
    When ``whole`` is false, ``content`` is a sample and may end inside a
    character.
    """
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(content, final=whole)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = charset_normalizer.from_bytes(
        content, cp_isolation=["cp1252", "latin_1"]
    ).best()
    # Latin-1 maps every byte to a character, so it is the fallback.
    return best.encoding if best is not None else "latin_1"


def detect_delimiter(text: str) -> tuple[str, int]:
    """Return the delimiter of CSV ``text`` and the widest row's cell count.

    The delimiter chosen is the one that splits the first lines into the most
    cells, the same number on most lines. A delimiter that leaves a cell longer
    than the ``csv`` module's field size limit is not a candidate.

    Raises
    ------
    ImportFailure
        When every delimiter leaves a cell longer than that limit.
    """
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(text) >= SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside the last line
    best, best_score, best_width = ",", (0, 0), 1
    rejected: list[str] = []
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            # Raised for a cell over csv.field_size_limit(), for example a wide
            # comma-separated header split on semicolons, so this one does not fit.
            rejected.append(delimiter)
            continue
        if not counts:
            continue
        typical = max(set(counts), key=counts.count)
        score = (counts.count(typical) if typical > 1 else 0, typical)
        if score > best_score:
            best, best_score, best_width = delimiter, score, max(counts)
    if len(rejected) == len(DELIMITERS):
        raise ImportFailure(
            f"a cell is longer than {csv.field_size_limit():,} characters with "
            "every delimiter tried (comma, semicolon, tab, vertical bar): check "
            "that you chose the right file"
        )
    return best, best_width


def list_sheets(content: bytes) -> list[str]:
    """Return the sheet names of an Excel workbook, or ``[]`` for other files."""
    if not (content.startswith(_ZIP_MAGIC) or content.startswith(_OLE_MAGIC)):
        return []
    try:
        workbook = pd.ExcelFile(io.BytesIO(content), engine="calamine")
    except Exception:  # calamine raises its own types; open_table reports them
        return []
    return [str(name) for name in workbook.sheet_names]
