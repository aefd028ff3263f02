"""Mapping the columns of a file to the fields of an alumni record or a roster.

Headers are normalised (camel case split, case folded, punctuation removed) and
matched against a synonym table per field, then against the synonyms again with
difflib's similarity ratio as a fuzzy fallback. Columns that match nothing but
hold numbers become extra numeric features of an alumnus.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.importing.errors import ImportFailure
from core.importing.values import ValueProblem, parse_number
from db.models import ColumnMapping, ImportKind
from db.types import utcnow

# Prefix of a target that stores a column in Alumnus.extra_features.
EXTRA_PREFIX = "extra:"

# Rows searched for the header row, for files with a title above the header.
HEADER_SEARCH_ROWS = 20

# Minimum difflib ratio for a header to match a synonym it does not equal.
FUZZY_CUTOFF = 0.85


@dataclass(frozen=True)
class FieldSpec:
    """A field a column can map to, with the header spellings that mean it."""

    name: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False


# Header spellings of a major in alumni files and rosters alike. Alumni files
# also accept "specialisation" and "specialization".
_MAJOR_SYNONYMS = (
    "major",
    "branch",
    "stream",
    "department",
    "dept",
    "discipline",
    "programme",
    "program",
    "course",
)

ALUMNI_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "name",
        "Name",
        (
            "name",
            "student name",
            "full name",
            "alumnus name",
            "alumni name",
            "candidate name",
            "graduate name",
        ),
    ),
    FieldSpec(
        "major",
        "Major",
        (*_MAJOR_SYNONYMS, "specialisation", "specialization"),
        required=True,
    ),
    FieldSpec(
        "graduation_year",
        "Graduation year",
        (
            "graduation year",
            "year of graduation",
            "year of passing",
            "passing year",
            "passout year",
            "pass out year",
            "batch",
            "grad year",
            "graduating year",
            "year",
        ),
    ),
    FieldSpec(
        "gpa",
        "GPA (0-10)",
        (
            "gpa",
            "cgpa",
            "cpi",
            "grade point average",
            "cumulative gpa",
            "cgpa out of 10",
            "gpa out of 10",
        ),
    ),
    FieldSpec(
        "attendance",
        "Attendance (%)",
        (
            "attendance",
            "attendance percent",
            "attendance percentage",
            "attendance rate",
            "attendance pct",
        ),
    ),
    FieldSpec(
        "placement_status",
        "Placement status",
        (
            "placement status",
            "placed",
            "status",
            "placed or not",
            "placement",
            "is placed",
            "placement result",
            "outcome",
            "placed status",
        ),
        required=True,
    ),
    FieldSpec(
        "company_tier",
        "Company tier",
        (
            "company tier",
            "tier",
            "company category",
            "company type",
            "category",
            "recruiter type",
            "offer category",
            "company class",
        ),
    ),
    FieldSpec(
        "role_title",
        "Role title",
        (
            "role title",
            "role",
            "designation",
            "job profile",
            "job title",
            "job role",
            "position",
            "profile",
        ),
    ),
    FieldSpec(
        "salary_range",
        "Salary (LPA or rupees a year)",
        (
            "salary range",
            "salary",
            "ctc",
            "package",
            "package offered",
            "package lpa",
            "ctc lpa",
            "salary lpa",
            "annual salary",
            "compensation",
            "offer",
        ),
    ),
    FieldSpec(
        "role_to_major_match_score",
        "Role-to-major match (0-100)",
        (
            "role to major match score",
            "role to major match",
            "role match",
            "match score",
            "role major match",
        ),
    ),
    FieldSpec("gender", "Gender", ("gender", "sex")),
)

ROSTER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "roll_number",
        "Roll number",
        (
            "roll number",
            "roll no",
            "roll",
            "registration number",
            "reg no",
            "enrollment number",
            "enrolment number",
            "usn",
            "student id",
        ),
        required=True,
    ),
    FieldSpec("name", "Name", ("name", "student name", "full name"), required=True),
    FieldSpec("major", "Major", _MAJOR_SYNONYMS, required=True),
    FieldSpec(
        "semester", "Semester", ("semester", "sem", "current semester"), required=True
    ),
    FieldSpec(
        "expected_graduation_year",
        "Expected graduation year",
        (
            "expected graduation year",
            "graduation year",
            "year of passing",
            "passing year",
            "batch",
            "expected year of passing",
            "grad year",
        ),
        required=True,
    ),
    FieldSpec("gpa", "GPA (0-10)", ("gpa", "cgpa", "cpi", "cumulative gpa")),
    FieldSpec(
        "attendance",
        "Attendance (%)",
        ("attendance", "attendance percent", "attendance percentage"),
    ),
    FieldSpec(
        "weekly_study_hours",
        "Weekly study hours",
        ("weekly study hours", "study hours per week", "study hours"),
    ),
    FieldSpec(
        "project_count",
        "Projects",
        ("project count", "projects", "no of projects", "number of projects"),
    ),
    FieldSpec(
        "internship_count",
        "Internships",
        (
            "internship count",
            "internships",
            "no of internships",
            "number of internships",
        ),
    ),
)

# Extra numeric columns the trajectory engine reads by these exact keys.
EXTRA_FEATURES: dict[str, tuple[str, ...]] = {
    "internship_count": (
        "internships",
        "internship count",
        "no of internships",
        "number of internships",
        "internship",
    ),
    "project_count": (
        "projects",
        "project count",
        "no of projects",
        "number of projects",
    ),
    "backlogs": (
        "backlogs",
        "history of backlogs",
        "backlog",
        "active backlogs",
        "arrears",
        "history of arrears",
    ),
    "aptitude_score": ("aptitude score", "aptitude", "aptitude test score"),
    "coding_score": ("coding score", "coding", "coding test score"),
    "communication_score": (
        "communication score",
        "communication",
        "communication skills",
    ),
    "age": ("age",),
}

# Row identifiers of the source system: never features, never fields.
IDENTIFIER_HEADERS = frozenset(
    {
        "id",
        "sl no",
        "s no",
        "sno",
        "sr no",
        "serial no",
        "serial number",
        "student id",
        "index",
        "roll no",
        "roll number",
    }
)


def fields_for(kind: ImportKind) -> tuple[FieldSpec, ...]:
    """Return the fields of an import of ``kind``."""
    return ALUMNI_FIELDS if kind is ImportKind.ALUMNI else ROSTER_FIELDS


def normalise_header(header: str) -> str:
    """Return ``header`` in lower-case words: ``PlacedOrNot`` -> ``placed or not``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", header.strip())
    lowered = spaced.lower().replace("&", " and ").replace("%", " percent ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", lowered).split())


