"""Explanations: anonymised neighbour evidence and the features driving a score.

Drivers are associations within the student's pool, not causes. A feature's
driver, in score points, is the student's score less the score the student would
get with that feature at the pool's mean and everything else unchanged: positive
when the student's value pulls the score up. Readiness adds ``READINESS_WEIGHT``
(R - 50), exactly its shift of the score. Drivers need not add up to the score,
because moving one feature changes which alumni are nearest.
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
from core.privacy import MIN_GROUP_SIZE

EVIDENCE_COUNT = 5

# Evidence fields left empty for alumni of small groups (see evidence_records).
_SMALL_GROUP_HIDDEN = ("graduation_year", "gpa_band", "salary_band", "role")
DRIVER_COUNT = 3

_EVIDENCE_SOURCE = (
    "major",
    "graduation_year",
    "gpa",
    "placement_status",
    "company_tier",
    "role_title",
    "salary_text",
    "salary_min_lpa",
    "salary_max_lpa",
)


def driver_points(
    model: TrajectoryModel, students: pd.DataFrame, result: ScoreResult
) -> np.ndarray:
    """Return each student's driver points per feature, shape (n, n_features).

    A feature's points are the student's score less the score the student gets
    with that feature set to the pool's mean, all else unchanged. Rows of
    abstaining students, features the student lacks and features that do not
    vary in the pool are zero.
    """
    students = students.reset_index(drop=True)
    matcher = model.matcher
    points = np.zeros((len(students), len(model.features)))
    student_matrix = as_matrix(students, model.features)
    scored = ~np.isnan(result.score)
    # Per feature, the scored students who have it and the pool mean to set.
    changes: list[tuple[int, np.ndarray]] = []
    frames: list[pd.DataFrame] = []
    means = np.full(student_matrix.shape, np.nan)
    keys = np.array(result.neighbours.pool_key, dtype=object)
    for key in {key for key in result.neighbours.pool_key if key is not None}:
        rows = keys == key
        scaling = matcher.pool(key).scaling
        means[rows] = np.where(scaling.usable, scaling.mean, np.nan)
    for column, feature in enumerate(model.features):
        rows = np.flatnonzero(
            scored & ~np.isnan(student_matrix[:, column]) & ~np.isnan(means[:, column])
        )
        if not len(rows):
            continue
        changed = students.iloc[rows].copy()
        changed[feature] = means[rows, column]
        frames.append(changed)
        changes.append((column, rows))
    if not frames:
        return points
    # One batch for every feature: one search per pool.
    averaged = model.score(pd.concat(frames, ignore_index=True)).score
    offset = 0
    for column, rows in changes:
        points[rows, column] = (
            result.score[rows] - averaged[offset : offset + len(rows)]
        )
        offset += len(rows)
    return np.nan_to_num(points)


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


def _evidence_columns(model: TrajectoryModel) -> dict[str, np.ndarray]:
    # Object arrays, built once per run: indexing them is far cheaper than pandas rows.
    if "evidence" not in model.cache:
        alumni = model.alumni
        columns = {}
        for name in _EVIDENCE_SOURCE:
            values = (
                alumni[name]
                if name in alumni.columns
                else pd.Series(None, index=alumni.index, dtype=object)
            )
            columns[name] = values.astype(object).to_numpy()
        columns["small_group"] = _in_small_group(alumni)
        model.cache["evidence"] = columns
    evidence: dict[str, np.ndarray] = model.cache["evidence"]
    return evidence


def _in_small_group(alumni: pd.DataFrame) -> np.ndarray:
    """Mark alumni whose major, or major and year, has under MIN_GROUP_SIZE alumni."""
    if alumni.empty:
        return np.zeros(0, dtype=bool)
    majors, _ = pd.factorize(alumni["major"])
    years = (
        pd.factorize(alumni["graduation_year"])[0]
        if "graduation_year" in alumni.columns
        else np.zeros(len(alumni), dtype=np.int64)
    )
    major_size = np.bincount(majors)[majors]
    # A missing year has code -1, a group of its own within the major.
    pairs = majors * (int(years.max()) + 2) + (years + 1)
    _, inverse, counts = np.unique(pairs, return_inverse=True, return_counts=True)
    year_size = counts[inverse.reshape(-1)]
    return (major_size < MIN_GROUP_SIZE) | (year_size < MIN_GROUP_SIZE)


def _column(columns: dict[str, np.ndarray], name: str, rows: np.ndarray) -> list[Any]:
    values = pd.Series(columns[name][rows], dtype=object)
    return values.where(values.notna(), None).tolist()


def evidence_records(
    model: TrajectoryModel, positions: np.ndarray
) -> dict[int, dict[str, Any]]:
    """Return anonymised evidence for the alumni at ``positions``, keyed by position.

    Evidence contains major, graduation year, GPA band, outcome, tier, salary band and
    role title, never a name or an id. For an alumnus whose major, or major and
    graduation year, has fewer than ``MIN_GROUP_SIZE`` alumni, only major, outcome
    and tier are given. Records are kept in the model's cache, so
    each alumnus is described once per run however many chunks cite it.
    """
    records: dict[int, dict[str, Any]] = model.cache.setdefault("evidence_records", {})
    cited = np.unique(positions[positions >= 0])
    new = np.array([p for p in cited.tolist() if p not in records], dtype=np.int64)
    if len(new):
        columns = _evidence_columns(model)
        rows = {name: _column(columns, name, new) for name in _EVIDENCE_SOURCE}
        small_group = columns["small_group"][new].tolist()
        for offset, position in enumerate(new.tolist()):
            row = {name: values[offset] for name, values in rows.items()}
            placed = row["placement_status"] == "Placed"
            year = row["graduation_year"]
            record = {
                "major": str(row["major"]),
                "graduation_year": None if year is None else int(year),
                "gpa_band": _gpa_band(row["gpa"]),
                "outcome": "Placed" if placed else "Not Placed",
                "tier": row["company_tier"] if placed else None,
                "salary_band": _salary_band(row) if placed else None,
                "role": row["role_title"] if placed else None,
            }
            if small_group[offset]:
                # Year, GPA band, salary and role together could single out one
                # of a handful of alumni, so a small group shows none of them.
                record.update(dict.fromkeys(_SMALL_GROUP_HIDDEN))
            records[position] = record
    return records


def _drivers(
    names: list[str], labels: list[str], points: list[float], order: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the largest pulls up and down, given the ascending order of ``points``.

    Ties keep the order of ``names`` among the pulls down and the reverse order
    among the pulls up.
    """
    down: list[dict[str, Any]] = []
    for index in order:
        if points[index] >= 0 or len(down) == DRIVER_COUNT:
            break
        down.append(
            {"feature": names[index], "label": labels[index], "points": points[index]}
        )
    up: list[dict[str, Any]] = []
    for index in reversed(order):
        if points[index] <= 0 or len(up) == DRIVER_COUNT:
            break
        up.append(
            {"feature": names[index], "label": labels[index], "points": points[index]}
        )
    return up, down


