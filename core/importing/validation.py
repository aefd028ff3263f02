"""Turning rows of text cells into typed records, and reporting every bad cell.

A cell that its field's parser rejects becomes a ``CellProblem``, and a row
with any problem is not written. The report names each problem by the row
number a spreadsheet program shows, the column header as written in the file,
the value, the rule it broke and a suggested fix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.engine.features import COUNT_FEATURES
from core.importing import values
from core.importing.errors import ImportFailure
from core.importing.majors import canonical_major, major_key
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
    "GPA column {column!r} mixes scales: {small} on the 0-10 scale and {large} "
    "above 10, like percentages. Such values are reported, never converted: use "
    "one scale in the whole column."
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
    """The confirmed mapping of a file and the import options.

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


# Key prefixes of extra columns that count things (``no_of_hackathons``).
_COUNT_PREFIXES = ("no_of_", "number_of_")


def is_count_extra(key: str) -> bool:
    """Return whether the extra column ``key`` contains counts.

    Counts are the engine's count features (internships, projects, backlogs) and
    any key that ends in ``_count`` or starts with ``no_of_`` or ``number_of_``.
    """
    return (
        key in COUNT_FEATURES
        or key.endswith("_count")
        or key.startswith(_COUNT_PREFIXES)
    )


def _extra_count(text: str) -> float:
    # A float, like every other extra value, so the stored JSON and the engine's
    # feature vectors see one number type.
    return float(values.parse_count(text))


def parser_for(target: str, plan: ImportPlan) -> Parser:
    """Return the cell parser of a target field under the plan's options.

    Extra columns that contain counts (see ``is_count_extra``) take whole numbers
    of 0 or more. Every other extra column takes any number below
    ``values.NUMBER_ABS_MAX`` in absolute value.
    """
    if target.startswith(EXTRA_PREFIX):
        if is_count_extra(target.removeprefix(EXTRA_PREFIX)):
            return _extra_count
        return values.parse_extra_number
    if target == "major":
        return _major_parser(plan.major_aliases)
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


def _major_parser(aliases: dict[str, str]) -> Parser:
    def parse_major(text: str) -> str:
        major = canonical_major(values.parse_text(text, 120), aliases)
        key = major_key(text)
        if not key:
            return major
        # The first spelling of a new major is added to the plan's mapping, so
        # that later rows of the file that differ only in case or Unicode form
        # store the same text.
        return aliases.setdefault(key, major)

    return parse_major


def _enum_value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def parse_constants(plan: ImportPlan) -> dict[str, Any]:
    """Parse the plan's constant values with the same parsers as cells.

    Raises ``ImportFailure`` for a value given for an unknown field, for a
    field that a column of the file is mapped to, or for an invalid value.
    Empty values are left out.
    """
    labels = {spec.name: spec.label for spec in fields_for(plan.kind)}
    parsed: dict[str, Any] = {}
    for name, text in plan.constants.items():
        if not text.strip():
            continue
        if name not in labels:
            raise ImportFailure(
                f"a value was given for unknown field {name!r}: valid fields are "
                + ", ".join(labels)
            )
        if name in plan.targets:
            column = plan.headers[plan.targets.index(name)]
            raise ImportFailure(
                f"a value was given for {labels[name]} ({name}), but the file's "
                f"column {column!r} is mapped to it: remove the value, or ignore "
                "that column (map it to no field on the upload page, or delete it "
                "from the file for the command line)"
            )
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
    """The valid rows of one chunk as typed columns, and the problems found.

    ``columns`` maps each output column (a model field, ``extra_features`` as
    JSON text, ``natural_key``, ``source_row``) to its values, one per valid row.
    """

    columns: dict[str, list[Any]]
    problems: list[CellProblem]
    rows_seen: int
    rows_rejected: int

    @property
    def row_count(self) -> int:
        """Valid rows in the chunk."""
        return len(self.columns["source_row"])

    def records(self) -> list[dict[str, Any]]:
        """Return the valid rows as one dict per row."""
        names = list(self.columns)
        return [
            dict(zip(names, row, strict=True))
            for row in zip(*self.columns.values(), strict=True)
        ]


