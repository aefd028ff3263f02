"""Whole-row conversion: every row is written or reported, and values stay in range."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.importing.majors import DEFAULT_MAJOR_ALIASES, major_key
from core.importing.validation import (
    ImportPlan,
    Report,
    convert_chunk,
    is_count_extra,
)
from db.models import ImportKind

HEADERS = [
    "name",
    "major",
    "graduation_year",
    "gpa",
    "attendance",
    "placement_status",
    "company_tier",
    "salary_range",
    "internships",
]
TARGETS: list[str | None] = [*HEADERS[:-1], "extra:internship_count"]
ALIASES = {
    major_key(alias): canonical
    for canonical, aliases in DEFAULT_MAJOR_ALIASES.items()
    for alias in aliases
}

# Realistic spellings mixed with arbitrary text, so both paths are exercised.
cell = st.one_of(
    st.sampled_from(
        [
            "",
            "8.5",
            "85%",
            "11.2",
            "Placed",
            "no",
            "1",
            "Tier 1",
            "T3",
            "Dream",
            "15-20 LPA",
            "1,20,000",
            "2023",
            "45076",
            "CSE",
            ">50%",
            "None",
            "-3",
        ]
    ),
    st.text(max_size=12),
)
rows = st.lists(
    st.lists(cell, min_size=len(HEADERS), max_size=len(HEADERS)),
    min_size=1,
    max_size=30,
)


def _plan(gpa_from_percent: bool) -> ImportPlan:
    return ImportPlan(
        kind=ImportKind.ALUMNI,
        headers=HEADERS,
        targets=TARGETS,
        header_row=1,
        gpa_from_percent=gpa_from_percent,
        major_aliases=ALIASES,
        header_width=len(HEADERS),
    )


@settings(max_examples=200, deadline=None)
@given(rows, st.booleans())
def test_every_row_written_or_reported(cells: list[list[str]], percent: bool) -> None:
    chunk = pd.DataFrame(cells, index=range(2, len(cells) + 2))
    chunk = chunk.apply(lambda column: column.str.strip(" \r\n"))
    report = Report()

    result = convert_chunk(chunk, _plan(percent), {}, report)

    assert report.rows_total == len(cells)
    assert result.row_count + result.rows_rejected == len(cells)
    assert {problem.row for problem in result.problems} <= set(chunk.index)
    assert len({problem.row for problem in result.problems}) == result.rows_rejected
    for record in result.records():
        assert record["major"]
        assert record["placement_status"] in {"Placed", "Not Placed"}
        assert record["gpa"] is None or 0 <= record["gpa"] <= 10
        assert record["attendance"] is None or 0 <= record["attendance"] <= 100
        year = record["graduation_year"]
        assert year is None or 1950 <= year <= 2100
        if record["placement_status"] == "Not Placed":
            assert record["company_tier"] is None
        low, high = record["salary_min_lpa"], record["salary_max_lpa"]
        assert (low is None) == (high is None)
        assert low is None or 0 <= low <= high
        internships = json.loads(record["extra_features"]).get("internship_count")
        assert internships is None or internships == int(internships) >= 0


def _extras_plan(targets: list[str | None]) -> ImportPlan:
    return ImportPlan(
        kind=ImportKind.ALUMNI,
        headers=["major", "placement_status", "Internships", "Hostel"],
        targets=targets,
        header_row=1,
        header_width=4,
    )


@pytest.mark.parametrize(
    ("internships", "hostel", "column", "rule"),
    [
        ("-3", "1", "Internships", "count must be a whole number of 0 or more"),
        ("2.5", "1", "Internships", "count must be a whole number of 0 or more"),
        ("1e308", "1", "Internships", "absolute value"),
        ("2", "1e308", "Hostel", "absolute value"),
        ("2", "-1e308", "Hostel", "absolute value"),
    ],
)
def test_extra_values_out_of_range(
    internships: str, hostel: str, column: str, rule: str
) -> None:
    targets: list[str | None] = [
        "major",
        "placement_status",
        "extra:internship_count",
        "extra:hostel",
    ]
    chunk = pd.DataFrame([["CSE", "Placed", internships, hostel]], index=[2])
    report = Report()

    result = convert_chunk(chunk, _extras_plan(targets), {}, report)

    assert result.row_count == 0
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.row == 2
    assert problem.column == column
    assert problem.value in {internships, hostel}
    assert rule in problem.rule
    assert problem.suggestion


def test_extra_values_in_range_stored() -> None:
    targets: list[str | None] = [
        "major",
        "placement_status",
        "extra:internship_count",
        "extra:hostel",
    ]
    chunk = pd.DataFrame([["CSE", "Placed", "2", "-0.5"]], index=[2])

    result = convert_chunk(chunk, _extras_plan(targets), {}, Report())

    extras = json.loads(result.records()[0]["extra_features"])
    assert extras == {"internship_count": 2.0, "hostel": -0.5}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("internship_count", True),
        ("project_count", True),
        ("backlogs", True),
        ("certification_count", True),
        ("no_of_hackathons", True),
        ("number_of_papers", True),
        ("aptitude_score", False),
        ("age", False),
        ("hostel", False),
    ],
)
def test_is_count_extra(key: str, expected: bool) -> None:
    assert is_count_extra(key) is expected