def build_explanations(
    model: TrajectoryModel, students: pd.DataFrame, result: ScoreResult
) -> list[dict[str, Any]]:
    """Build the JSON explanation stored with each score (empty for abstentions).

    Keys: ``evidence`` (nearest alumni first, with distance), ``drivers`` (feature,
    label, points; the largest pulls up and down), ``fallback``, ``features_present``
    and ``readiness``.
    """
    points = driver_points(model, students, result)
    nearest = result.neighbours.alumni[:, :EVIDENCE_COUNT]
    evidence = evidence_records(model, nearest)
    names = [*model.features, "readiness"]
    labels = [feature_label(name) for name in names]
    readiness_points = np.round(READINESS_WEIGHT * (result.readiness - 50.0), 2)
    all_points = np.column_stack([np.round(points, 2), readiness_points])
    # A stable sort keeps tied drivers in feature order.
    orders = np.argsort(all_points, axis=1, kind="stable").tolist()
    all_points_lists = all_points.tolist()
    distances = np.round(result.neighbours.distances[:, :EVIDENCE_COUNT], 3).tolist()
    nearest_lists = nearest.tolist()
    explanations: list[dict[str, Any]] = []
    for row in range(len(students)):
        if result.abstain_reason[row] is not None:
            explanations.append({})
            continue
        pulling_up, pulling_down = _drivers(
            names, labels, all_points_lists[row], orders[row]
        )
        neighbours = [
            {**evidence[position], "distance": distance}
            for position, distance in zip(
                nearest_lists[row], distances[row], strict=True
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