@dataclass
class _ParsedColumn:
    position: int
    texts: list[str]
    values: list[Any]
    problems: dict[str, ValueProblem]


def _parse_column(
    chunk: pd.DataFrame, position: int, target: str, plan: ImportPlan, report: Report
) -> _ParsedColumn:
    # Files repeat values (majors, statuses, GPAs) far more often than they vary,
    # so each distinct text of a column is parsed once.
    parser = parser_for(target, plan)
    texts = chunk[position].tolist()
    results: dict[str, Any] = {"": None}
    problems: dict[str, ValueProblem] = {}
    counts = chunk[position].value_counts()
    for text, count in counts.items():
        text = str(text)
        if text in results:
            continue
        try:
            results[text] = parser(text)
        except ValueProblem as problem:
            problems[text] = problem
        if target == "gpa":
            scale = _gpa_scale(text)
            if scale:
                report.gpa_scale_counts[scale] += int(count)
    values = [results.get(text) for text in texts]
    return _ParsedColumn(position, texts, values, problems)


def convert_chunk(
    chunk: pd.DataFrame, plan: ImportPlan, constants: dict[str, Any], report: Report
) -> ChunkResult:
    """Parse one chunk of rows under ``plan``; problems are also added to ``report``.

    The work runs column by column rather than row by row, because a chunk of
    20,000 rows would otherwise cost a Python call per cell.
    """
    row_numbers = [int(row_number) for row_number in chunk.index]
    parsed: dict[str, _ParsedColumn] = {}
    for position, target in enumerate(plan.targets):
        if target and position in chunk.columns:
            parsed[target] = _parse_column(chunk, position, target, plan, report)

    # (offset in chunk, column position, problem): sorted into reading order below.
    found: list[tuple[int, int, CellProblem]] = []
    for column in parsed.values():
        header = plan.headers[column.position]
        if column.problems:
            for offset, text in enumerate(column.texts):
                problem = column.problems.get(text)
                if problem is not None:
                    cell = CellProblem(
                        row_numbers[offset],
                        header,
                        text,
                        problem.rule,
                        problem.suggestion,
                    )
                    found.append((offset, column.position, cell))
    found.extend(_empty_required_cells(parsed, plan, row_numbers))
    found.extend(_overflow_cells(chunk, plan, row_numbers))
    if plan.kind is ImportKind.ALUMNI:
        found.extend(_tier_without_placement(parsed, plan, row_numbers))
    found.sort(key=lambda item: (item[0], item[1]))

    bad = {offset for offset, _, _ in found}
    keep = [offset for offset in range(len(row_numbers)) if offset not in bad]
    columns = _valid_columns(parsed, constants, keep, row_numbers, plan)
    problems = [problem for _, _, problem in found]
    report.rows_total += len(row_numbers)
    report.rows_rejected += len(bad)
    report.add_problems(problems)
    return ChunkResult(columns, problems, len(row_numbers), len(bad))


def _empty_required_cells(
    parsed: dict[str, _ParsedColumn], plan: ImportPlan, row_numbers: list[int]
) -> list[tuple[int, int, CellProblem]]:
    found = []
    for spec in fields_for(plan.kind):
        column = parsed.get(spec.name)
        if not spec.required or column is None:
            continue
        header = plan.headers[column.position]
        for offset, text in enumerate(column.texts):
            if text == "":
                cell = CellProblem(
                    row_numbers[offset],
                    header,
                    "",
                    f"{spec.label} is empty",
                    f"fill in the {spec.label}",
                )
                found.append((offset, column.position, cell))
    return found


def _overflow_cells(
    chunk: pd.DataFrame, plan: ImportPlan, row_numbers: list[int]
) -> list[tuple[int, int, CellProblem]]:
    """Return problems for filled cells to the right of the last header.

    Such cells usually mean an unquoted comma shifted the row, so the row's
    other cells cannot be trusted either.
    """
    if plan.header_width is None:
        return []
    found = []
    for position in chunk.columns:
        if position < plan.header_width:
            continue
        for offset, text in enumerate(chunk[position].tolist()):
            if text != "":
                cell = CellProblem(
                    row_numbers[offset],
                    f"(column {position + 1})",
                    text,
                    "cell to the right of the last column header",
                    "remove the cell, or quote a value that contains the delimiter",
                )
                found.append((offset, position, cell))
    return found


