"""From matched alumni to probabilities, a 0-100 score, a margin and a confidence.

Notation for one student: neighbours i = 1..n at scaled distances d_i, with outcome
class c_i and outcome value v_i (``OUTCOME_VALUES``).

Weights
    w_i = exp(-(d_i^2 - d_min^2) / 2): a Gaussian kernel with a bandwidth of one
    standard deviation, divided by the nearest neighbour's weight so that far
    neighbourhoods do not underflow (the ratio is unchanged).
Probabilities
    q_c = sum_i w_i [c_i = c] / sum_i w_i, the weighted outcome shares, smoothed
    towards the pool's base rates pi_c with ``PRIOR_STRENGTH`` pseudo-neighbours:
    p_c = (n q_c + a pi_c) / (n + a), pi_c the outcome shares of the alumni of the
    student's pool (its major, or all alumni). The smoothing counts neighbours,
    not weights, so that p is an increasing affine map of q and a score that rises
    with q keeps rising.
Score
    S = sum_c p_c value_c with values Tier1 100, Tier2 75, Tier3 50, Not Placed 0,
    then shifted by readiness: score = clip(S + ``READINESS_WEIGHT`` (R - 50), 0, 100).
Margin of error
    A normal-approximation 95 % interval on the weighted mean outcome value. With
    the weighted variance s^2 of v_i and the effective count n_eff = (sum w)^2 /
    sum w^2, one pseudo-observation of the largest possible variance (50^2 for
    values in [0, 100]) keeps a unanimous small neighbourhood from a zero margin:
    margin = 1.96 sqrt((s^2 n_eff + 2500 a) / (n_eff + a)^2). For a fixed mix it
    falls as n_eff grows, since s^2 <= 2500. It is then multiplied by (1 + d_bar),
    d_bar the weighted mean distance, and by ``FALLBACK_MARGIN_FACTOR`` for a
    fallback to all majors, and capped at 100. In a fallback n_eff is first capped
    at the number of alumni of the student's own major, because alumni of other
    majors are weaker evidence about it. This widens the margin and lowers the
    confidence.
Confidence
    n_eff / (n_eff + ``CONFIDENCE_HALF_COUNT``) x 1 / (1 + d_bar) x the compared
    share x ``FALLBACK_CONFIDENCE_FACTOR`` for a fallback. The compared share is the
    mean, over the counted neighbours, of the share of usable features observed on
    both the student and the neighbour, so confidence falls as fewer features are
    actually compared.
Predicted outcome
    Not Placed when p_NotPlaced > 0.5, else the most likely tier, ties to the lower
    tier (``predicted_outcomes``).
Abstention
    No score is given when the major has no alumni, when no neighbour shares an
    observed GPA or attendance value with the student (see ``matching``), or when
    the compared share is 0: every feature the student shares with the pool has
    one value across the pool, and the student's value differs from it.

Alumni placed with no known tier
    Such an alumnus counts fully towards P(placed), and its placed mass of 1 is
    spread over Tier1-3 by the tier shares t_1..t_3 of the placed alumni of its
    major whose tier is known: its outcome row is (t_1, t_2, t_3, 0) with
    t_j = n_j / (n_1 + n_2 + n_3). A major with no known tier uses the shares of
    all alumni with a known tier, and with none known anywhere the mass is split
    evenly, (1/3, 1/3, 1/3, 0), which assumes no tier over another. Neighbour
    shares q_c, base rates and outcome values v_i all use these outcome rows, so
    v_i = sum_c row_c value_c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.engine.features import readiness_score
from core.engine.matching import DEFAULT_K, Matcher, Neighbours

OUTCOMES = ("Tier1", "Tier2", "Tier3", "Not Placed")
OUTCOME_VALUES = np.array([100.0, 75.0, 50.0, 0.0])
NOT_PLACED = 3
# Outcome class of placed alumni without a known tier (not one of ``OUTCOMES``).
PLACED_NO_TIER = 4

PRIOR_STRENGTH = 1.0
READINESS_WEIGHT = 0.2
FALLBACK_MARGIN_FACTOR = 1.5
FALLBACK_CONFIDENCE_FACTOR = 0.5
CONFIDENCE_HALF_COUNT = 5.0
_Z_95 = 1.96
_MAX_VARIANCE = 50.0**2

ABSTAIN_NO_ALUMNI = "not enough comparable alumni, because none of this major exists"
ABSTAIN_EMPTY = "not enough comparable alumni, because none have been imported"
ABSTAIN_NO_SHARED = (
    "not enough comparable alumni, because no alumnus of {pool} shares a "
    "comparable GPA or attendance value with the student"
)


def abstain_advice(reason: str) -> str:
    """Return what staff can do about a stored abstention ``reason``."""
    # Reasons are stored as text, so the no-shared-values reason is recognised
    # by the fixed part of its template, before the pool's name.
    if reason.startswith(ABSTAIN_NO_SHARED.split("{pool}")[0]):
        return "Check that the student's GPA and attendance are recorded"
    return "Staff can import alumni of this major"


def _abstain_reason(pool_key: str | None, has_alumni: bool) -> str:
    """Return the reason a student matched in ``pool_key`` gets no score."""
    if not has_alumni:
        return ABSTAIN_EMPTY
    if pool_key is None:
        return ABSTAIN_NO_ALUMNI
    pool = "all majors" if pool_key == Matcher.ALL_MAJORS else pool_key
    return ABSTAIN_NO_SHARED.format(pool=pool)


def outcome_codes(alumni: pd.DataFrame) -> np.ndarray:
    """Return each alumnus's outcome class.

    Classes are 0-2 for Tier1-3, ``NOT_PLACED`` (3) for not placed and
    ``PLACED_NO_TIER`` (4) for placed alumni without a known tier.
    """
    placed = alumni["placement_status"].astype(str).to_numpy() == "Placed"
    tiers = alumni["company_tier"].astype(object).where(alumni["company_tier"].notna())
    tier_codes = tiers.map({"Tier1": 0, "Tier2": 1, "Tier3": 2}).fillna(PLACED_NO_TIER)
    return np.where(placed, tier_codes.to_numpy(dtype=np.int64), NOT_PLACED)


def outcome_rows(alumni: pd.DataFrame) -> np.ndarray:
    """Return each alumnus's outcome distribution over ``OUTCOMES``.

    Parameters
    ----------
    alumni : DataFrame
        Columns ``major``, ``placement_status`` and ``company_tier``.

    Returns
    -------
    ndarray of shape (n_alumni, 4)
        One-hot rows for known outcomes. A placed alumnus without a tier gets its
        major's known tier shares, else those of all alumni, else equal thirds
        (see the module notes).
    """
    codes = outcome_codes(alumni)
    rows = np.zeros((len(codes), len(OUTCOMES)))
    known = codes != PLACED_NO_TIER
    rows[np.flatnonzero(known), codes[known]] = 1.0
    if known.all():
        return rows
    tiered = codes < NOT_PLACED
    overall = np.bincount(codes[tiered], minlength=3)[:3].astype(float)
    fallback = overall / overall.sum() if overall.sum() else np.full(3, 1 / 3)
    majors = alumni["major"].astype(str).to_numpy()
    for major in np.unique(majors[~known]):
        in_major = majors == major
        counts = np.bincount(codes[in_major & tiered], minlength=3)[:3].astype(float)
        shares = counts / counts.sum() if counts.sum() else fallback
        rows[in_major & ~known, :3] = shares
    return rows


@dataclass
class ScoreResult:
    """Engine output for a batch of students; NaN in the rows that abstain."""

    probabilities: np.ndarray
    score: np.ndarray
    alumni_score: np.ndarray
    margin: np.ndarray
    confidence: np.ndarray
    predicted: np.ndarray
    neighbour_count: np.ndarray
    readiness: np.ndarray
    abstain_reason: list[str | None]
    neighbours: Neighbours

    @property
    def placed_probability(self) -> np.ndarray:
        """Probability of any placement (1 minus the not-placed probability)."""
        # Clipped, because 1 - p can fall a rounding error below 0.
        return np.clip(1.0 - self.probabilities[:, NOT_PLACED], 0.0, 1.0)


def predicted_outcomes(probabilities: np.ndarray) -> np.ndarray:
    """Return the predicted outcome class of each row of ``probabilities``.

    Placed or not is decided first: Not Placed when its probability exceeds 0.5,
    else the most likely tier. Taking the most likely of all four classes would
    label a student "Not Placed" at P(placed) = 0.7 when that mass is split over
    three tiers. Tied tiers resolve to the lower one, so equal tier shares (no
    alumnus with a known tier) never claim a better tier than the data shows.
    """
    tiers = probabilities[:, :NOT_PLACED]
    lowest_best_tier = NOT_PLACED - 1 - tiers[:, ::-1].argmax(axis=1)
    return np.where(probabilities[:, NOT_PLACED] > 0.5, NOT_PLACED, lowest_best_tier)


class TrajectoryModel:
    """Matching and scoring fitted once on an alumni frame, reused for many batches.

    Parameters
    ----------
    alumni : DataFrame
        Columns ``major``, ``placement_status``, ``company_tier`` and the features.
    features : sequence of str
        Matching features (see ``features.shared_features``).
    k : int, default=DEFAULT_K
        Neighbours per student before clipping to the pool size.
    """

    def __init__(
        self, alumni: pd.DataFrame, features: Sequence[str], k: int = DEFAULT_K
    ) -> None:
        self.alumni = alumni.reset_index(drop=True)
        self.features = list(features)
        self.matcher = Matcher(self.alumni, self.features, k)
        self.outcomes = outcome_codes(self.alumni)
        self.outcome_rows = outcome_rows(self.alumni)
        self.base_rates = (
            self.outcome_rows.mean(axis=0)
            if len(self.alumni)
            else np.zeros(len(OUTCOMES))
        )
        self.values = self.outcome_rows @ OUTCOME_VALUES
        # Per-run values derived from the alumni (evidence, slopes, medians), filled
        # on first use by the modules that need them.
        self.cache: dict[str, Any] = {}

    def score(self, students: pd.DataFrame) -> ScoreResult:
        """Score ``students`` (columns ``major``, the features, readiness inputs).

        Returns
        -------
        ScoreResult
            One row per student, in the order of ``students``.
        """
        students = students.reset_index(drop=True)
        neighbours = self.matcher.neighbours(students)
        shared_hours = "weekly_study_hours" in self.features
        readiness = readiness_score(students, study_hours_shared=shared_hours)
        return self.score_neighbours(neighbours, readiness)

    def _pool_base_rates(self, keys: list[str | None], count: int) -> np.ndarray:
        """Return the outcome shares of each student's pool, shape (count, 4)."""
        rates = np.tile(self.base_rates, (count, 1))
        by_pool: dict[str, np.ndarray] = self.cache.setdefault("pool_base_rates", {})
        key_array = np.array(keys, dtype=object)
        for key in {key for key in keys if key is not None}:
            if key not in by_pool:
                rows = self.matcher.pool(key).rows
                by_pool[key] = self.outcome_rows[rows].mean(axis=0)
            rates[key_array == key] = by_pool[key]
        return rates

    def score_neighbours(
        self, neighbours: Neighbours, readiness: np.ndarray
    ) -> ScoreResult:
        """Turn matched neighbours and readiness into the engine's outputs."""
        valid = neighbours.alumni >= 0
        count = valid.sum(axis=1)
        distances = np.where(valid, neighbours.distances, 0.0)
        nearest = np.where(
            count > 0, distances.min(axis=1, initial=np.inf, where=valid), 0
        )
        weights = np.where(
            valid, np.exp(-(distances**2 - nearest[:, None] ** 2) / 2), 0.0
        )
        weight_sum = weights.sum(axis=1)
        safe_sum = np.where(weight_sum > 0, weight_sum, 1.0)

        positions = np.where(valid, neighbours.alumni, 0)
        onehot = (
            self.outcome_rows[positions]
            if len(self.outcomes)
            else np.zeros((*positions.shape, len(OUTCOMES)))
        )
        shares = (weights[:, :, None] * onehot).sum(axis=1) / safe_sum[:, None]
        n = count[:, None].astype(float)
        base_rates = self._pool_base_rates(neighbours.pool_key, len(count))
        probabilities = (n * shares + PRIOR_STRENGTH * base_rates) / (
            n + PRIOR_STRENGTH
        )
        alumni_score = probabilities @ OUTCOME_VALUES
        score = np.clip(alumni_score + READINESS_WEIGHT * (readiness - 50.0), 0, 100)

        values = self.values[positions] if len(self.values) else np.zeros_like(weights)
        mean_value = (weights * values).sum(axis=1) / safe_sum
        variance = (weights * (values - mean_value[:, None]) ** 2).sum(
            axis=1
        ) / safe_sum
        effective = weight_sum**2 / np.maximum((weights**2).sum(axis=1), 1e-300)
        if len(neighbours.own_major_alumni) == len(effective):
            # Alumni of other majors are weaker evidence about a thin major, so a
            # fallback counts at most as many neighbours as the major has alumni.
            effective = np.where(
                neighbours.fallback,
                np.minimum(effective, neighbours.own_major_alumni),
                effective,
            )
        mean_distance = (weights * distances).sum(axis=1) / safe_sum
        margin = _Z_95 * np.sqrt(
            (variance * effective + _MAX_VARIANCE * PRIOR_STRENGTH)
            / (effective + PRIOR_STRENGTH) ** 2
        )
        margin *= (1.0 + mean_distance) * np.where(
            neighbours.fallback, FALLBACK_MARGIN_FACTOR, 1.0
        )
        confidence = (
            effective
            / (effective + CONFIDENCE_HALF_COUNT)
            / (1.0 + mean_distance)
            * neighbours.share_present
            * np.where(neighbours.fallback, FALLBACK_CONFIDENCE_FACTOR, 1.0)
        )

        abstain = ~neighbours.matched | (count == 0) | (neighbours.share_present <= 0)
        keys = neighbours.pool_key or [None] * len(abstain)
        reasons: list[str | None] = [
            _abstain_reason(key, len(self.alumni) > 0) if flag else None
            for flag, key in zip(abstain, keys, strict=True)
        ]
        nan = np.where(abstain, np.nan, 1.0)
        return ScoreResult(
            probabilities=probabilities * nan[:, None],
            score=score * nan,
            alumni_score=alumni_score * nan,
            margin=np.minimum(margin, 100.0) * nan,
            confidence=np.clip(confidence, 0.0, 1.0) * nan,
            predicted=np.where(abstain, -1, predicted_outcomes(probabilities)),
            neighbour_count=np.where(abstain, 0, count),
            readiness=readiness,
            abstain_reason=reasons,
            neighbours=neighbours,
        )
