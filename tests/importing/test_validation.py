"""Whole-row conversion: every row is written or reported, and values stay in range."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.importing.majors import DEFAULT_MAJOR_ALIASES, major_key
from core.importing.validation import ImportPlan, Report, convert_chunk
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
