"""Nearest-alumni matching within a major, with a fallback to all majors.

Rules:

- A student is matched against the alumni of their own major, scaled on that major.
  Majors are compared by ``major_key`` (Unicode NFKC form, case-folded), so
  spellings that differ only in letter case or accent encoding are one major.
- When the major has at least one but fewer than ``MIN_MAJOR_ALUMNI`` alumni, it is
  too thin to scale or match on alone. The student is then matched against all
  alumni, scaled on all alumni, and the result is flagged as a fallback, which
  lowers the confidence and widens the margin in ``scoring``.
- When the major has no alumni at all the student is not matched (abstention),
  because alumni of other majors alone tell little about this one.
- Only eligible alumni are searched. An alumnus is eligible for a student when
  both have at least ``MIN_SHARED_BASE_FEATURES`` of GPA and attendance observed
  (and usable in the pool). Missing values are imputed with the pool mean, so
  without this rule a student and alumni who lack the same features would all sit
  at distance 0 and look like perfect matches. Each student therefore gets the k
  nearest eligible alumni, and a student with no eligible alumnus abstains.
- k is clipped to the number of eligible alumni.

Eligibility depends only on which base features a student has observed, so the
students of a pool are grouped by that pattern and each group is searched once.
When every pool alumnus is eligible, the search uses the pool's own index.
Otherwise it uses an index over the eligible alumni only, built on first use and
cached on the pool. Distances are Euclidean in scaled units. The search uses
scikit-learn's ``KDTree`` on the few scaled features, and brute force above
``_MAX_TREE_DIMENSIONS`` features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.neighbors import KDTree

from core.engine.features import BASE_FEATURES, Scaling, as_matrix
from core.importing.majors import major_key

DEFAULT_K = 15

# A major with fewer alumni than this is matched against all majors.
MIN_MAJOR_ALUMNI = 10

# Minimum number of GPA and attendance values that a student and an alumnus must
# both have for the alumnus to be eligible, so that matching rests on one of them.
MIN_SHARED_BASE_FEATURES = 1

# Above this many scaled features a k-d tree is slower than brute force.
_MAX_TREE_DIMENSIONS = 15

# Maximum number of query-to-point values (8 bytes each) that the brute-force
# search holds at once, so a block of queries stays near 32 MB.
_BRUTE_BLOCK_VALUES = 4_000_000


class _Index:
    """Exact k-nearest search in Euclidean distance over fixed scaled points."""

    def __init__(self, points: np.ndarray) -> None:
        self.points = np.ascontiguousarray(points, dtype=np.float64)
        self.tree = (
            KDTree(self.points, metric="euclidean")
            if self.points.shape[1] <= _MAX_TREE_DIMENSIONS
            else None
        )

    def query(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return distances and positions of the ``k`` nearest points, nearest first.

        ``k`` must be between 1 and the number of points.
        """
        if self.tree is not None:
            distances, positions = self.tree.query(queries, k=k)
            return distances, positions.astype(np.int64, copy=False)
        return self._brute(queries, k)

    def _brute(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # Candidates are ranked by |p|^2 - 2 q.p, the squared distance less |q|^2,
        # with one matrix product per block, and the distances of the k chosen
        # are then computed from the differences. Only points whose squared
        # distances differ by rounding error can be ranked differently from an
        # exact search.
        count = len(queries)
        distances = np.empty((count, k))
        positions = np.empty((count, k), dtype=np.int64)
        point_norms = np.einsum("pd,pd->p", self.points, self.points)
        block = max(1, _BRUTE_BLOCK_VALUES // len(self.points))
        for start in range(0, count, block):
            rows = slice(start, start + block)
            query_block = queries[rows]
            ranking = point_norms - 2.0 * (query_block @ self.points.T)
            nearest = np.argpartition(ranking, k - 1, axis=1)[:, :k]
            differences = query_block[:, None, :] - self.points[nearest]
            nearest_distances = np.sqrt(
                np.einsum("qkd,qkd->qk", differences, differences)
            )
            order = np.argsort(nearest_distances, axis=1, kind="stable")
            positions[rows] = np.take_along_axis(nearest, order, axis=1)
            distances[rows] = np.take_along_axis(nearest_distances, order, axis=1)
        return distances, positions


@dataclass(frozen=True)
class _Eligible:
    """The pool alumni eligible for one pattern of observed base features."""

    # Pool positions of the eligible alumni, ascending.
    positions: np.ndarray
    # Search index over those alumni, None when the pool has no usable column.
    index: _Index | None


@dataclass
class Pool:
    """The alumni a student can be matched against, with their scaling and index."""

    rows: np.ndarray
    scaling: Scaling
    scaled: np.ndarray
    # Search index over all pool alumni, None when the pool has no usable column.
    index: _Index | None
    # Columns at least one pool alumnus has, usable for scaling or constant.
    comparable: np.ndarray
    # Observed-value mask of each pool alumnus over the comparable columns.
    observed: np.ndarray
    # Mask of the comparable columns that are GPA or attendance.
    base_columns: np.ndarray
    # Eligible alumni per pattern code (see ``_pattern_codes``), filled on first use.
    eligible: dict[int, _Eligible] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, rows: np.ndarray, matrix: np.ndarray, base: np.ndarray) -> Pool:
        """Fit the scaling and the search index on alumni ``rows`` of ``matrix``.

        ``base`` marks the columns of ``matrix`` that are GPA or attendance.
        """
        pool_matrix = matrix[rows]
        scaling = Scaling.fit(pool_matrix)
        scaled, _ = scaling.transform(pool_matrix)
        comparable = (~np.isnan(pool_matrix)).any(axis=0)
        return cls(
            rows=rows,
            scaling=scaling,
            scaled=scaled,
            index=_Index(scaled) if scaled.shape[1] > 0 else None,
            comparable=comparable,
            observed=~np.isnan(pool_matrix[:, comparable]),
            base_columns=base[comparable],
        )

    def query(
        self, matrix: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Find the nearest eligible alumni of each ``matrix`` row.

        Returns alumni positions, distances and compared shares. Positions index
        the full alumni frame, nearest first, and are followed by -1 with distance
        ``inf`` where fewer than ``k`` alumni are eligible (see the module notes).
        The compared share of a student is the mean, over its neighbours, of the
        share of comparable columns observed on both sides (0 with none). A column
        with one value across the pool counts only if the student has that value.
        """
        k = min(k, len(self.rows))
        student_observed = ~np.isnan(matrix[:, self.comparable])
        positions, distances = self._search(matrix, student_observed, k)
        matched = positions >= 0
        both = (
            self._agreeing(matrix, student_observed)[:, None, :]
            & self.observed[positions]
        )
        compared = both.sum(axis=2) / max(self.observed.shape[1], 1)
        matched_count = matched.sum(axis=1)
        share = np.where(matched, compared, 0.0).sum(axis=1) / np.maximum(
            matched_count, 1
        )
        alumni = np.where(matched, self.rows[positions], -1)
        return alumni, distances, share

    def _agreeing(self, matrix: np.ndarray, student_observed: np.ndarray) -> np.ndarray:
        """Mask the comparable columns on which a student can be compared.

        A column with one value across the pool (weight zero in the distance)
        counts only where the student has that same value. A student who differs
        from every alumnus on it is outside what the pool shows, so that column
        lowers the compared share instead of looking like a perfect match.
        """
        constant = ~self.scaling.usable[self.comparable]
        if not constant.any():
            return student_observed
        values = matrix[:, self.comparable][:, constant]
        pool_value = self.scaling.mean[self.comparable][constant]
        agreeing = student_observed.copy()
        agreeing[:, constant] &= np.isclose(values, pool_value, rtol=1e-9, atol=1e-9)
        return agreeing

    def _search(
        self, matrix: np.ndarray, student_observed: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return pool positions and distances of the nearest eligible alumni.

        Positions are -1 and distances ``inf`` after the eligible alumni found.
        """
        count = len(matrix)
        positions = np.full((count, k), -1, dtype=np.int64)
        distances = np.full((count, k), np.inf)
        student_base = student_observed[:, self.base_columns]
        scaled = None if self.index is None else self.scaling.transform(matrix)[0]
        codes = _pattern_codes(student_base)
        for code in np.unique(codes):
            students = np.flatnonzero(codes == code)
            eligible = self._eligible_for(int(code), student_base[students[0]])
            found = min(k, len(eligible.positions))
            if found == 0:
                continue
            if eligible.index is None or scaled is None:
                # No column varies, so every eligible alumnus is at distance 0.
                positions[students, :found] = eligible.positions[:found]
                distances[students, :found] = 0.0
                continue
            found_distances, found_positions = eligible.index.query(
                scaled[students], found
            )
            positions[students, :found] = eligible.positions[found_positions]
            distances[students, :found] = found_distances
        return positions, distances

    def _eligible_for(self, code: int, pattern: np.ndarray) -> _Eligible:
        """Return the alumni eligible for students with observed base ``pattern``."""
        if code not in self.eligible:
            alumni_base = self.observed[:, self.base_columns]
            shared = (alumni_base & pattern).sum(axis=1)
            positions = np.flatnonzero(shared >= MIN_SHARED_BASE_FEATURES)
            index = self.index
            if index is not None and 0 < len(positions) < len(self.rows):
                index = _Index(self.scaled[positions])
            self.eligible[code] = _Eligible(positions, index)
        return self.eligible[code]


def _pattern_codes(observed: np.ndarray) -> np.ndarray:
    """Encode each row of a boolean matrix as an integer, bit j for column j."""
    weights = np.left_shift(1, np.arange(observed.shape[1], dtype=np.int64))
    return observed.astype(np.int64) @ weights


def _rows_by_value(values: pd.Series) -> dict[str, np.ndarray]:
    """Return the positions of each distinct value of ``values``, as text."""
    codes, uniques = pd.factorize(values.astype(str))
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return {
        str(uniques[codes[group[0]]]): group
        for group in np.split(order, bounds)
        if len(group) and codes[group[0]] >= 0
    }


@dataclass
class Neighbours:
    """The matched alumni of each student, padded to ``k`` columns.

    ``alumni`` contains positions in the alumni frame, nearest first, then -1 in
    padding where fewer than ``k`` alumni are eligible, and ``distances`` is
    ``inf`` there. ``share_present`` is the mean share of comparable columns
    compared with each matched neighbour. ``matched`` is False for students whose
    major has no alumni.
    """

    alumni: np.ndarray
    distances: np.ndarray
    share_present: np.ndarray
    fallback: np.ndarray
    matched: np.ndarray
    pool_key: list[str | None] = field(default_factory=list)
    # Number of alumni of each student's own major (all of them outside a fallback).
    own_major_alumni: np.ndarray = field(default_factory=lambda: np.zeros(0))


class Matcher:
    """Alumni pools per major and for all majors, fitted once per run.

    Parameters
    ----------
    alumni : DataFrame
        One row per alumnus with a ``major`` column and the feature columns.
    features : sequence of str
        The matching features (see ``features.shared_features``).
    k : int, default=DEFAULT_K
        Neighbours per student before clipping to the eligible alumni of the pool.
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
        # Spellings of one major (letter case, accents in another Unicode form)
        # share a pool, named after the spelling most of its alumni carry.
        spellings: dict[str, list[tuple[str, np.ndarray]]] = {}
        for major, positions in _rows_by_value(alumni["major"]).items():
            spellings.setdefault(major_key(major), []).append((major, positions))
        self.major_names: dict[str, str] = {}
        self.major_sizes: dict[str, int] = {}
        self.pools: dict[str, Pool] = {}
        for key, groups in spellings.items():
            name = max(groups, key=lambda group: len(group[1]))[0]
            positions = np.sort(np.concatenate([rows for _, rows in groups]))
            self.major_names[key] = name
            self.major_sizes[name] = len(positions)
            if len(positions) >= MIN_MAJOR_ALUMNI:
                self.pools[name] = Pool.build(positions, self.matrix, self.base)

    def major_name(self, major: str) -> str | None:
        """Return the alumni's spelling of ``major``, None when no alumnus has it."""
        return self.major_names.get(major_key(major))

    def pool_key(self, major: str) -> str | None:
        """Return the pool a student of ``major`` is matched in, None to abstain."""
        name = self.major_name(major)
        size = 0 if name is None else self.major_sizes[name]
        if size == 0:
            return None
        if size >= MIN_MAJOR_ALUMNI:
            return name
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
        keys: list[str | None] = [None] * count
        own = np.zeros(count)
        rows_by_key: dict[str, list[np.ndarray]] = {}
        for major, rows in _rows_by_value(students["major"]).items():
            key = self.pool_key(major)
            name = self.major_name(major)
            own[rows] = 0 if name is None else self.major_sizes[name]
            for row in rows.tolist():
                keys[row] = key
            if key is not None:
                rows_by_key.setdefault(key, []).append(rows)
        for key, parts in rows_by_key.items():
            rows = np.sort(np.concatenate(parts))
            found, found_distances, found_share = self.pool(key).query(
                matrix[rows], self.k
            )
            alumni[rows, : found.shape[1]] = found
            distances[rows, : found.shape[1]] = found_distances
            share[rows] = found_share
        fallback = np.array([key == self.ALL_MAJORS for key in keys], dtype=bool)
        matched = np.array([key is not None for key in keys], dtype=bool)
        return Neighbours(alumni, distances, share, fallback, matched, keys, own)
