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

Search uses scikit-learn's ``NearestNeighbors`` with a k-d tree on the few scaled
features, one tree per pool, built once per run and reused for every query batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from core.engine.features import Scaling, as_matrix

DEFAULT_K = 15

# A major with fewer alumni than this is matched against all majors.
MIN_MAJOR_ALUMNI = 10

# Above this many scaled features a k-d tree is slower than brute force.
_MAX_TREE_DIMENSIONS = 15


@dataclass
class Pool:
    """The alumni a student can be matched against, with their scaling and index."""

    rows: np.ndarray
    scaling: Scaling
    scaled: np.ndarray
    index: NearestNeighbors | None

    @classmethod
    def build(cls, rows: np.ndarray, matrix: np.ndarray) -> Pool:
        """Fit the scaling and the search index on alumni ``rows`` of ``matrix``."""
        pool_matrix = matrix[rows]
        scaling = Scaling.fit(pool_matrix)
        scaled, _ = scaling.transform(pool_matrix)
        index = None
        if scaled.shape[1] > 0:
            algorithm = (
                "kd_tree" if scaled.shape[1] <= _MAX_TREE_DIMENSIONS else "brute"
            )
            index = NearestNeighbors(algorithm=algorithm).fit(scaled)
        return cls(rows=rows, scaling=scaling, scaled=scaled, index=index)

    def query(
        self, matrix: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return alumni positions, distances and present shares for ``matrix`` rows.

        Positions index the full alumni frame. With no usable feature every alumnus
        is equally distant, so the first ``k`` of the pool are returned at
        distance 0.
        """
        k = min(k, len(self.rows))
        scaled, share = self.scaling.transform(matrix)
        if self.index is None:
            positions = np.broadcast_to(np.arange(k), (len(matrix), k))
            return self.rows[positions], np.zeros((len(matrix), k)), share
        distances, positions = self.index.kneighbors(scaled, n_neighbors=k)
        return self.rows[positions], distances, share


@dataclass
class Neighbours:
    """The matched alumni of each student, padded to ``k`` columns.

    ``alumni`` contains positions in the alumni frame, -1 in padding; ``distances``
    is ``inf`` in padding. ``matched`` is False for students who abstain.
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
        majors = alumni["major"].astype(str).to_numpy() if len(alumni) else np.array([])
        self.major_sizes: dict[str, int] = {}
        self.pools: dict[str, Pool] = {}
        for major, rows in pd.Series(np.arange(len(alumni))).groupby(majors):
            positions = rows.to_numpy()
            self.major_sizes[str(major)] = len(positions)
            if len(positions) >= MIN_MAJOR_ALUMNI:
                self.pools[str(major)] = Pool.build(positions, self.matrix)

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
            self.pools[key] = Pool.build(np.arange(len(self.matrix)), self.matrix)
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
