"""Recommendations: the gaps to alumni one tier up, each priced by rescoring.

For a student predicted at tier T, the target group is the placed alumni of the next
better tier (Not Placed -> Tier3 -> Tier2 -> Tier1; Tier1 keeps Tier1) in the pool
the student was matched in, or all placed alumni of the pool when none of them has
that tier (files without tiers). For each matching feature on which the student is below
that group's median, the student is rescored with the value set to the median, and
the recommendation's points are the score difference. Alumni records carry no
skills or wellbeing data, so those gaps are measured against fixed targets instead
(``SKILL_TARGET`` proficiency for each skill, ``FOCUS_TARGET`` focus score), and
priced by rescoring the readiness component the same way. Only gaps worth at least
``MIN_POINTS`` become recommendations. The points are an association in past data,
not a promise, and every description states this.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from core.engine.features import COUNT_FEATURES, feature_label, readiness_score
from core.engine.scoring import (
    NOT_PLACED,
    OUTCOMES,
    READINESS_WEIGHT,
    ScoreResult,
    TrajectoryModel,
)
from core.privacy import MIN_GROUP_SIZE

# Target group code of all placed alumni of a pool, known tier or not.
ANY_PLACED = -1

SKILL_TARGET = 80.0
FOCUS_TARGET = 70.0
MIN_POINTS = 0.5


ASSOCIATION_NOTE = (
    "This estimate comes from past alumni outcomes: an association, not a promise."
)

TIMELINES = {
    "gpa": "next semester",
    "attendance": "4-6 weeks",
    "internship_count": "next vacation",
    "project_count": "2-3 months",
    "weekly_study_hours": "2-4 weeks",
    "skill": "6-8 weeks",
    "wellbeing": "2-4 weeks",
}


def impact_of(points: float) -> str:
    """Return the impact level of a recommendation worth ``points`` score points."""
    if points >= 5.0:
        return "high"
    if points >= 2.0:
        return "medium"
    return "low"


def target_medians(model: TrajectoryModel) -> dict[tuple[str, int], np.ndarray]:
    """Return the feature medians of each pool's placed alumni per outcome class.

    Only groups of at least ``MIN_GROUP_SIZE`` alumni get a median. Covers the
    pools built so far, computing each pool once per run.
    """
    medians: dict[tuple[str, int], np.ndarray] = model.cache.setdefault("medians", {})
    done: set[str] = model.cache.setdefault("median_pools", set())
    for key, pool in list(model.matcher.pools.items()):
        if key in done:
            continue
        done.add(key)
        codes = model.outcomes[pool.rows]
        matrix = model.matcher.matrix[pool.rows]
        groups = {code: codes == code for code in range(len(OUTCOMES) - 1)}
        groups[ANY_PLACED] = codes != NOT_PLACED
        for code, in_group in groups.items():
            members = matrix[in_group]
            # A median of a handful of alumni is close to one person's values,
            # which the recommendation text would show.
            if len(members) >= MIN_GROUP_SIZE:
                # A feature no member has gives NaN (no target), not a warning.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    medians[(key, code)] = np.nanmedian(members, axis=0)
    return medians


def _row(
    position: int, category: str, title: str, description: str, points: float
) -> dict[str, Any]:
    return {
        "position": position,
        "category": category,
        "title": title,
        "description": f"{description} {ASSOCIATION_NOTE}",
        "impact": impact_of(points),
        "estimated_points": round(points, 1),
        "timeline": TIMELINES.get(category.split(":")[0], "this semester"),
    }


def _target_codes(model: TrajectoryModel, result: ScoreResult) -> np.ndarray:
    """Return each student's target group: the tier one up, else ``ANY_PLACED``.

    The tier one up is used when the student's pool has placed alumni with that
    tier. Otherwise (files without tiers) the target is all placed alumni of the
    pool.
    """
    medians = target_medians(model)
    tier_up = np.clip(result.predicted - 1, 0, None)
    return np.array(
        [
            tier if (str(key), int(tier)) in medians else ANY_PLACED
            for key, tier in zip(result.neighbours.pool_key, tier_up, strict=True)
        ],
        dtype=np.int64,
    )


def _targets(
    model: TrajectoryModel, result: ScoreResult, target_code: np.ndarray
) -> np.ndarray:
    """Return each student's target-group medians, shape (n, n_features).

    Rows are NaN where the student has no target group.
    """
    medians = target_medians(model)
    # One row of target medians per (pool, target class) pair; -1 where none.
    pairs = list(medians)
    pair_index = {pair: number for number, pair in enumerate(pairs)}
    table = (
        np.vstack([medians[pair] for pair in pairs])
        if pairs
        else np.empty((0, len(model.features)))
    )
    lookup = np.array(
        [
            pair_index.get((str(key), int(target)), -1) if predicted >= 0 else -1
            for key, target, predicted in zip(
                result.neighbours.pool_key, target_code, result.predicted, strict=True
            )
        ],
        dtype=np.int64,
    )
    has_target = lookup >= 0
    targets = np.full((len(lookup), len(model.features)), np.nan)
    targets[has_target] = table[lookup[has_target]]
    return targets


def feature_recommendations(
    model: TrajectoryModel, students: pd.DataFrame, result: ScoreResult
) -> list[dict[str, Any]]:
    """Recommend closing each matching-feature gap to the tier-up median."""
    students = students.reset_index(drop=True)
    target_code = _target_codes(model, result)
    targets_by_student = _targets(model, result, target_code)
    # One copy of each student per feature gap, with that gap closed, all
    # rescored in a single batch: one search per pool instead of one per feature.
    gaps: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    changed_frames: list[pd.DataFrame] = []
    for column, feature in enumerate(model.features):
        targets = targets_by_student[:, column]
        current = pd.to_numeric(students.get(feature), errors="coerce")
        current_values = (
            current.to_numpy(dtype=float)
            if current is not None
            else np.full(len(students), np.nan)
        )
        positions = np.flatnonzero(~np.isnan(targets) & ~(current_values >= targets))
        if not len(positions):
            continue
        if feature in COUNT_FEATURES:
            # A median of 1.5 internships becomes a target of 2, a whole count.
            targets = np.ceil(targets)
        changed = students.iloc[positions].copy()
        changed[feature] = targets[positions]
        changed_frames.append(changed)
        gaps.append((feature, positions, targets, current_values))
    if not gaps:
        return []
    rescored = model.score(pd.concat(changed_frames, ignore_index=True)).score
    rows: list[dict[str, Any]] = []
    offset = 0
    for feature, positions, targets, current_values in gaps:
        gains = rescored[offset : offset + len(positions)] - result.score[positions]
        offset += len(positions)
        label = feature_label(feature)
        label = label if label.isupper() else label.lower()
        for position, gain in zip(positions.tolist(), gains.tolist(), strict=True):
            if not gain >= MIN_POINTS:
                continue
            code = int(target_code[position])
            group = "Placed alumni" + (
                "" if code == ANY_PLACED else f" at {OUTCOMES[code]}"
            )
            target = _format(float(targets[position]), feature)
            recorded = not math.isnan(current_values[position])
            rows.append(
                _row(
                    position,
                    feature,
                    # A missing value is scored as the pool mean, so the gain
                    # comes from recording a value at the target.
                    f"Raise {label} to {target}"
                    if recorded
                    else f"Record {label} (target {target})",
                    f"{group} in your comparison group had a median "
                    f"of {target} for {label}, and yours is "
                    f"{_format(float(current_values[position]), feature)}.",
                    gain,
                )
            )
    return rows


def _format(value: float, feature: str) -> str:
    if math.isnan(value):
        return "not recorded"
    return f"{value:.0f}" if feature in COUNT_FEATURES else f"{value:.1f}"


def readiness_recommendations(
    students: pd.DataFrame,
    skills: pd.DataFrame,
    result: ScoreResult,
    *,
    study_hours_shared: bool,
) -> list[dict[str, Any]]:
    """Recommend raising each weak skill and a low focus score, priced by rescoring.

    ``skills`` has one row per skill: ``position`` (the student's row in
    ``students``), ``name``, ``proficiency`` and ``market_weight``. ``students``
    carries ``skill_weighted_sum`` and ``skill_weight_sum`` for the current
    market-weighted skill score.
    """
    students = students.reset_index(drop=True)
    rows: list[dict[str, Any]] = []
    scored = result.predicted >= 0

    weak = skills[
        (skills["proficiency"] < SKILL_TARGET) & scored[skills["position"].to_numpy()]
    ]
    if len(weak):
        positions = weak["position"].to_numpy()
        changed = students.iloc[positions].copy()
        weight_sum = changed["skill_weight_sum"].to_numpy(dtype=float)
        raised = changed["skill_weighted_sum"].to_numpy(dtype=float) + weak[
            "market_weight"
        ].to_numpy(dtype=float) * (
            SKILL_TARGET - weak["proficiency"].to_numpy(dtype=float)
        )
        changed["skill_score"] = raised / weight_sum
        gains = _readiness_gain(changed, positions, result, study_hours_shared)
        for offset, skill in enumerate(weak.itertuples(index=False)):
            points = float(gains[offset])
            if points >= MIN_POINTS:
                demand = {0.5: "low", 1.0: "normal", 2.0: "high"}.get(
                    float(skill.market_weight), "normal"
                )
                rows.append(
                    _row(
                        int(skill.position),
                        f"skill:{skill.name}",
                        f"Build {skill.name} to {SKILL_TARGET:.0f}",
                        f"Your {skill.name} proficiency is {skill.proficiency:.0f}; "
                        f"the skill has {demand} market demand.",
                        points,
                    )
                )

    focus = pd.to_numeric(students.get("focus_score"), errors="coerce")
    if focus is not None:
        low_focus = np.flatnonzero(
            (focus.to_numpy(dtype=float) < FOCUS_TARGET) & scored
        )
        if len(low_focus):
            changed = students.iloc[low_focus].copy()
            changed["focus_score"] = FOCUS_TARGET
            gains = _readiness_gain(changed, low_focus, result, study_hours_shared)
            for offset, position in enumerate(low_focus):
                points = float(gains[offset])
                if points >= MIN_POINTS:
                    rows.append(
                        _row(
                            int(position),
                            "wellbeing",
                            f"Raise your focus score to {FOCUS_TARGET:.0f}",
                            "Your average focus score over the last 30 days is "
                            f"{focus.iloc[position]:.0f}: less social screen time "
                            "and steadier sleep raise it.",
                            points,
                        )
                    )
    return rows


def _readiness_gain(
    changed: pd.DataFrame,
    positions: np.ndarray,
    result: ScoreResult,
    study_hours_shared: bool,
) -> np.ndarray:
    readiness = readiness_score(changed, study_hours_shared=study_hours_shared)
    new_score = np.clip(
        result.alumni_score[positions] + READINESS_WEIGHT * (readiness - 50.0), 0, 100
    )
    return np.asarray(new_score - result.score[positions])