def snake_case(header: str) -> str:
    """Return the key under which an unknown numeric column is stored."""
    return normalise_header(header).replace(" ", "_") or "column"


def header_signature(headers: Iterable[str]) -> str:
    """Return the SHA-256 of the normalised headers, the key of a remembered mapping."""
    joined = "\x1f".join(normalise_header(header) for header in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _synonym_table(kind: ImportKind) -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in fields_for(kind):
        for synonym in spec.synonyms:
            table.setdefault(synonym, spec.name)
    if kind is ImportKind.ALUMNI:
        for key, synonyms in EXTRA_FEATURES.items():
            for synonym in synonyms:
                table.setdefault(synonym, EXTRA_PREFIX + key)
    return table


def match_header(header: str, kind: ImportKind) -> tuple[str | None, float]:
    """Return the target a header means and how sure the match is (0-1).

    An exact synonym scores 1; a fuzzy match scores its difflib ratio.
    """
    normalised = normalise_header(header)
    table = _synonym_table(kind)
    if not normalised:
        return None, 0.0
    if normalised in table:
        return table[normalised], 1.0
    if normalised in IDENTIFIER_HEADERS:
        return None, 0.0
    close = difflib.get_close_matches(normalised, table, n=1, cutoff=FUZZY_CUTOFF)
    if not close:
        return None, 0.0
    ratio = difflib.SequenceMatcher(None, normalised, close[0]).ratio()
    return table[close[0]], ratio


# Share of a sample's filled cells that must be numbers for an unmatched alumni
# column to be kept as an extra numeric feature.
NUMERIC_COLUMN_SHARE = 0.9


def _is_numeric_column(values: pd.Series) -> bool:
    """Return True when most filled sample cells are numbers.

    A few cells that do not parse are kept as the column's invalid cells, so
    the validation report names them, as it would for a bad cell beyond the
    sample. Requiring every cell to parse dropped the whole column silently.
    """
    filled = [value for value in values if value != ""]
    if not filled:
        return False
    parsed = 0
    for value in filled:
        try:
            parse_number(value)
        except ValueProblem:
            continue
        parsed += 1
    return parsed >= NUMERIC_COLUMN_SHARE * len(filled)


def propose_targets(
    headers: list[str], sample: pd.DataFrame | None, kind: ImportKind
) -> list[str | None]:
    """Propose a target for each column: a field, an extra feature, or ``None``.

    When two columns match one target, the better match keeps it and the other
    is left unmapped. Two exact matches both keep it, so that ``check_targets``
    rejects the mapping with a message naming both columns.
    """
    matches = [match_header(header, kind) for header in headers]
    best: dict[str, float] = {}
    for target, score in matches:
        if target is not None:
            best[target] = max(best.get(target, 0.0), score)

    targets: list[str | None] = []
    for position, (target, score) in enumerate(matches):
        if target is not None and score < best[target]:
            target = None
        if target is None and kind is ImportKind.ALUMNI and sample is not None:
            header = normalise_header(headers[position])
            numeric = position in sample.columns and _is_numeric_column(
                sample[position]
            )
            if header and header not in IDENTIFIER_HEADERS and numeric:
                target = EXTRA_PREFIX + snake_case(headers[position])
        targets.append(target)
    return targets


def find_header_row(head: pd.DataFrame, kind: ImportKind) -> int:
    """Return the spreadsheet row number of the header row among the first rows.

    The header is the first row whose cells name every required field. Failing
    that, it is the first row naming at least two fields, so that a missing
    required column is reported by name. Raises ``ImportFailure`` when no row
    qualifies.
    """
    required = {spec.name for spec in fields_for(kind) if spec.required}
    fallback: int | None = None
    for row_number, row in head.head(HEADER_SEARCH_ROWS).iterrows():
        found = {match_header(str(cell), kind)[0] for cell in row}
        known = {target for target in found if target and ":" not in target}
        if required <= known:
            return int(row_number)
        if fallback is None and len(known) >= 2:
            fallback = int(row_number)
    if fallback is not None:
        return fallback
    labels = ", ".join(spec.label for spec in fields_for(kind) if spec.required)
    raise ImportFailure(
        f"header not found: none of the first {HEADER_SEARCH_ROWS} rows contains "
        f"column names such as {labels}. Put the column names in one row above "
        "the data"
    )


def header_width(row: pd.Series) -> int:
    """Return the position after the last non-empty cell of the header row."""
    filled = [position for position, cell in enumerate(row) if str(cell)]
    return filled[-1] + 1 if filled else 0


def headers_of(row: pd.Series) -> list[str]:
    """Return the header texts of a header row; an empty header gets a column label."""
    return [
        str(cell) if str(cell) else f"(column {position + 1})"
        for position, cell in enumerate(row)
    ]


def check_targets(
    headers: list[str],
    targets: list[str | None],
    constants: dict[str, str],
    kind: ImportKind,
) -> None:
    """Raise ``ImportFailure`` unless the mapping can be imported.

    Two columns mapped to one target are rejected naming both; a required field
    needs a column or a constant value.
    """
    columns_by_target: dict[str, list[str]] = {}
    for header, target in zip(headers, targets, strict=True):
        if target:
            columns_by_target.setdefault(target, []).append(header)
    for target, columns in columns_by_target.items():
        if len(columns) > 1:
            named = " and ".join(repr(column) for column in columns)
            raise ImportFailure(
                f"columns {named} both map to {target}: map one of them to "
                "another field or ignore it"
            )
    missing = [
        f"{spec.label} ({spec.name})"
        for spec in fields_for(kind)
        if spec.required
        and spec.name not in columns_by_target
        and not constants.get(spec.name, "").strip()
    ]
    if missing:
        raise ImportFailure(
            f"required column missing: {', '.join(missing)}. Map a column of the "
            "file to it, or give one value for every row"
        )


def remembered_targets(
    session: Session, headers: list[str], kind: ImportKind
) -> list[str | None] | None:
    """Return the confirmed mapping last used for these headers, if any."""
    signature = header_signature([kind.value, *headers])
    row = session.scalar(
        select(ColumnMapping).where(ColumnMapping.header_signature == signature)
    )
    if row is None:
        return None
    targets = row.mapping.get("targets")
    if not isinstance(targets, list) or len(targets) != len(headers):
        return None
    return [str(target) if target else None for target in targets]


def remember_targets(
    session: Session, headers: list[str], targets: list[str | None], kind: ImportKind
) -> None:
    """Store a confirmed mapping for the next file with the same headers.

    The row is written with an upsert, because two imports of files with the
    same headers may run at once, and a plain insert would make the second
    fail on the unique signature.
    """
    signature = header_signature([kind.value, *headers])
    values = {
        "header_signature": signature,
        "headers": headers,
        "mapping": {"kind": kind.value, "targets": list(targets)},
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ColumnMapping).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[ColumnMapping.header_signature],
        set_={
            "mapping": statement.excluded.mapping,
            "updated_at": statement.excluded.updated_at,
        },
    )
    session.execute(statement)


IGNORE = "(ignore)"


def target_options(kind: ImportKind, targets: Iterable[str | None] = ()) -> list[str]:
    """Return the choices of a mapping editor: ignore, each field, each extra feature.

    Extra features already proposed for this file (``extra:hostel``) are
    included so that the editor can show them.
    """
    options = [IGNORE, *(spec.name for spec in fields_for(kind))]
    if kind is ImportKind.ALUMNI:
        extras = [EXTRA_PREFIX + key for key in EXTRA_FEATURES]
        extras += [t for t in targets if t and t.startswith(EXTRA_PREFIX)]
        options += sorted(set(extras))
    return options


def targets_from_options(choices: Iterable[str | None]) -> list[str | None]:
    """Turn mapping-editor choices back into targets (``None`` for ignored)."""
    return [None if not choice or choice == IGNORE else choice for choice in choices]
