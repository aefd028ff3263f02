"""Parsers that turn the text of one spreadsheet cell into a typed value.

Every parser takes the cell text (already stripped, never empty) and returns the
value, or raises ``ValueProblem`` with the rule that was broken and a suggested
fix. Nothing is coerced silently: text that is not clearly a value of the field
is an error, not a missing value.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from core.engine.features import NUMBER_ABS_MAX
from db.models import CompanyTier, PlacementStatus

GPA_MAX = 10.0
PERCENT_MAX = 100.0
YEAR_MIN = 1950
YEAR_MAX = 2100


# Rupees in one lakh: salaries in rupees a year are divided by this to give LPA.
RUPEES_PER_LAKH = 100_000

# A plain salary number at or above this is read as rupees a year, below it as
# LPA: no Indian salary is 1,000 LPA or more, and none is below 1,000 rupees a year.
RUPEE_SALARY_THRESHOLD = 1_000

# Day 0 of Excel's 1900 date system as Python dates count it (Excel counts a
# 29 February 1900 that never existed, so serials from 61 on line up with this).
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIAL_MIN = (date(YEAR_MIN, 1, 1) - EXCEL_EPOCH).days
EXCEL_SERIAL_MAX = (date(YEAR_MAX, 12, 31) - EXCEL_EPOCH).days


class ValueProblem(ValueError):
    """Raised when a cell's text is not a valid value of its field."""

    def __init__(self, rule: str, suggestion: str) -> None:
        super().__init__(rule)
        self.rule = rule
        self.suggestion = suggestion


