"""The feature pipeline shared by students and alumni.

Matching features are GPA, attendance and every further numeric attribute that
both sides carry: students always have ``internship_count``, ``project_count`` and
``weekly_study_hours``, and alumni have them when their spreadsheet did (in
``Alumnus.extra_features``). Rules, applied per pool (a major, or all alumni):

- Scale: each feature is standardised with the pool alumni's mean and standard
  deviation, so GPA (0-10) and attendance (0-100) count alike.
- Constant columns: a feature whose standard deviation in the pool is zero, or that
  no pool alumnus has, gets weight zero (it is dropped from the distance). Scaling a
  constant column by 1, as ``StandardScaler`` does, would let it dominate.
- Missing values: a missing value is imputed with the pool mean, which is 0 after
  scaling, so it adds no distance. A neighbour counts only when it shares an
  observed GPA or attendance value with the student (see ``matching``), and the
  share of usable features compared multiplies the confidence (see ``scoring``).

Student-only signals (market-weighted skills, wellbeing focus score, subject marks
and, when alumni lack it, weekly study hours) have no alumni counterpart, so they
enter through the readiness component in ``readiness_score`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

PIPELINE_VERSION = "features-1"

BASE_FEATURES = ("gpa", "attendance")

# Student attributes that become matching features when the alumni carry them too.
STUDENT_NUMERIC_FEATURES = ("internship_count", "project_count", "weekly_study_hours")

# Counts and extra numeric columns must be below this in absolute value: the
# importer rejects larger values and the engine reads any left as missing. No
# placement attribute (a count, a test score, an age) comes near it, and values
# near the float64 maximum overflow when squared to scale features.
NUMBER_ABS_MAX = 1_000_000.0

# Features that count things: whole numbers of 0 or more, shown without decimals.
COUNT_FEATURES = frozenset({"internship_count", "project_count", "backlogs"})

FEATURE_LABELS = {
    "gpa": "GPA",
    "attendance": "Attendance",
    "internship_count": "Internships",
    "project_count": "Projects",
    "weekly_study_hours": "Weekly study hours",
    "backlogs": "Backlogs",
    "readiness": "Readiness (skills, wellbeing, marks)",
}

# Weekly study hours at which the study-hours part of readiness is full (100).
FULL_STUDY_HOURS = 20.0

# A standard deviation below this is treated as a constant column.
_CONSTANT_STD = 1e-9


def feature_label(name: str) -> str:
    """Return the display label of feature ``name``."""
    return FEATURE_LABELS.get(name, name.replace("_", " ").capitalize())


def shared_features(alumni: pd.DataFrame, candidates: Sequence[str]) -> list[str]:
    """Return the matching features: GPA, attendance, then shared numeric columns.

    Parameters
    ----------
    alumni : DataFrame
        Alumni frame, one column per attribute (extras expanded to columns).
    candidates : sequence of str
        Numeric attributes the students carry besides GPA and attendance.

    Returns
    -------
    list of str
        ``BASE_FEATURES`` followed by each candidate that at least one alumnus has.
    """
    extra = [
        name
        for name in candidates
        if name not in BASE_FEATURES
        and name in alumni.columns
        and alumni[name].notna().any()
    ]
    return [*BASE_FEATURES, *extra]


def as_matrix(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """Return ``frame[features]`` as a float64 matrix, NaN where a value is missing.

    A feature absent from ``frame`` is all NaN, so it is imputed like any missing
    value.
    """
    columns = [
        pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        if name in frame.columns
        else np.full(len(frame), np.nan)
        for name in features
    ]
    if not columns:
        return np.empty((len(frame), 0))
    return np.column_stack(columns)


@dataclass(frozen=True)
class Scaling:
    """Per-pool standardisation: mean, standard deviation and usable-column mask."""

    mean: np.ndarray
    std: np.ndarray
    usable: np.ndarray

    @classmethod
    def fit(cls, matrix: np.ndarray) -> Scaling:
        """Fit on an alumni matrix; constant or empty columns are marked unusable."""
        present = ~np.isnan(matrix)
        counts = present.sum(axis=0)
        filled = np.where(present, matrix, 0.0)
        safe_counts = np.maximum(counts, 1)
        mean = filled.sum(axis=0) / safe_counts
        squares = np.where(present, (matrix - mean) ** 2, 0.0).sum(axis=0)
        std = np.sqrt(squares / safe_counts)
        usable = (counts > 0) & (std > _CONSTANT_STD)
        return cls(mean=mean, std=np.where(usable, std, 1.0), usable=usable)

    def transform(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the scaled usable columns (NaN imputed as 0) and the present share.

        The share is the fraction of usable columns the row has, 1.0 when the pool
        has no usable column.
        """
        scaled = (matrix[:, self.usable] - self.mean[self.usable]) / self.std[
            self.usable
        ]
        present = ~np.isnan(scaled)
        usable_count = int(self.usable.sum())
        share = (
            present.sum(axis=1) / usable_count if usable_count else np.ones(len(matrix))
        )
        return np.where(present, scaled, 0.0), share


def readiness_score(students: pd.DataFrame, *, study_hours_shared: bool) -> np.ndarray:
    """Compute the readiness component (0-100) from student-only signals.

    Readiness is the plain mean of the parts a student has. The parts are the
    market-weighted mean skill proficiency (``skill_score``), the mean wellbeing
    focus score of the last 30 days (``focus_score``) and the mean subject mark
    (``marks_mean``). Unless weekly study hours is a matching feature, the study
    hours as a share of ``FULL_STUDY_HOURS`` are a fourth part. A student with none
    of them gets 50, which shifts the score by nothing (see
    ``scoring.READINESS_WEIGHT``).

    Parameters
    ----------
    students : DataFrame
        Student frame; each of the columns above is optional and may hold NaN.
    study_hours_shared : bool
        True when weekly study hours is already a matching feature.

    Returns
    -------
    ndarray of shape (n_students,)
    """
    parts = [
        as_matrix(students, ["skill_score", "focus_score", "marks_mean"]),
    ]
    if not study_hours_shared:
        hours = as_matrix(students, ["weekly_study_hours"])
        parts.append(np.minimum(hours / FULL_STUDY_HOURS, 1.0) * 100.0)
    matrix = np.clip(np.column_stack(parts), 0.0, 100.0)
    present = ~np.isnan(matrix)
    counts = present.sum(axis=1)
    totals = np.where(present, matrix, 0.0).sum(axis=1)
    return np.where(counts > 0, totals / np.maximum(counts, 1), 50.0)
