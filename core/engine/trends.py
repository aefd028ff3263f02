"""Trend and velocity from a student's score history.

Velocity is the change from the reference score, in points per 30 days:
(new - reference) x 30 / days between them. The reference is the student's newest
score computed at least ``MIN_INTERVAL_DAYS`` before the new one, so rescoring
twice in a day neither erases a trend nor turns a small change into a steep
rate. The trend is "stable" while |velocity| < ``STABLE_VELOCITY`` points per 30
days, and "improving" or "declining" beyond that. Without a reference score (or
without a new score, when the engine abstains) both are empty.
"""

from __future__ import annotations

import numpy as np

STABLE_VELOCITY = 2.0
MIN_INTERVAL_DAYS = 7


def velocity_and_trend(
    new_score: np.ndarray, reference_score: np.ndarray, days_since: np.ndarray
) -> tuple[np.ndarray, list[str | None]]:
    """Compute velocity (points per 30 days) and the trend label per student.

    Parameters
    ----------
    new_score, reference_score : ndarray
        Scores as stored (rounded), NaN when there is none.
    days_since : ndarray
        Days between the reference and the new score, at least
        ``MIN_INTERVAL_DAYS``, NaN without a reference.

    Returns
    -------
    velocity : ndarray
        NaN where either score is missing.
    trend : list of {"improving", "declining", "stable", None}
    """
    velocity = (new_score - reference_score) * 30.0 / days_since
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
