"""abkit.stats.log_buckets: a quantile read from log-bucket counts is within ALPHA
(relative) of the exact order statistic, numpy.quantile(..., method="inverted_cdf")."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from abkit.stats.log_buckets import (ALPHA, ZERO, bucket_keys, key_sql, merge_counts,
                                     quantile_from_counts)


def _counts(x: np.ndarray) -> dict[int, int]:
    keys, n = np.unique(bucket_keys(x), return_counts=True)
    return {int(k): int(c) for k, c in zip(keys, n)}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("q", [0.5, 0.9, 0.99, 0.999])
def test_within_alpha_of_the_exact_quantile(seed, q):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.lognormal(4.7, 0.5, 20_000), rng.exponential(300, 500)])
    exact = float(np.quantile(x, q, method="inverted_cdf"))
    got = quantile_from_counts(_counts(x), q)
    assert abs(got - exact) <= ALPHA * exact * (1 + 1e-12)


def test_signs_zero_and_order():
    x = np.array([-50.0, -1.0, 0.0, 0.0, 0.5, 1.0, 2.0, 1e6])
    keys = bucket_keys(x)
    assert keys[2] == keys[3] == ZERO
    assert (keys[:2] % 2 == 0).all() and (keys[4:] % 2 == 1).all()
    for q in (0.01, 0.2, 0.3, 0.5, 0.6, 0.99):
        exact = float(np.quantile(x, q, method="inverted_cdf"))
        got = quantile_from_counts(_counts(x), q)
        assert abs(got - exact) <= ALPHA * abs(exact) + 0.0


def test_counts_merge_like_the_union():
    rng = np.random.default_rng(7)
    a, b = rng.gamma(2.0, 50.0, 3000), rng.gamma(2.5, 60.0, 5000)
    merged = _counts(a)
    merge_counts(merged, _counts(b))
    assert merged == _counts(np.concatenate([a, b]))
    assert quantile_from_counts({}, 0.99) is None


def test_the_sql_keys_equal_numpys():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.lognormal(3, 2, 20_000), -rng.lognormal(1, 1, 100), [0.0, 1.0]])
    con = duckdb.connect()
    con.register("t", {"x": x})
    got = con.execute(f"SELECT {key_sql('x')} AS k FROM t").fetchnumpy()["k"]
    assert np.array_equal(np.asarray(got, dtype=np.int64), bucket_keys(x))
