"""Mergeable sufficient statistics: count, mean vector and co-moment matrix.

A :class:`MomentStats` summarises ``n`` observations of a vector of ``k`` per-unit variables
(for example ``(revenue, pre_revenue)`` or ``(clicks, sessions)``). It stores the mean vector and
the matrix of centred co-moments ``M2 = sum((z - mean)(z - mean)^T)``, which is numerically
stable (no ``sum of squares - n * mean^2`` cancellation) and merges exactly with Chan et al.'s
parallel update, so shards of a log can be reduced separately and added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["MomentStats"]

# centred values of a constant differ from 0 by a few ulps of the mean; a variance below
# (64 * machine epsilon * |mean|)^2 is rounding noise, not spread
_ROUNDING = 64 * float(np.finfo(float).eps)


def _tuple_matrix(m: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in m)


@dataclass(frozen=True)
class MomentStats:
    """Count, means and co-moments of ``k`` variables over ``n`` units.

    Attributes
    ----------
    n : int
        Number of units.
    mean : tuple of float
        Mean of each variable (empty means are 0.0 when ``n == 0``).
    m2 : tuple of tuple of float
        Centred co-moment matrix, ``(n - 1) * covariance``.
    """

    n: int
    mean: tuple[float, ...]
    m2: tuple[tuple[float, ...], ...]

    @classmethod
    def empty(cls, k: int) -> MomentStats:
        """Statistics of zero units over ``k`` variables."""
        return cls(0, (0.0,) * k, _tuple_matrix(np.zeros((k, k))))

    @classmethod
    def from_array(cls, data: Sequence[Sequence[float]] | np.ndarray) -> MomentStats:
        """Reduce an ``(n, k)`` array (or a 1-D array, ``k = 1``) to moments."""
        a = np.asarray(data, dtype=float)
        if a.ndim == 1:
            a = a[:, None]
        n, k = a.shape
        if n == 0:
            return cls.empty(k)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is diagnosed downstream
            mean = a.mean(axis=0)
            c = a - mean
            m2 = c.T @ c
        return cls(int(n), tuple(float(v) for v in mean), _tuple_matrix(m2))

    @classmethod
    def from_cov(cls, n: int, mean: Sequence[float], cov: np.ndarray | Sequence) -> MomentStats:
        """Build from a count, means and the sample covariance (``ddof=1``)."""
        k = len(mean)
        covm = np.asarray(cov, dtype=float).reshape(k, k)
        if n < 2:
            covm = np.zeros((k, k))
        return cls(int(n), tuple(float(v) for v in mean), _tuple_matrix(covm * max(n - 1, 0)))

    @property
    def k(self) -> int:
        """Number of variables."""
        return len(self.mean)

    @property
    def mean_array(self) -> np.ndarray:
        """Means as a numpy vector."""
        return np.asarray(self.mean, dtype=float)

    def cov(self) -> np.ndarray | None:
        """Sample covariance matrix (``ddof=1``), or ``None`` when ``n < 2``.

        A variable whose variance is at the level of floating-point rounding of its mean
        (a constant such as 0.1 repeated, whose centred values are ~1e-17 instead of 0) is
        treated as constant: its row and column are set to exactly 0.
        """
        if self.n < 2:
            return None
        cov = np.asarray(self.m2, dtype=float) / (self.n - 1)
        with np.errstate(over="ignore", invalid="ignore"):
            const = np.sqrt(np.maximum(np.diag(cov), 0.0)) <= _ROUNDING * np.abs(self.mean_array)
        if const.any():
            cov[const, :] = 0.0
            cov[:, const] = 0.0
        return cov

    def select(self, idx: Sequence[int]) -> MomentStats:
        """Statistics of a subset of the variables, in the given order."""
        ix = list(idx)
        m2 = np.asarray(self.m2, dtype=float)[np.ix_(ix, ix)]
        return MomentStats(self.n, tuple(self.mean[i] for i in ix), _tuple_matrix(m2))

    def __add__(self, other: MomentStats) -> MomentStats:
        """Merge two disjoint sets of units (Chan, Golub and LeVeque's update)."""
        if not isinstance(other, MomentStats):
            return NotImplemented
        if self.k != other.k:
            raise ValueError(f"cannot merge statistics of {self.k} and {other.k} variables")
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        ma, mb = self.mean_array, other.mean_array
        delta = mb - ma
        mean = ma + delta * (other.n / n)
        m2 = (
            np.asarray(self.m2, dtype=float)
            + np.asarray(other.m2, dtype=float)
            + np.outer(delta, delta) * (self.n * other.n / n)
        )
        return MomentStats(n, tuple(float(v) for v in mean), _tuple_matrix(m2))
