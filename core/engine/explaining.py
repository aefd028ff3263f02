"""Explanations: anonymised neighbour evidence and the features driving a score.

Drivers are associations within the student's pool, not causes. For each usable
feature j the pool's slope beta_j is the covariance of the scaled feature z_j with
the outcome value over the pool's alumni (a univariate least-squares slope, since
z_j has unit variance). The student's driver in score points is beta_j z_j: positive
when the student sits on the side of the pool mean where outcomes are better.
Readiness adds ``READINESS_WEIGHT`` (R - 50), exactly its shift of the score.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from core.engine.features import as_matrix, feature_label
from core.engine.scoring import (
    OUTCOMES,
    READINESS_WEIGHT,
    ScoreResult,
    TrajectoryModel,
)

EVIDENCE_COUNT = 5
DRIVER_COUNT = 3


def driver_points(model: TrajectoryModel, students: pd.DataFrame) -> np.ndarray:
    """Return each student's driver points per feature, shape (n, n_features).

    Rows of abstaining students are zero.
    """
    students = students.reset_index(drop=True)
    matcher = model.matcher
    points = np.zeros((len(students), len(model.features)))
    keys = pd.Series(
        [matcher.pool_key(str(major)) for major in students["major"]], dtype=object
    ).fillna("")
    student_matrix = as_matrix(students, model.features)
    for key, group in pd.Series(np.arange(len(students))).groupby(keys.to_numpy()):
        if key == "":
            continue
        pool = matcher.pools[key]
        rows = group.to_numpy()
        values = model.values[pool.rows]
        centred = values - values.mean()
        slopes = (pool.scaled * centred[:, None]).mean(axis=0)
        scaled, _ = pool.scaling.transform(student_matrix[rows])
        points[np.ix_(rows, np.flatnonzero(pool.scaling.usable))] = scaled * slopes
    return points


def _gpa_band(gpa: float | None) -> str | None:
    if gpa is None or math.isnan(gpa):
        return None
    low = math.floor(gpa)
    return f"{low}-{min(low + 1, 10)}"


def _salary_band(row: dict[str, Any]) -> str | None:
    text = row.get("salary_text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    low, high = row.get("salary_min_lpa"), row.get("salary_max_lpa")
    if low is not None and not pd.isna(low):
        if high is not None and not pd.isna(high) and high != low:
            return f"{low:g}-{high:g} LPA"
        return f"{low:g} LPA"
    return None


def _optional(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def evidence_records(
    alumni: pd.DataFrame, positions: np.ndarray
) -> dict[int, dict[str, Any]]:
    """Return anonymised evidence for the alumni at ``positions``, keyed by position.

    Evidence contains major, graduation year, GPA band, outcome, tier, salary band and
    role title, never a name or an id.
    """
    unique = np.unique(positions[positions >= 0])
    rows = alumni.iloc[unique].reindex(
        columns=[
            "major",
            "graduation_year",
            "gpa",
            "placement_status",
            "company_tier",
            "role_title",
            "salary_text",
            "salary_min_lpa",
            "salary_max_lpa",
        ]
    )
    records: dict[int, dict[str, Any]] = {}
    for position, row in zip(unique, rows.to_dict("records"), strict=True):
        placed = str(row["placement_status"]) == "Placed"
        year = _optional(row["graduation_year"])
        records[int(position)] = {
            "major": str(row["major"]),
            "graduation_year": None if year is None else int(year),
            "gpa_band": _gpa_band(_optional(row["gpa"])),
            "outcome": "Placed" if placed else "Not Placed",
            "tier": _optional(row["company_tier"]) if placed else None,
            "salary_band": _salary_band(row) if placed else None,
            "role": _optional(row["role_title"]) if placed else None,
        }
    return records


def build_explanations(
    model: TrajectoryModel, students: pd.DataFrame, result: ScoreResult
) -> list[dict[str, Any]]:
    """Build the JSON explanation stored with each score (empty for abstentions).

    Keys: ``evidence`` (nearest alumni first, with distance), ``drivers`` (feature,
    label, points; the largest pulls up and down), ``fallback``, ``features_present``
    and ``readiness``.
    """
    points = driver_points(model, students)
    nearest = result.neighbours.alumni[:, :EVIDENCE_COUNT]
    evidence = evidence_records(model.alumni, nearest)
    readiness_points = READINESS_WEIGHT * (result.readiness - 50.0)
    explanations: list[dict[str, Any]] = []
    for row in range(len(students)):
        if result.abstain_reason[row] is not None:
            explanations.append({})
            continue
        drivers: list[dict[str, Any]] = [
            {
                "feature": name,
                "label": feature_label(name),
                "points": round(float(p), 2),
            }
            for name, p in zip(model.features, points[row], strict=True)
        ]
        drivers.append(
            {
                "feature": "readiness",
                "label": feature_label("readiness"),
                "points": round(float(readiness_points[row]), 2),
            }
        )
        drivers.sort(key=lambda driver: driver["points"])
        pulling_down = [d for d in drivers if d["points"] < 0][:DRIVER_COUNT]
        pulling_up = [d for d in reversed(drivers) if d["points"] > 0][:DRIVER_COUNT]
        neighbours = [
            {
                **evidence[int(position)],
                "distance": round(float(distance), 3),
            }
            for position, distance in zip(
                nearest[row],
                result.neighbours.distances[row, :EVIDENCE_COUNT],
                strict=True,
            )
            if position >= 0
        ]
        explanations.append(
            {
                "evidence": neighbours,
                "drivers_up": pulling_up,
                "drivers_down": pulling_down,
                "fallback": bool(result.neighbours.fallback[row]),
                "features_present": round(
                    float(result.neighbours.share_present[row]), 3
                ),
                "readiness": round(float(result.readiness[row]), 1),
                "outcomes": list(OUTCOMES),
            }
        )
    return explanations
