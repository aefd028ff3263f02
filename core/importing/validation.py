"""Turning rows of text cells into typed records, and reporting every bad cell.

A cell that its field's parser rejects becomes a ``CellProblem``; a row with
any problem is not written. The report names each problem by the spreadsheet
row the user sees, the column header as written in the file, the value, the
rule it broke and a suggested fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.importing import values
from core.importing.errors import ImportFailure
from core.importing.majors import canonical_major
from core.importing.mapping import EXTRA_PREFIX, fields_for
from core.importing.values import ValueProblem
from db.models import ImportKind, PlacementStatus

# Problems kept in memory and in the import record; further ones are only counted.
MAX_REPORTED_PROBLEMS = 50_000

REPORT_COLUMNS = ["row", "column", "value", "rule", "suggested fix"]

GPA_PERCENT_NOTE = (
    "GPA column {column!r}: {count} of {total} values look like percentages. "
    "Tick 'GPA column is a percentage' to convert them as percentage / 10, or "
    "fix the file."
)
GPA_MIXED_NOTE = (
    "GPA column {column!r} mixes scales: {small} values are on the 0-10 scale and "
    "{large} are above 10, like percentages. Such values are reported, never "
    "converted: use one scale in the whole column."
)


@dataclass(frozen=True)
class CellProblem:
    """One bad cell: where it is, what it holds, and what is wrong with it."""

    row: int
    column: str
    value: str
    rule: str
    suggestion: str

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a row of the downloadable report."""
        return dict(zip(REPORT_COLUMNS, self._values(), strict=True))

    def _values(self) -> tuple[Any, ...]:
        return (self.row, self.column, self.value, self.rule, self.suggestion)


@dataclass
class ImportPlan:
    """What to import: the mapping the user confirmed and the options chosen.

    ``targets`` lists, per column, a field name, ``extra:<key>`` for an extra
    numeric feature, or ``None`` to ignore the column. ``constants`` gives one
    value (as text) for every row to fields the file lacks.
    """

    kind: ImportKind
    headers: list[str]
    targets: list[str | None]
    header_row: int
    constants: dict[str, str] = field(default_factory=dict)
    gpa_from_percent: bool = False
    major_aliases: dict[str, str] = field(default_factory=dict)
    header_width: int | None = None

    def mapping_record(self) -> dict[str, Any]:
        """Return the mapping as stored in the import record."""
        return {
            "header_row": self.header_row,
            "columns": [
                {"header": header, "target": target}
                for header, target in zip(self.headers, self.targets, strict=True)
            ],
            "gpa_from_percent": self.gpa_from_percent,
        }


@dataclass
class Report:
    """The validation result of a whole file."""

    problems: list[CellProblem] = field(default_factory=list)
    problem_count: int = 0
    rows_total: int = 0
    rows_rejected: int = 0
    notes: list[str] = field(default_factory=list)
    gpa_scale_counts: dict[str, int] = field(
        default_factory=lambda: {"gpa": 0, "percent": 0}
    )

    @property
    def rows_valid(self) -> int:
        """Rows without any problem."""
        return self.rows_total - self.rows_rejected

    def add_problems(self, problems: list[CellProblem]) -> None:
        """Count ``problems`` and keep them up to the report's limit."""
        self.problem_count += len(problems)
        room = MAX_REPORTED_PROBLEMS - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def frame(self) -> pd.DataFrame:
        """Return the kept problems as a table, one row per bad cell."""
        rows = [problem.as_dict() for problem in self.problems]
        return pd.DataFrame(rows, columns=REPORT_COLUMNS)

    def records(self) -> list[dict[str, Any]]:
        """Return the kept problems as JSON-ready rows for the import record."""
        return [problem.as_dict() for problem in self.problems]


Parser = Callable[[str], Any]


def _text(max_length: int) -> Parser:
    return lambda text: values.parse_text(text, max_length)


def _semester(text: str) -> int:
    semester = values.parse_count(text)
    if not 1 <= semester <= 12:
        raise ValueProblem("semester must be between 1 and 12", "write 1 to 12")
    return semester


def _study_hours(text: str) -> float:
    hours = values.parse_number(text)
    if not 0 <= hours <= 168:
        raise ValueProblem(
            "weekly study hours must be between 0 and 168", "write hours per week"
        )
    return hours


def _percent_gpa(text: str) -> float:
    if values.parse_percent(text) <= values.GPA_MAX:
        raise ValueProblem(
            "value on the 0-10 scale in a GPA column converted from percentages",
            "use one scale in the whole column",
        )
    return values.percent_to_gpa(text)


