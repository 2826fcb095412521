"""Quantiles from mergeable log-bucket counts, to within a relative error (the DDSketch
method: Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
relative-error guarantees", VLDB 2019).

A value ``x > 0`` falls in bucket ``i = ceil(log_gamma(x))`` with
``gamma = (1 + ALPHA) / (1 - ALPHA)``; bucket ``i`` covers ``(gamma^(i-1), gamma^i]`` and is
represented by ``2 gamma^i / (gamma + 1)``, within ``ALPHA`` (relative) of every value in
it. Negative values use the buckets of ``-x``; zero has its own bucket. Bucket counts add
across rows, looks, passes and engines, so a quantile of any union of cells needs only their
counts, and the ``q``-quantile read from them (the smallest bucket whose cumulative count
reaches ``q n``, as ``numpy.quantile(..., method="inverted_cdf")`` picks an order
statistic) is within ``ALPHA`` of the exact order statistic.

Keys, as the engines compute them (one integer per row)::

    x > 0:  2 * ceil(ln(x) / LN_GAMMA) + 1      (odd)
    x < 0:  2 * ceil(ln(-x) / LN_GAMMA)         (even)
    x = 0:  ZERO
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

__all__ = ["ALPHA", "LN_GAMMA", "ZERO", "bucket_keys", "key_sql", "quantile_from_counts",
           "merge_counts"]

#: relative accuracy of a quantile read from the buckets
ALPHA = 0.005
GAMMA = (1.0 + ALPHA) / (1.0 - ALPHA)
LN_GAMMA = math.log(GAMMA)
#: the key of the value 0 (far from every other key: |ln x| / LN_GAMMA < 72,000 for doubles)
ZERO = 1 << 40


def bucket_keys(x: np.ndarray) -> np.ndarray:
    """The bucket key of every (finite) value, as int64."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, ZERO, dtype=np.int64)
    pos, neg = x > 0, x < 0
    with np.errstate(divide="ignore"):
        out[pos] = 2 * np.ceil(np.log(x[pos]) / LN_GAMMA).astype(np.int64) + 1
        out[neg] = 2 * np.ceil(np.log(-x[neg]) / LN_GAMMA).astype(np.int64)
    return out


def key_sql(x: str) -> str:
    """The bucket key of the SQL expression ``x`` (DuckDB; ``ln`` and ``ceil`` of a DOUBLE,
    the constant cast from its exact decimal text so that it is the same double)."""
    lg = f"CAST('{LN_GAMMA!r}' AS DOUBLE)"
    return (f"CASE WHEN {x} > 0 THEN 2 * CAST(ceil(ln({x}) / {lg}) AS BIGINT) + 1 "
            f"WHEN {x} < 0 THEN 2 * CAST(ceil(ln(-({x})) / {lg}) AS BIGINT) "
            f"ELSE {ZERO} END")


def _values(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys, dtype=np.int64)
    i = np.where(keys == ZERO, 0, np.where(keys % 2 == 1, (keys - 1) // 2, keys // 2))
    mag = 2.0 * np.exp(i.astype(float) * LN_GAMMA) / (GAMMA + 1.0)
    return np.where(keys == ZERO, 0.0, np.where(keys % 2 == 1, mag, -mag))


def merge_counts(into: dict[int, int], more: Mapping[int, int]) -> None:
    for k, n in more.items():
        into[k] = into.get(k, 0) + int(n)


def quantile_from_counts(counts: Mapping[int, int], q: float) -> float | None:
    """The ``q``-quantile of the values counted in ``counts`` (key -> rows), to within
    :data:`ALPHA` relative; None when there are no rows."""
    if not counts:
        return None
    keys = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    n = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    vals = _values(keys)
    order = np.argsort(vals, kind="stable")
    cum = np.cumsum(n[order])
    if cum[-1] <= 0:
        return None
    # inverted_cdf: the smallest value whose cumulative count reaches q * n
    j = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(vals[order][min(j, len(order) - 1)])