def _tier_without_placement(
    parsed: dict[str, _ParsedColumn], plan: ImportPlan, row_numbers: list[int]
) -> list[tuple[int, int, CellProblem]]:
    status, tier = parsed.get("placement_status"), parsed.get("company_tier")
    if status is None or tier is None:
        return []
    header = plan.headers[tier.position]
    found = []
    not_placed = PlacementStatus.NOT_PLACED.value
    pairs = zip(status.values, tier.values, strict=True)
    for offset, (placement, company_tier) in enumerate(pairs):
        if placement == not_placed and company_tier is not None:
            cell = CellProblem(
                row_numbers[offset],
                header,
                tier.texts[offset],
                "company tier given for an alumnus who was not placed",
                "clear the tier, or correct the placement status",
            )
            found.append((offset, tier.position, cell))
    return found


def _valid_columns(
    parsed: dict[str, _ParsedColumn],
    constants: dict[str, Any],
    keep: list[int],
    row_numbers: list[int],
    plan: ImportPlan,
) -> dict[str, list[Any]]:
    def take(values: list[Any]) -> list[Any]:
        return values if len(keep) == len(values) else [values[i] for i in keep]

    size = len(keep)
    columns: dict[str, list[Any]] = {
        name: [value] * size for name, value in constants.items()
    }
    extras: dict[str, list[Any]] = {}
    for target, column in parsed.items():
        if target.startswith(EXTRA_PREFIX):
            extras[target.removeprefix(EXTRA_PREFIX)] = take(column.values)
        else:
            columns[target] = take(column.values)
    columns["source_row"] = take(row_numbers)
    if plan.kind is ImportKind.ALUMNI:
        _finish_alumni_columns(columns, extras, size)
    return columns


def _finish_alumni_columns(
    columns: dict[str, list[Any]], extras: dict[str, list[Any]], size: int
) -> None:
    salaries = columns.pop("salary_range", [None] * size)
    statuses = columns.get("placement_status", [None] * size)
    not_placed = PlacementStatus.NOT_PLACED.value
    # Files write a salary of 0 for alumni without an offer; that is no salary.
    kept = [
        None if salary is None or (status == not_placed and salary[2] == 0) else salary
        for salary, status in zip(salaries, statuses, strict=True)
    ]
    columns["salary_text"] = [salary and salary[0] for salary in kept]
    columns["salary_min_lpa"] = [salary and salary[1] for salary in kept]
    columns["salary_max_lpa"] = [salary and salary[2] for salary in kept]

    columns["extra_features"] = _extras_json(extras, size)

    columns["natural_key"] = [
        natural_key(name, major, year)
        for name, major, year in zip(
            columns.get("name", [None] * size),
            columns.get("major", [None] * size),
            columns.get("graduation_year", [None] * size),
            strict=True,
        )
    ]


def _extras_json(extras: dict[str, list[Any]], size: int) -> list[str]:
    # Extra columns hold few distinct combinations (counts, scores), so each
    # combination is serialised once.
    if not extras:
        return ["{}"] * size
    names = list(extras)
    cache: dict[tuple[Any, ...], str] = {}
    texts = []
    for row in zip(*extras.values(), strict=True):
        text = cache.get(row)
        if text is None:
            pairs = zip(names, row, strict=True)
            text = json.dumps(
                {name: value for name, value in pairs if value is not None}
            )
            cache[row] = text
        texts.append(text)
    return texts


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
        # A few values above 10 among GPAs are typing errors, which the cell
        # problems already list, so the column is called mixed only when at
        # least as many values are above 10 or the conversion is ticked.
        if large >= small or plan.gpa_from_percent:
            report.notes.append(
                GPA_MIXED_NOTE.format(
                    column=column,
                    small=_count_phrase(small),
                    large=_count_phrase(large),
                )
            )
    elif large and not plan.gpa_from_percent:
        report.notes.append(
            GPA_PERCENT_NOTE.format(column=column, count=large, total=large + small)
        )


def _count_phrase(count: int) -> str:
    return f"{count:,} value is" if count == 1 else f"{count:,} values are"
