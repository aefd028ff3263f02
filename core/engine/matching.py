"""Nearest-alumni matching within a major, with a fallback to all majors.

Rules:

- A student is matched against the alumni of their own major, scaled on that major.
- When the major has at least one but fewer than ``MIN_MAJOR_ALUMNI`` alumni, it is
  too thin to scale or match on alone. The student is then matched against all
  alumni, scaled on all alumni, and the result is flagged as a fallback, which
  lowers the confidence and widens the margin in ``scoring``.
- When the major has no alumni at all the student is not matched (abstention),
  because alumni of other majors alone tell little about this one.
- k is clipped to the pool size, since ``NearestNeighbors`` raises otherwise.
- A neighbour counts only when it and the student both have at least
  ``MIN_SHARED_BASE_FEATURES`` of GPA and attendance observed (and usable in the
  pool). Missing values are imputed with the pool mean, so without this rule a
  student and alumni who lack the same features would all sit at distance 0 and
  look like perfect matches. A student left with no counted neighbour abstains.

Search uses scikit-learn's ``NearestNeighbors`` with a k-d tree on the few scaled
features, one tree per pool, built once per run and reused for every query batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from core.engine.features import BASE_FEATURES, Scaling, as_matrix

DEFAULT_K = 15

# A major with fewer alumni than this is matched against all majors.
MIN_MAJOR_ALUMNI = 10

# Minimum number of GPA and attendance values that a student and a neighbour
# must both have for the neighbour to count, so that matching rests on one of them.
MIN_SHARED_BASE_FEATURES = 1

# Above this many scaled features a k-d tree is slower than brute force.
_MAX_TREE_DIMENSIONS = 15


@dataclass
class Pool:
    """The alumni a student can be matched against, with their scaling and index."""

    rows: np.ndarray
    scaling: Scaling
    scaled: np.ndarray
    index: NearestNeighbors | None
    # Columns at least one pool alumnus has, usable for scaling or constant.
    comparable: np.ndarray
    # Observed-value mask of each pool alumnus over the comparable columns.
    observed: np.ndarray
    # Mask of the comparable columns that are GPA or attendance.
    base_columns: np.ndarray

    @classmethod
    def build(cls, rows: np.ndarray, matrix: np.ndarray, base: np.ndarray) -> Pool:
        """Fit the scaling and the search index on alumni ``rows`` of ``matrix``.

        ``base`` marks the columns of ``matrix`` that are GPA or attendance.
        """
        pool_matrix = matrix[rows]
        scaling = Scaling.fit(pool_matrix)
        scaled, _ = scaling.transform(pool_matrix)
        index = None
        if scaled.shape[1] > 0:
            algorithm = (
                "kd_tree" if scaled.shape[1] <= _MAX_TREE_DIMENSIONS else "brute"
            )
            index = NearestNeighbors(algorithm=algorithm).fit(scaled)
        comparable = (~np.isnan(pool_matrix)).any(axis=0)
        return cls(
            rows=rows,
            scaling=scaling,
            scaled=scaled,
            index=index,
            comparable=comparable,
            observed=~np.isnan(pool_matrix[:, comparable]),
            base_columns=base[comparable],
        )

    def query(
        self, matrix: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return alumni positions, distances and compared shares for ``matrix`` rows.

        Positions index the full alumni frame, nearest first. A neighbour that
        shares fewer than ``MIN_SHARED_BASE_FEATURES`` observed GPA or attendance
        values with the student is dropped: its position is -1 and its distance
        ``inf``, after the kept ones. The compared share of a student is the mean,
        over its kept neighbours, of the share of comparable columns observed on
        both sides (0 with none kept).
        """
        k = min(k, len(self.rows))
        student_observed = ~np.isnan(matrix[:, self.comparable])
        if self.index is None:
            positions, distances = self._first_sharing(student_observed, k)
        else:
            scaled, _ = self.scaling.transform(matrix)
            # NOTE: neighbours are dropped after the k-nearest search, so a
            # student can keep fewer than k even when comparable alumni sit
            # further away. A larger search would find them at a higher cost.
            distances, positions = self.index.kneighbors(scaled, n_neighbors=k)
        both = student_observed[:, None, :] & self.observed[positions]
        shared_base = both[:, :, self.base_columns].sum(axis=2)
        kept = (positions >= 0) & (shared_base >= MIN_SHARED_BASE_FEATURES)
        compared = both.sum(axis=2) / max(self.observed.shape[1], 1)
        kept_count = kept.sum(axis=1)
        share = np.where(kept, compared, 0.0).sum(axis=1) / np.maximum(kept_count, 1)
        alumni = np.where(kept, self.rows[positions], -1)
        distances = np.where(kept, distances, np.inf)
        # Kept neighbours first, nearest first, as callers read them in order.
        order = np.argsort(distances, axis=1, kind="stable")
        alumni = np.take_along_axis(alumni, order, axis=1)
        return alumni, np.take_along_axis(distances, order, axis=1), share

    def _first_sharing(
        self, student_observed: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return pool positions and zero distances when no column varies.

        Every alumnus is then equally distant, so each student gets the first ``k``
        alumni that share an observed GPA or attendance value with it. Positions
        are -1 where fewer than ``k`` do. Students with the same observed base
        columns get the same alumni, so one search per pattern suffices.
        """
        count = len(student_observed)
        positions = np.full((count, k), -1, dtype=np.int64)
        base_observed = student_observed[:, self.base_columns]
        alumni_base = self.observed[:, self.base_columns]
        patterns, inverse = np.unique(base_observed, axis=0, return_inverse=True)
        for number, pattern in enumerate(patterns):
            shared = (alumni_base & pattern).sum(axis=1)
            sharing = np.flatnonzero(shared >= MIN_SHARED_BASE_FEATURES)[:k]
            positions[inverse.reshape(-1) == number, : len(sharing)] = sharing
        return positions, np.zeros((count, k))


@dataclass
class Neighbours:
    """The matched alumni of each student, padded to ``k`` columns.

    ``alumni`` contains positions in the alumni frame, -1 in padding and for
    dropped neighbours, and ``distances`` is ``inf`` there. ``share_present`` is
    the mean share of comparable columns compared with each kept neighbour. ``matched``
    is False for students whose major has no alumni.
    """

    alumni: np.ndarray
    distances: np.ndarray
    share_present: np.ndarray
    fallback: np.ndarray
    matched: np.ndarray
    pool_key: list[str | None] = field(default_factory=list)


class Matcher:
    """Alumni pools per major and for all majors, fitted once per run.

    Parameters
    ----------
    alumni : DataFrame
        One row per alumnus with a ``major`` column and the feature columns.
    features : sequence of str
        The matching features (see ``features.shared_features``).
    k : int, default=DEFAULT_K
        Neighbours per student before clipping to the pool size.
    """

    ALL_MAJORS = "\x00all"

    def __init__(
        self, alumni: pd.DataFrame, features: Sequence[str], k: int = DEFAULT_K
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.features = list(features)
        self.k = k
        self.matrix = as_matrix(alumni, self.features)
        self.base = np.array([name in BASE_FEATURES for name in self.features])
        majors = alumni["major"].astype(str).to_numpy() if len(alumni) else np.array([])
        self.major_sizes: dict[str, int] = {}
        self.pools: dict[str, Pool] = {}
        for major, rows in pd.Series(np.arange(len(alumni))).groupby(majors):
            positions = rows.to_numpy()
            self.major_sizes[str(major)] = len(positions)
            if len(positions) >= MIN_MAJOR_ALUMNI:
                self.pools[str(major)] = Pool.build(positions, self.matrix, self.base)

    def pool_key(self, major: str) -> str | None:
        """Return the pool a student of ``major`` is matched in, None to abstain."""
        size = self.major_sizes.get(major, 0)
        if size == 0:
            return None
        if size >= MIN_MAJOR_ALUMNI:
            return major
        return self.ALL_MAJORS

    def pool(self, key: str) -> Pool:
        """Return the pool ``key``; the all-majors pool is built on first use."""
        if key not in self.pools:
            self.pools[key] = Pool.build(
                np.arange(len(self.matrix)), self.matrix, self.base
            )
        return self.pools[key]

    def neighbours(self, students: pd.DataFrame) -> Neighbours:
        """Find the nearest alumni of every student, one query per pool."""
        count = len(students)
        width = min(self.k, len(self.matrix))
        alumni = np.full((count, width), -1, dtype=np.int64)
        distances = np.full((count, width), np.inf)
        share = np.ones(count)
        matrix = as_matrix(students, self.features)
        majors = students["major"].astype(str).to_numpy()
        keys = [self.pool_key(major) for major in majors]
        key_series = pd.Series(keys, dtype=object).fillna("")
        for key, group in pd.Series(np.arange(count)).groupby(key_series.to_numpy()):
            if key == "":
                continue
            rows = group.to_numpy()
            found, found_distances, found_share = self.pool(key).query(
                matrix[rows], self.k
            )
            alumni[rows, : found.shape[1]] = found
            distances[rows, : found.shape[1]] = found_distances
            share[rows] = found_share
        fallback = np.array([key == self.ALL_MAJORS for key in keys], dtype=bool)
        matched = np.array([key is not None for key in keys], dtype=bool)
        return Neighbours(alumni, distances, share, fallback, matched, keys)
