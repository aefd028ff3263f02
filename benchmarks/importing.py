"""Generated alumni spreadsheets for benchmarks and tests of large imports.

The files use everyday headers and spellings (``CGPA``, ``Placed?``, ``85%``,
``Tier 1``, ``12 LPA``) so that an import exercises the mapping and every
value parser, not only the writer.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADERS = (
    "Name",
    "Branch",
    "Year of Passing",
    "CGPA",
    "Attendance %",
    "Placed?",
    "Company Tier",
    "Designation",
    "CTC",
    "Internships",
    "Backlogs",
)
BRANCHES = ("CSE", "ECE", "IT", "Mech", "EEE", "Civil")
ROLES = ("SDE", "Analyst", "Design Engineer", "Trainee", "Consultant")
SALARY_BY_TIER = {"Tier 1": "15-20 LPA", "Tier 2": "6-8 LPA", "Tier 3": "3.5 LPA"}


def alumni_row(number: int, rng: random.Random) -> list[str]:
    """Return one generated alumni row; ``number`` makes the name unique."""
    gpa = round(rng.uniform(5.0, 9.8), 2)
    placed = rng.random() < min(0.95, max(0.05, (gpa - 5.0) / 4.0))
    tier = rng.choice(tuple(SALARY_BY_TIER)) if placed else ""
    return [
        f"Alumnus {number:07d}",
        rng.choice(BRANCHES),
        str(rng.randint(2015, 2025)),
        f"{gpa}",
        f"{rng.randint(55, 100)}%",
        "Yes" if placed else "No",
        tier,
        rng.choice(ROLES) if placed else "",
        SALARY_BY_TIER[tier] if placed else "",
        str(rng.randint(0, 3)),
        str(rng.choice((0, 0, 0, 1, 2))),
    ]


def write_alumni_csv(path: Path, rows: int, seed: int = 7) -> Path:
    """Write a UTF-8 alumni CSV of ``rows`` data rows to ``path``, row by row."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADERS)
        for number in range(1, rows + 1):
            writer.writerow(alumni_row(number, rng))
    return path
