"""Trend and velocity from a student's previous score.

Velocity is the change from the latest earlier score, in points per 30 days:
(new - previous) x 30 / days between them. The days count at least ``MIN_DAYS``,
so that two runs on the same day do not give an unbounded rate. The
trend is "stable" while |velocity| < ``STABLE_VELOCITY`` points per 30 days, and
"improving" or "declining" beyond that. Without an earlier score (or without a new
score, when the engine abstains) both are empty.
"""

from __future__ import annotations

import numpy as np

STABLE_VELOCITY = 2.0
MIN_DAYS = 1.0


def velocity_and_trend(
    new_score: np.ndarray, previous_score: np.ndarray, days_since: np.ndarray
) -> tuple[np.ndarray, list[str | None]]:
    """Compute velocity (points per 30 days) and the trend label per student.

    Parameters
    ----------
    new_score, previous_score : ndarray
        Scores, NaN when there is none.
    days_since : ndarray
        Days between the previous and the new score, NaN without a previous one.

    Returns
    -------
    velocity : ndarray
        NaN where either score is missing.
    trend : list of {"improving", "declining", "stable", None}
    """
    days = np.maximum(days_since, MIN_DAYS)
    velocity = (new_score - previous_score) * 30.0 / days
    trend: list[str | None] = []
    for value in velocity:
        if np.isnan(value):
            trend.append(None)
        elif value >= STABLE_VELOCITY:
            trend.append("improving")
        elif value <= -STABLE_VELOCITY:
            trend.append("declining")
        else:
            trend.append("stable")
    return velocity, trend
