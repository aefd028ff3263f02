"""Alumni frames read from the shared spreadsheets with pandas, for engine tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def college_place_alumni(path: Path) -> pd.DataFrame:
    """Read collegePlace.csv into the engine's alumni frame.

    The file has Stream (major), CGPA (0-10), Internships, HistoryOfBacklogs,
    PlacedOrNot (1/0), Age, Hostel and Gender, and no year, attendance or tier.
    """
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "major": raw["Stream"],
            "gpa": raw["CGPA"].astype(float),
            "attendance": float("nan"),
            "placement_status": raw["PlacedOrNot"].map({1: "Placed", 0: "Not Placed"}),
            "company_tier": None,
            "gender": raw["Gender"],
            "internship_count": raw["Internships"].astype(float),
            "backlogs": raw["HistoryOfBacklogs"].astype(float),
            "age": raw["Age"].astype(float),
            "hostel": raw["Hostel"].astype(float),
        }
    )