def _salary(text: str) -> tuple[str, float, float]:
    values.parse_text(text, 120)
    low, high = values.parse_salary(text)
    return text, low, high


def parser_for(target: str, plan: ImportPlan) -> Parser:
    """Return the cell parser of a target field under the plan's options."""
    if target.startswith(EXTRA_PREFIX):
        return values.parse_number
    if target == "major":
        aliases = plan.major_aliases
        return lambda text: canonical_major(values.parse_text(text, 120), aliases)
    if target == "gpa":
        return _percent_gpa if plan.gpa_from_percent else values.parse_gpa
    parsers: dict[str, Parser] = {
        "name": _text(200),
        "graduation_year": values.parse_year,
        "expected_graduation_year": values.parse_year,
        "attendance": values.parse_percent,
        "placement_status": lambda text: values.parse_placement_status(text).value,
        "company_tier": lambda text: _enum_value(values.parse_company_tier(text)),
        "role_title": _text(200),
        "salary_range": _salary,
        "role_to_major_match_score": values.parse_percent,
        "gender": values.parse_gender,
        "roll_number": _text(64),
        "semester": _semester,
        "weekly_study_hours": _study_hours,
        "project_count": values.parse_count,
        "internship_count": values.parse_count,
    }
    return parsers[target]


def _enum_value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def parse_constants(plan: ImportPlan) -> dict[str, Any]:
    """Parse the plan's constant values; raise ``ImportFailure`` on a bad one."""
    labels = {spec.name: spec.label for spec in fields_for(plan.kind)}
    parsed: dict[str, Any] = {}
    for name, text in plan.constants.items():
        if not text.strip() or name in plan.targets:
            continue
        try:
            parsed[name] = parser_for(name, plan)(text.strip())
        except ValueProblem as problem:
            raise ImportFailure(
                f"value {text!r} given for {labels.get(name, name)} is invalid: "
                f"{problem.rule}; {problem.suggestion}"
            ) from problem
    return parsed


def _gpa_scale(text: str) -> str | None:
    try:
        number = values.parse_number(text.rstrip("% "))
    except ValueProblem:
        return None
    if 0 <= number <= values.GPA_MAX and not text.endswith("%"):
        return "gpa"
    if number <= values.PERCENT_MAX:
        return "percent"
    return None


@dataclass
class ChunkResult:
    """Typed records of the valid rows of one chunk, and the problems found."""

    records: list[dict[str, Any]]
    problems: list[CellProblem]
    rows_seen: int
    rows_rejected: int


def convert_chunk(
    chunk: pd.DataFrame, plan: ImportPlan, constants: dict[str, Any], report: Report
) -> ChunkResult:
    """Parse one chunk of rows under ``plan``; problems are also added to ``report``.

    Each distinct cell text of a column is parsed once, because files repeat
    values (majors, statuses, GPAs) far more often than they vary.
    """
    texts: dict[int, list[str]] = {}
    parsed: dict[int, list[Any]] = {}
    failed: dict[int, dict[str, ValueProblem]] = {}
    for position, target in enumerate(plan.targets):
        if not target or position not in chunk.columns:
            continue
        parser = parser_for(target, plan)
        results: dict[str, Any] = {"": None}
        problems: dict[str, ValueProblem] = {}
        for text in chunk[position].unique():
            if text in results:
                continue
            try:
                results[text] = parser(text)
            except ValueProblem as problem:
                problems[text] = problem
            if target == "gpa":
                scale = _gpa_scale(text)
                if scale:
                    count = int((chunk[position] == text).sum())
                    report.gpa_scale_counts[scale] += count
        texts[position] = chunk[position].tolist()
        parsed[position] = [results.get(text) for text in texts[position]]
        failed[position] = problems

    overflow = _overflow_cells(chunk, plan)
    records: list[dict[str, Any]] = []
    chunk_problems: list[CellProblem] = []
    rejected = 0
    for offset, row_number in enumerate(chunk.index):
        record, row_problems = _build_record(
            texts, offset, int(row_number), plan, constants, parsed, failed
        )
        row_problems.extend(overflow.get(int(row_number), []))
        if row_problems:
            rejected += 1
            chunk_problems.extend(row_problems)
        else:
            records.append(record)

    report.rows_total += len(chunk)
    report.rows_rejected += rejected
    report.add_problems(chunk_problems)
    return ChunkResult(records, chunk_problems, len(chunk), rejected)


