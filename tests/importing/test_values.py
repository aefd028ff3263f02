"""Cell parsers: the spellings real files use, the errors, and their properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.importing import values
from core.importing.values import ValueProblem
from db.models import CompanyTier, PlacementStatus


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85", 85.0),
        ("85%", 85.0),
        ("90 %", 90.0),
        ("88,5", 88.5),
        ("0", 0.0),
        ("100", 100.0),
    ],
)
def test_parse_percent_spellings(text: str, expected: float) -> None:
    assert values.parse_percent(text) == expected


@pytest.mark.parametrize("text", [">50%", "101", "-1", "abc", "50%%", "nan", "inf"])
def test_parse_percent_rejects(text: str) -> None:
    with pytest.raises(ValueProblem):
        values.parse_percent(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8.5", 8.5), ("8.5/10", 8.5), ("8,5", 8.5), ("10", 10.0), ("7", 7.0)],
)
def test_parse_gpa_spellings(text: str, expected: float) -> None:
    assert values.parse_gpa(text) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("11.2", "GPA above 10"),
        ("85%", "percentage"),
        ("3.4/4", "0-4 scale"),
        ("-1", "between 0 and 10"),
        ("good", "not a number"),
    ],
)
def test_parse_gpa_rejects_with_rule(text: str, rule: str) -> None:
    with pytest.raises(ValueProblem, match=rule):
        values.parse_gpa(text)


def test_percent_to_gpa_divides_by_ten() -> None:
    assert values.percent_to_gpa("85%") == 8.5
    assert values.percent_to_gpa("58.8") == 5.88


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,20,000", 120000.0),
        ("12,34,56,789", 123456789.0),
        ("1,200", 1200.0),
        ("1.234,5", 1234.5),
        ("8,5", 8.5),
        ("-3", -3.0),
    ],
)
def test_parse_number_grouping_and_decimal_comma(text: str, expected: float) -> None:
    assert values.parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Placed", PlacementStatus.PLACED),
        ("yes", PlacementStatus.PLACED),
        ("1", PlacementStatus.PLACED),
        ("1.0", PlacementStatus.PLACED),
        ("TRUE", PlacementStatus.PLACED),
        ("Not Placed", PlacementStatus.NOT_PLACED),
        ("not_placed", PlacementStatus.NOT_PLACED),
        ("No", PlacementStatus.NOT_PLACED),
        ("0", PlacementStatus.NOT_PLACED),
        ("false", PlacementStatus.NOT_PLACED),
    ],
)
def test_parse_placement_status_spellings(text: str, expected: PlacementStatus) -> None:
    assert values.parse_placement_status(text) is expected


def test_parse_placement_status_rejects_maybe() -> None:
    with pytest.raises(ValueProblem, match="not Placed or Not Placed"):
        values.parse_placement_status("maybe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tier 1", CompanyTier.TIER1),
        ("tier-2", CompanyTier.TIER2),
        ("T3", CompanyTier.TIER3),
        ("Tier1", CompanyTier.TIER1),
        ("Tier II", CompanyTier.TIER2),
        ("Super Dream", CompanyTier.TIER1),
        ("Dream", CompanyTier.TIER2),
        ("Mass Recruiter", CompanyTier.TIER3),
        ("Product", CompanyTier.TIER1),
        ("Service", CompanyTier.TIER2),
        ("None", None),
    ],
)
def test_parse_company_tier_spellings(text: str, expected: CompanyTier | None) -> None:
    assert values.parse_company_tier(text) is expected


def test_parse_company_tier_rejects_tier_four() -> None:
    with pytest.raises(ValueProblem):
        values.parse_company_tier("Tier 4")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15-20 LPA", (15.0, 20.0)),
        ("12 LPA", (12.0, 12.0)),
        ("6.5-8 LPA", (6.5, 8.0)),
        ("3.6 LPA", (3.6, 3.6)),
        ("15.0", (15.0, 15.0)),
        ("270000", (2.7, 2.7)),
        ("1,20,000", (1.2, 1.2)),
        ("₹ 6,00,000 - 8,00,000", (6.0, 8.0)),
        ("4.5 lakh", (4.5, 4.5)),
        ("1.2 Cr", (120.0, 120.0)),
        ("10 to 12 LPA", (10.0, 12.0)),
    ],
)
def test_parse_salary_bounds_in_lpa(text: str, expected: tuple[float, float]) -> None:
    assert values.parse_salary(text) == expected


@pytest.mark.parametrize("text", ["20-15 LPA", "negotiable", "15-20-25 LPA"])
def test_parse_salary_rejects(text: str) -> None:
    with pytest.raises(ValueProblem):
        values.parse_salary(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023", 2023),
        ("2023.0", 2023),
        ("2019-2023", 2023),
        ("2019-23", 2023),
        ("2023-05-30", 2023),
        ("30/05/2023", 2023),
        ("45076", 2023),  # Excel serial of 2023-05-29
    ],
)
def test_parse_year_spellings(text: str, expected: int) -> None:
    assert values.parse_year(text) == expected


@pytest.mark.parametrize("text", ["1900", "23", "next year", "2023.5"])
def test_parse_year_rejects(text: str) -> None:
    with pytest.raises(ValueProblem):
        values.parse_year(text)


PARSERS = [
    values.parse_percent,
    values.parse_gpa,
    values.percent_to_gpa,
    values.parse_number,
    values.parse_year,
    values.parse_salary,
    values.parse_placement_status,
    values.parse_company_tier,
    values.parse_count,
    values.parse_extra_number,
    values.parse_gender,
]

cell_text = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789.,%/- LPAlpa", max_size=15),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**9), 10**9).map(str),
)


@given(cell_text)
def test_parsers_raise_only_value_problem(text: str) -> None:
    for parser in PARSERS:
        try:
            parser(text.strip() or "x")
        except ValueProblem as problem:
            assert problem.rule
            assert problem.suggestion


@given(cell_text)
def test_parsed_gpa_within_range(text: str) -> None:
    try:
        gpa = values.parse_gpa(text)
    except ValueProblem:
        return
    assert 0.0 <= gpa <= 10.0


@given(cell_text)
def test_parsed_percent_within_range(text: str) -> None:
    try:
        percent = values.parse_percent(text)
    except ValueProblem:
        return
    assert 0.0 <= percent <= 100.0


@given(cell_text)
def test_parsed_year_within_range(text: str) -> None:
    try:
        year = values.parse_year(text)
    except ValueProblem:
        return
    assert values.YEAR_MIN <= year <= values.YEAR_MAX


@given(cell_text)
def test_parsed_salary_bounds_ordered(text: str) -> None:
    try:
        low, high = values.parse_salary(text)
    except ValueProblem:
        return
    assert 0.0 <= low <= high


@given(st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: round(x, 2)))
def test_gpa_round_trips_through_text(gpa: float) -> None:
    assert values.parse_gpa(str(gpa)) == gpa


@pytest.mark.parametrize("text", ["1e308", "-1e308", "1000000", "-1,000,000"])
def test_parse_extra_number_rejects_huge(text: str) -> None:
    with pytest.raises(ValueProblem, match="absolute value"):
        values.parse_extra_number(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("-3.5", -3.5), ("999999", 999_999.0), ("0", 0.0)]
)
def test_parse_extra_number_accepts(text: str, expected: float) -> None:
    assert values.parse_extra_number(text) == expected


@pytest.mark.parametrize("text", ["-3", "2.5", "1e308", "1000000"])
def test_parse_count_rejects(text: str) -> None:
    with pytest.raises(ValueProblem):
        values.parse_count(text)


@given(cell_text)
def test_parsed_extra_number_bounded(text: str) -> None:
    try:
        number = values.parse_extra_number(text)
    except ValueProblem:
        return
    assert abs(number) < values.NUMBER_ABS_MAX


@given(cell_text)
def test_parsed_count_bounded(text: str) -> None:
    try:
        count = values.parse_count(text)
    except ValueProblem:
        return
    assert 0 <= count < values.NUMBER_ABS_MAX
