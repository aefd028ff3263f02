"""Opening a file, proposing its mapping and validating it without writing.

The upload page, the command line and the tests go through these functions, so
the preview a user confirms is computed by the same code that writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from core.importing.majors import load_aliases
from core.importing.mapping import (
    check_targets,
    find_header_row,
    header_width,
    headers_of,
    propose_targets,
    remembered_targets,
)
from core.importing.reading import DEFAULT_CHUNK_ROWS, TableSource, open_table
from core.importing.validation import (
    ImportPlan,
    Report,
    convert_chunk,
    finish_report,
    parse_constants,
)
from db.models import ImportKind

# Rows of the file searched for the header and sampled to spot numeric columns.
SAMPLE_ROWS = 200

# Called with (rows processed, estimated rows in the file) after each chunk.
Progress = Callable[[int, int], None]


@dataclass
class PreparedFile:
    """An opened file with its header found and a mapping proposed."""

    table: TableSource
    kind: ImportKind
    # Hash of the content as read (see TableSource.content_sha256), stored as
    # Import.file_sha256 to find an earlier import of the same table.
    sha256: str
    header_row: int
    headers: list[str]
    proposed_targets: list[str | None]
    mapping_remembered: bool
    header_width: int

    @property
    def rows_estimate(self) -> int:
        """Lines below the header, an upper bound on the data rows."""
        return max(self.table.line_count - self.header_row, 0)


def file_sha256(source: bytes | Path) -> str:
    """Return the SHA-256 of a file's content, read in blocks for a path."""
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
        return digest.hexdigest()
    with source.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def prepare_file(
    session: Session,
    source: bytes | Path,
    kind: ImportKind,
    *,
    file_name: str | None = None,
    sheet: str | None = None,
) -> PreparedFile:
    """Open ``source``, find its header row and propose a mapping.

    Parameters
    ----------
    session : Session
        Used to look up a mapping confirmed earlier for the same headers.
    source : bytes or Path
        The uploaded content, or the path of a file to read in chunks.
    kind : ImportKind
        Alumni outcomes or a student roster.
    file_name : str, optional
        The name shown to the user and stored with the import.
    sheet : str, optional
        The sheet of a workbook; the first sheet by default.

    Returns
    -------
    PreparedFile

    Raises
    ------
    ImportFailure
        When the file cannot be read or has no recognisable header row.
    """
    table = open_table(source, file_name, sheet)
    head = table.head(SAMPLE_ROWS)
    header_row = find_header_row(head, kind)
    headers = headers_of(head.loc[header_row])
    sample = head[head.index > header_row]
    remembered = remembered_targets(session, headers, kind)
    targets = remembered or propose_targets(headers, sample, kind)
    return PreparedFile(
        table=table,
        kind=kind,
        sha256=table.content_sha256(),
        header_row=header_row,
        headers=headers,
        proposed_targets=targets,
        mapping_remembered=remembered is not None,
        header_width=header_width(head.loc[header_row]),
    )


def make_plan(
    session: Session,
    prepared: PreparedFile,
    targets: list[str | None] | None = None,
    constants: dict[str, str] | None = None,
    *,
    gpa_from_percent: bool = False,
) -> ImportPlan:
    """Return the import plan for ``prepared`` with the user's corrections.

    Raises ``ImportFailure`` when a constant is given for an unknown or mapped
    field or is invalid, two columns map to one field, or a required field has
    neither a column nor a constant.
    """
    chosen = list(targets) if targets is not None else list(prepared.proposed_targets)
    given = {name: text for name, text in (constants or {}).items() if text.strip()}
    plan = ImportPlan(
        kind=prepared.kind,
        headers=prepared.headers,
        targets=chosen,
        header_row=prepared.header_row,
        constants=given,
        gpa_from_percent=gpa_from_percent,
        major_aliases=load_aliases(session),
        header_width=prepared.header_width,
    )
    # Constants are checked first so that a misspelt field name is reported
    # as such, not as the required field it was meant to fill.
    parse_constants(plan)
    check_targets(prepared.headers, chosen, given, prepared.kind)
    return plan


def validate_file(
    prepared: PreparedFile,
    plan: ImportPlan,
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Report:
    """Validate every row of the file under ``plan`` without writing anything."""
    report = Report()
    constants = parse_constants(plan)
    for chunk in prepared.table.iter_rows(chunk_rows, start_row=plan.header_row + 1):
        convert_chunk(chunk, plan, constants, report)
        if progress is not None:
            progress(report.rows_total, prepared.rows_estimate)
    finish_report(report, plan)
    return report


def preview_frame(prepared: PreparedFile, rows: int = 20) -> pd.DataFrame:
    """Return the first data rows under their headers, as the file has them."""
    head = prepared.table.head(rows + SAMPLE_ROWS)
    data = head[head.index > prepared.header_row].head(rows)
    frame = data.reindex(columns=range(len(prepared.headers)), fill_value="")
    frame.columns = pd.Index(_unique_labels(prepared.headers))
    frame.index.name = "row"
    return frame


def _unique_labels(headers: list[str]) -> list[str]:
    # Streamlit tables need distinct column names; files may repeat a header.
    seen: dict[str, int] = {}
    labels = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        labels.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return labels


def sample_values(prepared: PreparedFile) -> list[str]:
    """Return the first non-empty value of each column, to show beside its header."""
    head = prepared.table.head(SAMPLE_ROWS)
    data = head[head.index > prepared.header_row]
    samples = []
    for position in range(len(prepared.headers)):
        column = (
            data[position] if position in data.columns else pd.Series([], dtype=str)
        )
        filled = column[column != ""]
        samples.append(str(filled.iloc[0]) if len(filled) else "")
    return samples