def _overflow_cells(
    chunk: pd.DataFrame, plan: ImportPlan
) -> dict[int, list[CellProblem]]:
    """Return problems for filled cells to the right of the last header.

    Such cells usually mean an unquoted comma shifted the row, so the row's
    other cells cannot be trusted either.
    """
    if plan.header_width is None:
        return {}
    found: dict[int, list[CellProblem]] = {}
    for position in chunk.columns:
        if position < plan.header_width:
            continue
        for row_number, text in chunk[position][chunk[position] != ""].items():
            found.setdefault(int(row_number), []).append(
                CellProblem(
                    int(row_number),
                    f"(column {position + 1})",
                    text,
                    "cell to the right of the last column header",
                    "remove the cell, or quote a value that contains the delimiter",
                )
            )
    return found


def _build_record(
    texts: dict[int, list[str]],
    offset: int,
    row_number: int,
    plan: ImportPlan,
    constants: dict[str, Any],
    parsed: dict[int, list[Any]],
    failed: dict[int, dict[str, ValueProblem]],
) -> tuple[dict[str, Any], list[CellProblem]]:
    record: dict[str, Any] = dict(constants)
    extras: dict[str, float] = {}
    problems: list[CellProblem] = []
    columns: dict[str, int] = {}
    for position, target in enumerate(plan.targets):
        if position not in parsed or not target:
            continue
        text = texts[position][offset]
        problem = failed[position].get(text)
        if problem is not None:
            problems.append(
                CellProblem(
                    row_number,
                    plan.headers[position],
                    text,
                    problem.rule,
                    problem.suggestion,
                )
            )
            continue
        value = parsed[position][offset]
        columns[target] = position
        if target.startswith(EXTRA_PREFIX):
            if value is not None:
                extras[target.removeprefix(EXTRA_PREFIX)] = value
        else:
            record[target] = value

    for spec in fields_for(plan.kind):
        if spec.required and record.get(spec.name) is None and spec.name in columns:
            problems.append(
                CellProblem(
                    row_number,
                    plan.headers[columns[spec.name]],
                    "",
                    f"{spec.label} is empty",
                    f"fill in the {spec.label}",
                )
            )
    if plan.kind is ImportKind.ALUMNI:
        problems.extend(_alumni_row_rules(record, columns, row_number, plan))
        _finish_alumni_record(record, extras, row_number)
    else:
        record["source_row"] = row_number
    return record, problems


def _alumni_row_rules(
    record: dict[str, Any], columns: dict[str, int], row_number: int, plan: ImportPlan
) -> list[CellProblem]:
    not_placed = record.get("placement_status") == PlacementStatus.NOT_PLACED.value
    if not_placed and record.get("company_tier") and "company_tier" in columns:
        position = columns["company_tier"]
        return [
            CellProblem(
                row_number,
                plan.headers[position],
                str(record["company_tier"]),
                "company tier given for an alumnus who was not placed",
                "clear the tier, or correct the placement status",
            )
        ]
    return []


def _finish_alumni_record(
    record: dict[str, Any], extras: dict[str, float], row_number: int
) -> None:
    salary = record.pop("salary_range", None)
    not_placed = record.get("placement_status") == PlacementStatus.NOT_PLACED.value
    # Files write a salary of 0 for alumni without an offer; that is no salary.
    if salary is not None and not (not_placed and salary[2] == 0):
        record["salary_text"], record["salary_min_lpa"], record["salary_max_lpa"] = (
            salary
        )
    record["extra_features"] = extras
    record["source_row"] = row_number
    record["natural_key"] = natural_key(
        record.get("name"), record.get("major"), record.get("graduation_year")
    )


def natural_key(name: str | None, major: str | None, year: int | None) -> str | None:
    """Return the key that identifies an alumnus across imports, or ``None``.

    The key is the SHA-256 of the case-folded name with collapsed spaces, the
    canonical major and the graduation year. Rows without a name get no key:
    two nameless rows with equal values (as in files of anonymous records)
    are different people, so they are never merged.
    """
    if not name:
        return None
    parts = [
        " ".join(name.split()).casefold(),
        (major or "").casefold(),
        str(year or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def finish_report(report: Report, plan: ImportPlan) -> None:
    """Add the column-level notes (such as a GPA column's scale) to ``report``."""
    if "gpa" not in plan.targets:
        return
    column = plan.headers[plan.targets.index("gpa")]
    small = report.gpa_scale_counts["gpa"]
    large = report.gpa_scale_counts["percent"]
    if small and large:
        report.notes.append(
            GPA_MIXED_NOTE.format(column=column, small=small, large=large)
        )
    elif large and not plan.gpa_from_percent:
        report.notes.append(
            GPA_PERCENT_NOTE.format(column=column, count=large, total=large + small)
        )
