"""Builders of alumni rows from the case spreadsheets, read with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from db.models import CompanyTier, PlacementStatus
from tests.factories import make_alumnus


def _value(raw: object) -> object:
    return None if pd.isna(raw) else raw


def add_case_alumni(session: Session, path: Path) -> int:
    """Insert every row of a case CSV with the template's headers; return the count.

    Blank GPA or attendance cells are stored as NULL, not 0.
    """
    frame = pd.read_csv(path)
    for row in frame.to_dict("records"):
        tier = _value(row["company_tier"])
        make_alumnus(
            session,
            name=row["name"],
            major=row["major"],
            graduation_year=int(row["graduation_year"]),
            gpa=_value(row["gpa"]),
            attendance=_value(row["attendance"]),
            placement_status=PlacementStatus(row["placement_status"]),
            company_tier=None if tier is None else CompanyTier(tier),
            role_title=_value(row["role_title"]),
            salary_text=_value(row["salary_range"]),
        )
    return len(frame)


def add_ladder(session: Session, major: str, count: int) -> None:
    """Insert ``count`` alumni of ``major`` whose outcomes improve with GPA."""
    for number in range(count):
        gpa = 5.0 + 5.0 * number / max(count - 1, 1)
        placed = gpa >= 6.5
        tier = None
        if placed:
            tier = (
                CompanyTier.TIER1
                if gpa >= 8.5
                else CompanyTier.TIER2
                if gpa >= 7.5
                else CompanyTier.TIER3
            )
        make_alumnus(
            session,
            major=major,
            gpa=round(gpa, 2),
            attendance=70.0 + 3 * (number % 10),
            placement_status=(
                PlacementStatus.PLACED if placed else PlacementStatus.NOT_PLACED
            ),
            company_tier=tier,
            role_title="Engineer" if placed else None,
            salary_text="6-8 LPA" if placed else None,
            extra_features={"internship_count": float(number % 3)},
        )