_SPACES = re.compile(r"\s+")
_WESTERN_GROUPING = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
# Indian grouping: the last three digits, then groups of two (1,20,000; 12,34,56,789).
_INDIAN_GROUPING = re.compile(r"^[+-]?\d{1,2}(,\d{2})*,\d{3}(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_EUROPEAN = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float:
    """Parse a number written with digit grouping or a decimal comma.

    ``1,200`` and ``1,20,000`` are digit grouping (Western and Indian), ``8,5``
    and ``1.234,5`` use a decimal comma. Anything else that is not a plain
    decimal number raises ``ValueProblem``.
    """
    compact = _SPACES.sub("", text)
    if _WESTERN_GROUPING.match(compact) or _INDIAN_GROUPING.match(compact):
        compact = compact.replace(",", "")
    elif _EUROPEAN.match(compact):
        compact = compact.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.match(compact):
        compact = compact.replace(",", ".")
    if not _PLAIN.match(compact):
        raise ValueProblem("not a number", "write a plain number such as 7.5")
    value = float(compact)
    if not math.isfinite(value):
        raise ValueProblem("not a finite number", "write a plain number such as 7.5")
    return value


def _check_range(value: float, low: float, high: float, what: str) -> float:
    if not low <= value <= high:
        raise ValueProblem(
            f"{what} must be between {low:g} and {high:g}",
            f"correct the value to lie between {low:g} and {high:g}",
        )
    return value


def parse_percent(text: str) -> float:
    """Parse a percentage such as ``85``, ``85%`` or ``90 %`` into 0-100."""
    body = text.strip()
    if body.endswith("%"):
        body = body[:-1].strip()
    try:
        value = parse_number(body)
    except ValueProblem as problem:
        raise ValueProblem(
            "not a percentage", "write a number from 0 to 100, such as 85 or 85%"
        ) from problem
    return _check_range(value, 0.0, PERCENT_MAX, "a percentage")


def parse_gpa(text: str) -> float:
    """Parse a GPA on the 0-10 scale, such as ``8.5`` or ``8.5/10``.

    A percentage (``85%``) or a value above 10 raises ``ValueProblem``: the
    caller offers the percentage conversion for the whole column instead.
    """
    body = text.strip()
    if body.endswith("%"):
        raise ValueProblem(
            "GPA written as a percentage",
            "convert the column with the percentage option, or write a 0-10 GPA",
        )
    if "/" in body:
        numerator, _, denominator = body.partition("/")
        scale = _parse_plain(denominator, "GPA scale")
        if scale != GPA_MAX:
            raise ValueProblem(
                f"GPA on a 0-{scale:g} scale, not 0-10",
                "convert the GPA to the 0-10 scale before importing",
            )
        body = numerator
    value = _parse_plain(body, "GPA")
    if GPA_MAX < value <= PERCENT_MAX:
        raise ValueProblem(
            "GPA above 10 (it looks like a percentage)",
            "correct the GPA to 0-10, or convert the column with the percentage option",
        )
    return _check_range(value, 0.0, GPA_MAX, "GPA")


def percent_to_gpa(text: str) -> float:
    """Convert a percentage mark to the 0-10 GPA scale as percentage / 10.

    This linear rescale is the explicit conversion offered for GPA columns given
    as percentages. It keeps the order of students and the 0-10 range; it is not
    an official equivalence of any university.
    """
    return round(parse_percent(text) / 10.0, 4)


def _parse_plain(text: str, what: str) -> float:
    try:
        return parse_number(text)
    except ValueProblem as problem:
        raise ValueProblem(
            f"{what} is not a number", f"write the {what} as a number such as 7.5"
        ) from problem


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


_PLACED_WORDS = frozenset(
    {"placed", "yes", "y", "1", "true", "t", "selected", "hired", "got placed"}
)
_NOT_PLACED_WORDS = frozenset(
    {
        "not placed",
        "notplaced",
        "unplaced",
        "no",
        "n",
        "0",
        "false",
        "f",
        "not selected",
        "not hired",
    }
)


def parse_placement_status(text: str) -> PlacementStatus:
    """Parse Placed / Not Placed from the spellings files use (yes/no, 1/0...)."""
    words = _words(text)
    if words in {"1 0", "0 0"}:  # 1.0 and 0.0 as written by spreadsheet programs
        words = words[0]
    if words in _PLACED_WORDS:
        return PlacementStatus.PLACED
    if words in _NOT_PLACED_WORDS:
        return PlacementStatus.NOT_PLACED
    raise ValueProblem(
        "placement status is not Placed or Not Placed",
        "write Placed or Not Placed (yes/no and 1/0 are also read)",
    )


# Company categories that placement cells use in place of tiers. Product companies
# rank with Super Dream offers and service companies with Dream offers, because in
# the public data set of ShashankSingh433/placement-prediction-skill-improvement-
# dashboard their mean offers are 16.5 and 6.4 LPA. Mass recruiters are Tier3.
_TIER_WORDS: dict[str, CompanyTier] = {
    "super dream": CompanyTier.TIER1,
    "dream plus": CompanyTier.TIER1,
    "product": CompanyTier.TIER1,
    "product based": CompanyTier.TIER1,
    "dream": CompanyTier.TIER2,
    "service": CompanyTier.TIER2,
    "service based": CompanyTier.TIER2,
    "mass recruiter": CompanyTier.TIER3,
    "mass recruiters": CompanyTier.TIER3,
    "mass": CompanyTier.TIER3,
}
_TIER_NUMBER = re.compile(r"^(?:tier|t)?\s*([123]|i{1,3})$")
_NO_TIER_WORDS = frozenset({"none", "na", "n a", "nil", "not applicable"})


def parse_company_tier(text: str) -> CompanyTier | None:
    """Parse a tier (``Tier 1``, ``tier-2``, ``T3``, ``Dream``...).

    Returns ``None`` for "none" and "NA", which files write for no tier.
    """
    words = _words(text)
    if words in _NO_TIER_WORDS or not words:
        return None
    if words in _TIER_WORDS:
        return _TIER_WORDS[words]
    match = _TIER_NUMBER.match(words.replace(" ", ""))
    if match:
        number = {"i": "1", "ii": "2", "iii": "3"}.get(match.group(1), match.group(1))
        return CompanyTier(f"Tier{number}")
    raise ValueProblem(
        "company tier is not Tier1, Tier2 or Tier3",
        "write Tier 1, Tier 2 or Tier 3 (Super Dream, Dream, Mass Recruiter, "
        "Product and Service are also read)",
    )


_SALARY_UNIT = re.compile(
    r"(lpa|lakhs?|lacs?|l|cr|crores?|k|inr|rs|rupees|per annum|pa|p a|/-|₹)", re.I
)
_SALARY_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_SALARY_RANGE = re.compile(
    rf"^({_SALARY_NUMBER})(?:\s*(?:-|–|to)\s*({_SALARY_NUMBER}))?$"
)


def parse_salary(text: str) -> tuple[float, float]:
    """Parse a salary into lower and upper bounds in LPA (lakh rupees a year).

    ``15-20 LPA``, ``12 LPA``, ``4.5 lakh`` and ``1.2 Cr`` name their unit. A
    bare number is LPA below 1,000 and rupees a year from 1,000 on, so
    ``1,20,000`` is 1.2 LPA and ``15.0`` is 15 LPA.
    """
    lowered = text.lower().replace("₹", " ").replace("rs.", " ")
    multiplier: float | None = None
    if re.search(r"\b(cr|crores?)\b", lowered):
        multiplier = 100.0
    elif re.search(r"\b(lpa|lakhs?|lacs?|l)\b|\d\s*l\b", lowered):
        multiplier = 1.0
    elif re.search(r"\d\s*k\b", lowered):
        multiplier = 1_000 / RUPEES_PER_LAKH
    body = _SALARY_UNIT.sub(" ", lowered)
    body = " ".join(body.replace("/", " ").split())
    match = _SALARY_RANGE.match(body)
    if not match:
        raise ValueProblem(
            "salary is not an amount or a range",
            "write an amount or a range such as 12 LPA, 15-20 LPA or 1,20,000",
        )
    low = parse_number(match.group(1))
    high = parse_number(match.group(2)) if match.group(2) else low
    if multiplier is None:
        multiplier = 1.0 if high < RUPEE_SALARY_THRESHOLD else 1 / RUPEES_PER_LAKH
    low, high = round(low * multiplier, 4), round(high * multiplier, 4)
    if low > high:
        raise ValueProblem(
            "salary range runs from high to low", "write the lower bound first"
        )
    return low, high


_YEAR_RANGE = re.compile(r"^(\d{4})\s*(?:-|–|to)\s*(\d{2}|\d{4})$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")


def parse_year(text: str) -> int:
    """Parse a graduation year: ``2023``, ``2023.0``, ``2019-2023``, a date, or an
    Excel date serial.

    Four-digit numbers stay years; a batch ``2019-23`` ends in 2023; a number in
    the range of Excel date serials for 1950-2100 is read as that date's year.
    """
    body = text.strip()
    batch = _YEAR_RANGE.match(body)
    if batch:
        end = batch.group(2)
        year = int(end if len(end) == 4 else batch.group(1)[:2] + end)
        return int(_check_range(year, YEAR_MIN, YEAR_MAX, "graduation year"))
    for date_format in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(body, date_format)
        except ValueError:
            continue
        return int(_check_range(parsed.year, YEAR_MIN, YEAR_MAX, "graduation year"))
    try:
        value = parse_number(body)
    except ValueProblem as problem:
        raise ValueProblem(
            "graduation year is not a year", "write a four-digit year such as 2023"
        ) from problem
    if value == int(value) and YEAR_MIN <= value <= YEAR_MAX:
        return int(value)
    if EXCEL_SERIAL_MIN <= value <= EXCEL_SERIAL_MAX:
        return (EXCEL_EPOCH + timedelta(days=int(value))).year
    raise ValueProblem(
        f"graduation year must be between {YEAR_MIN} and {YEAR_MAX}",
        "write a four-digit year such as 2023",
    )


def _check_magnitude(value: float, what: str) -> float:
    if abs(value) >= NUMBER_ABS_MAX:
        raise ValueProblem(
            f"{what} must be below {NUMBER_ABS_MAX:,.0f} in absolute value",
            "correct the value, which is likely a typing or export error",
        )
    return value


def parse_count(text: str) -> int:
    """Parse a whole number from 0 to below ``NUMBER_ABS_MAX`` (semester, projects)."""
    value = _parse_plain(text, "count")
    if value != int(value) or value < 0:
        raise ValueProblem(
            "count must be a whole number of 0 or more",
            "write a whole number such as 2",
        )
    return int(_check_magnitude(value, "a count"))


def parse_extra_number(text: str) -> float:
    """Parse a value of an extra numeric column.

    Raises ``ValueProblem`` for a value at or above ``NUMBER_ABS_MAX`` in
    absolute value.
    """
    return _check_magnitude(parse_number(text), "a number")


def parse_text(text: str, max_length: int) -> str:
    """Return ``text`` with its inner whitespace kept, or raise when too long."""
    if len(text) > max_length:
        raise ValueProblem(
            f"text longer than {max_length} characters",
            f"shorten the text to {max_length} characters",
        )
    return text


_GENDER_WORDS = {"m": "Male", "male": "Male", "f": "Female", "female": "Female"}


def parse_gender(text: str) -> str:
    """Return Male/Female for the usual spellings, other text as written."""
    return _GENDER_WORDS.get(_words(text), parse_text(text, 32))
