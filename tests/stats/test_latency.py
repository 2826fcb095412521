"""Latency quantiles, ratios, CloudWatch aggregates and error rates (abkit.stats.latency)."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.proportion import test_proportions_2indep as sm_test_2indep

from abkit.stats.latency import (
    PeriodSummary,
    _weighted_bootstrap_quantiles,
    compare_error_rates,
    compare_latency,
    error_rate,
    min_n_for_quantile_ci,
    quantile_ci,
    window_quantile,
)

QS = (0.5, 0.95, 0.99)


def _codes(res) -> set[str]:
    return {d.code for d in res.diagnostics}


# --------------------------------------------------------------------------- quantile_ci


@pytest.mark.parametrize("n", [6, 40, 72, 368, 1000, 25_000])
@pytest.mark.parametrize("q", QS)
def test_quantile_ci_matches_scipy_quantile_test(n, q):
    rng = np.random.default_rng(n)
    x = rng.lognormal(3.0, 0.6, size=n)
    res = quantile_ci(x, q)
    assert res.estimate == np.quantile(x, q, method="inverted_cdf")
    # reference: scipy's order-statistic interval (nan where no interval exists)
    ref = stats.quantile_test(x, p=q).confidence_interval(0.95)
    if res.ci is None:
        assert n < min_n_for_quantile_ci(q)
        assert "TOO_FEW_FOR_INTERVAL" in _codes(res)
        assert math.isnan(ref.low) or math.isnan(ref.high)
    else:
        assert (res.ci.low, res.ci.high) == (ref.low, ref.high)
        lo, hi = res.ranks
        b = stats.binom(n, q)
        assert b.cdf(lo - 1) <= 0.025 < b.cdf(lo)  # equal-tailed ranks
        assert b.cdf(hi - 2) < 0.975 <= b.cdf(hi - 1)
        assert res.coverage == pytest.approx(b.cdf(hi - 1) - b.cdf(lo - 1), rel=1e-9)
        assert res.coverage >= 0.95


def test_min_n_rule():
    assert [min_n_for_quantile_ci(q) for q in QS] == [6, 72, 368]
    assert min_n_for_quantile_ci(0.99, 0.90) == 299  # ln(0.05) / ln(0.99) = 298.1
    for q in QS:
        n = min_n_for_quantile_ci(q)
        assert (1 - q) ** n <= 0.025 and q ** n <= 0.025
        assert max((1 - q) ** (n - 1), q ** (n - 1)) > 0.025
        x = np.arange(1.0, n + 1)
        assert quantile_ci(x, q).ci is not None
        small = quantile_ci(x[:-1], q)
        assert small.ci is None and small.estimate is not None
        assert str(n) in small.diagnostics[0].message


def test_quantile_ci_coverage_by_simulation():
    """1,000 seeded lognormal samples per level: coverage at least nominal (within MC error)."""
    rng = np.random.default_rng(20)
    true = {q: math.exp(3.0 + 0.6 * stats.norm.ppf(q)) for q in QS}
    for q, n in ((0.5, 200), (0.95, 200), (0.99, 400)):
        hits = 0
        for _ in range(1000):
            ci = quantile_ci(rng.lognormal(3.0, 0.6, size=n), q).ci
            hits += ci.low <= true[q] <= ci.high
        exact = quantile_ci(np.arange(n, dtype=float), q).coverage
        # the exact binomial coverage, within 3 Monte Carlo standard errors
        assert abs(hits / 1000 - exact) <= 3 * math.sqrt(exact * (1 - exact) / 1000), (q, hits)
        assert exact >= 0.95


def test_quantile_ci_edge_cases():
    res = quantile_ci(np.array([]), 0.5)
    assert res.estimate is None and res.ci is None and "EMPTY_SAMPLE" in _codes(res)
    res = quantile_ci(np.array([1.0, np.nan, np.inf, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), 0.5)
    assert res.n == 7 and "NON_FINITE_DROPPED" in _codes(res)
    assert quantile_ci([5.0] * 50, 0.5).ci.to_dict() == {"low": 5.0, "high": 5.0}
    with pytest.raises(ValueError):
        quantile_ci([1.0, 2.0], 99)
    with pytest.raises(ValueError):
        quantile_ci([1.0, 2.0], 0.5, confidence_level=95)
    with pytest.raises(ValueError):
        quantile_ci(np.ones((2, 2)), 0.5)
    assert quantile_ci([1.0, 2.0], 0.5, unit="ms").unit == "ms"


# --------------------------------------------------------------------------- bootstrap engine


def _brute_force(cols, qs, n_resamples, seed):
    """Weighted quantiles with an Exp(1) weight on every request (no windows, no pooling)."""
    rng = np.random.default_rng(seed)
    n = cols[0].size
    out = np.empty((n_resamples, len(cols), len(qs)))
    w_all = rng.standard_exponential(size=(n, n_resamples), dtype=np.float32)
    for a, c in enumerate(cols):
        order = np.argsort(c, kind="stable")
        cum = np.cumsum(w_all[order], axis=0)
        total = w_all.sum(axis=0, dtype=np.float64)
        for j, q in enumerate(qs):
            idx = np.count_nonzero(cum < (total * q).astype(np.float32), axis=0)
            out[:, a, j] = c[order][np.minimum(idx, n - 1)]
    return out


def test_bootstrap_engine_equals_brute_force_when_windows_cover_everything():
    rng = np.random.default_rng(21)
    x, y = rng.lognormal(size=300), rng.lognormal(size=300)
    orders = [np.argsort(x, kind="stable"), np.argsort(y, kind="stable")]
    got, clamped = _weighted_bootstrap_quantiles(
        orders, [x[orders[0]], y[orders[1]]], QS, 500, np.random.default_rng(7), z=1e6)
    assert clamped == 0
    np.testing.assert_array_equal(got, _brute_force([x, y], QS, 500, 7))


def test_bootstrap_engine_windows_match_brute_force_in_distribution():
    rng = np.random.default_rng(22)
    z = rng.normal(size=8000)
    x, y = np.exp(z), np.exp(0.8 * z + 0.6 * rng.normal(size=8000))
    orders = [np.argsort(x, kind="stable"), np.argsort(y, kind="stable")]
    got, clamped = _weighted_bootstrap_quantiles(
        orders, [x[orders[0]], y[orders[1]]], QS, 2000, np.random.default_rng(8))
    ref = _brute_force([x, y], QS, 2000, 9)
    assert clamped == 0
    for a in range(2):
        for j in range(3):
            assert stats.ks_2samp(got[:, a, j], ref[:, a, j]).pvalue > 0.001
            assert got[:, a, j].std() == pytest.approx(ref[:, a, j].std(), rel=0.1)
    # the pairing is kept: the two columns' bootstrap medians are correlated as in brute force
    r_got = np.corrcoef(got[:, 0, 0], got[:, 1, 0])[0, 1]
    r_ref = np.corrcoef(ref[:, 0, 0], ref[:, 1, 0])[0, 1]
    assert r_got == pytest.approx(r_ref, abs=0.08) and r_got > 0.4


# --------------------------------------------------------------------------- latency ratios


def _lognormal_pair(rng, n, rho=0.8):
    z = rng.normal(size=n)
    live = np.exp(3.0 + 0.5 * (rho * z + math.sqrt(1 - rho**2) * rng.normal(size=n)))
    cand = np.exp(3.05 + 0.6 * (rho * z + math.sqrt(1 - rho**2) * rng.normal(size=n)))
    return live, cand


TRUE_RATIO = {q: math.exp(0.05 + 0.1 * stats.norm.ppf(q)) for q in QS}


def test_compare_latency_estimates_and_structure():
    rng = np.random.default_rng(23)
    live, cand = _lognormal_pair(rng, 5000)
    res = compare_latency(live, cand, paired=True, unit="ms")
    assert [r.q for r in res.quantiles] == list(QS) and res.unit == "ms"
    for r in res.quantiles:
        assert r.live.estimate == np.quantile(live, r.q, method="inverted_cdf")
        assert r.candidate.estimate == np.quantile(cand, r.q, method="inverted_cdf")
        assert r.ratio == pytest.approx(r.candidate.estimate / r.live.estimate)
        assert r.ci.low < r.ratio < r.ci.high
        assert r.live.ci == quantile_ci(live, r.q).ci
    assert res[0.99].q == 0.99
    json.dumps(res.to_dict())
    # seeded: the same seed gives the same interval, another seed a slightly different one
    again = compare_latency(live, cand, paired=True, unit="ms")
    assert again[0.95].ci == res[0.95].ci
    assert compare_latency(live, cand, paired=True, seed=1)[0.95].ci != res[0.95].ci


def test_paired_interval_is_narrower_when_latencies_are_correlated():
    rng = np.random.default_rng(24)
    live, cand = _lognormal_pair(rng, 4000, rho=0.9)
    paired = compare_latency(live, cand, paired=True)
    indep = compare_latency(live, cand, paired=False)
    for q, factor in ((0.5, 0.7), (0.95, 0.8), (0.99, 1.0)):
        # the gain shrinks in the tail: the indicators 1{X <= xi_X} and 1{Y <= xi_Y} of a
        # normal copula are only weakly dependent at the 99th percentile
        wp = math.log(paired[q].ci.high / paired[q].ci.low)
        wi = math.log(indep[q].ci.high / indep[q].ci.low)
        assert wp < factor * wi, q


def _coverage(paired, method, n, runs, n_resamples=1000, seed=25):
    rng = np.random.default_rng(seed)
    hits = np.zeros(3)
    for i in range(runs):
        if paired:
            live, cand = _lognormal_pair(rng, n)
        else:
            live, cand = rng.lognormal(3.0, 0.5, n), rng.lognormal(3.05, 0.6, n)
        res = compare_latency(live, cand, paired=paired, method=method,
                              n_resamples=n_resamples, seed=i)
        hits += [r.ci.low <= TRUE_RATIO[r.q] <= r.ci.high for r in res.quantiles]
    return hits / runs


@pytest.mark.slow
@pytest.mark.parametrize("paired", [False, True])
def test_ratio_bootstrap_coverage_by_simulation(paired):
    """1,000 seeded lognormal experiments of 500 requests per variant (p99 needs >= 368).

    Measured (this seed, 1,000 resamples): independent 0.947 / 0.970 / 0.967, paired (latency
    correlation 0.8 on the log scale) 0.958 / 0.966 / 0.971 for p50 / p95 / p99; the Monte
    Carlo standard error at 0.95 is 0.007.
    """
    cov = _coverage(paired, "bootstrap", 500, 1000)
    assert np.all(cov >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / 1000)), cov


def test_ratio_order_statistics_method_is_conservative():
    cov = _coverage(True, "order-statistics", 500, 300)
    assert np.all(cov >= 0.97), cov  # Bonferroni of two exact intervals: over-covers
    cov = _coverage(False, "order-statistics", 500, 300)
    assert np.all(cov >= 0.97), cov


def test_bootstrap_undercovers_below_the_minimum_n():
    """Negative control: why the ratio interval needs n >= 368 for p99.

    With 80 requests per variant the p99 is the largest or second-largest value and the
    percentile bootstrap covers the true ratio far less often than 95 %.
    """
    rng = np.random.default_rng(26)
    hits = 0
    for i in range(400):
        live, cand = rng.lognormal(3.0, 0.5, 80), rng.lognormal(3.05, 0.6, 80)
        bl, _ = _weighted_bootstrap_quantiles([np.argsort(live)], [np.sort(live)], [0.99], 1000,
                                              np.random.default_rng(i))
        bc, _ = _weighted_bootstrap_quantiles([np.argsort(cand)], [np.sort(cand)], [0.99], 1000,
                                              np.random.default_rng(10_000 + i))
        lo, hi = np.quantile(bc[:, 0, 0] / bl[:, 0, 0], [0.025, 0.975])
        hits += lo <= TRUE_RATIO[0.99] <= hi
    assert hits / 400 < 0.9
    res = compare_latency(rng.lognormal(size=80), rng.lognormal(size=80))
    assert res[0.99].ci is None and "TOO_FEW_FOR_INTERVAL" in _codes(res[0.99])
    assert res[0.99].ratio is not None and res[0.5].ci is not None


def test_a_million_requests_per_variant_in_a_few_seconds():
    rng = np.random.default_rng(27)
    live, cand = _lognormal_pair(rng, 1_000_000)
    for paired in (False, True):
        t = time.perf_counter()
        res = compare_latency(live, cand, paired=paired)
        elapsed = time.perf_counter() - t
        assert elapsed < 10.0, elapsed  # about 1.2 s on a 2-core machine
        for r in res.quantiles:
            assert r.ci.low < TRUE_RATIO[r.q] < r.ci.high or abs(
                math.log(r.ratio / TRUE_RATIO[r.q])) < 0.01
        assert not res.diagnostics


def test_compare_latency_edge_cases():
    rng = np.random.default_rng(28)
    x = rng.lognormal(size=500)
    res = compare_latency(x, np.array([]))
    assert all(r.ratio is None and r.ci is None for r in res.quantiles)
    assert "EMPTY_SAMPLE" in _codes(res[0.5])
    zeros = np.zeros(500)
    res = compare_latency(zeros, x)
    assert res[0.5].ratio is None and "NONPOSITIVE_QUANTILE" in _codes(res[0.5])
    y = x.copy()
    y[:5] = np.nan
    res = compare_latency(x, y, paired=True)
    assert res.n_live == res.n_candidate == 495 and "NON_FINITE_DROPPED" in _codes(res)
    with pytest.raises(ValueError):
        compare_latency(x, x[:-1], paired=True)
    with pytest.raises(ValueError):
        compare_latency(x, x, method="normal")
    with pytest.raises(ValueError):
        compare_latency(x, x, n_resamples=10)
    with pytest.raises(ValueError):
        compare_latency(x, x, quantiles=(0.5, 1.0))


# --------------------------------------------------------------------------- CloudWatch


def _minutes(rng, levels, gen, minmax=True):
    """60 one-minute periods; minutes 20-29 are busy (20x the traffic) and slower."""
    periods, values = [], []
    for m in range(60):
        busy = 20 <= m < 30
        n = int(rng.poisson(4000 if busy else 200))
        v = gen(rng, busy, n)
        values.append(v)
        stats_ = {"SampleCount": n, "Average": float(v.mean())}
        stats_.update({f"p{100 * lev:g}": float(np.quantile(v, lev, method="inverted_cdf"))
                       for lev in levels})
        if minmax:
            stats_.update(Minimum=float(v.min()), Maximum=float(v.max()))
        periods.append(stats_)
    return periods, np.concatenate(values)


def _lognormal_minutes(rng, busy, n):
    return rng.lognormal(4.0 if busy else 3.3, 0.45, size=n)


def _gamma_minutes(rng, busy, n):
    return rng.gamma(2.0 if busy else 4.0, 30.0 if busy else 8.0, size=n)


@pytest.mark.parametrize("gen", [_lognormal_minutes, _gamma_minutes])
def test_window_p99_from_minutes_vs_averaging_per_minute_p99s(gen):
    rng = np.random.default_rng(29)
    periods, pooled = _minutes(rng, (0.5, 0.9, 0.99, 0.999), gen)
    true = np.quantile(pooled, 0.99, method="inverted_cdf")
    res = window_quantile(periods, 0.99, unit="ms")
    # negative control: the average of the per-minute p99s is far off (busy minutes are
    # under-weighted), 39-47 % too low here
    naive = np.mean([p["p99"] for p in periods])
    assert naive == pytest.approx(res.naive_mean)
    assert naive < 0.7 * true
    # the count-weighted mixture is within 1 % (measured: +0.3 % lognormal, 0.0 % gamma)
    assert res.estimate == pytest.approx(true, rel=0.01)
    assert res.bracket.low <= true <= res.bracket.high
    assert res.bracket.low <= res.estimate <= res.bracket.high
    assert res.max_error == pytest.approx(
        max(res.estimate - res.bracket.low, res.bracket.high - res.estimate))
    assert res.sample_count == len(pooled) and res.unit == "ms"
    json.dumps(res.to_dict())
    # linear interpolation also beats averaging by far, but is less accurate (+3.6 %, +4.5 %)
    lin = window_quantile(periods, 0.99, interpolation="linear")
    assert lin.estimate == pytest.approx(true, rel=0.06)


def test_window_quantile_without_min_max_and_between_levels():
    rng = np.random.default_rng(30)
    periods, pooled = _minutes(rng, (0.5, 0.9, 0.99), _lognormal_minutes, minmax=False)
    for q in (0.5, 0.9, 0.99):
        res = window_quantile(periods, q)
        true = np.quantile(pooled, q, method="inverted_cdf")
        assert res.estimate == pytest.approx(true, rel=0.01)
        assert res.bracket.low <= true <= res.bracket.high
    res = window_quantile(periods, 0.95)  # not fetched: interpolated, bracketed by p90 / p99
    true = np.quantile(pooled, 0.95, method="inverted_cdf")
    assert "LEVEL_NOT_FETCHED" in _codes(res)
    assert res.bracket.low == min(p["p90"] for p in periods)
    assert res.bracket.high == max(p["p99"] for p in periods)
    assert res.bracket.low <= true <= res.bracket.high
    assert res.estimate == pytest.approx(true, rel=0.02)
    res = window_quantile(periods, 0.999)  # above every known level, no Maximum: unbounded
    assert res.bracket is None and "MISSING_PERIOD_STATISTICS" in _codes(res)
    assert res.estimate is not None


def test_bracket_is_guaranteed_on_adversarial_periods():
    """Random windows of tiny, tied, discrete periods: the exact pooled quantile is always in
    the bracket when the per-period percentiles are exact (inverted-CDF) quantiles."""
    rng = np.random.default_rng(31)
    levels = (0.5, 0.9, 0.99)
    for _ in range(500):
        k = int(rng.integers(1, 8))
        parts = [rng.integers(0, 6, size=int(rng.integers(1, 12))).astype(float) * rng.choice(
            [1.0, 10.0]) for _ in range(k)]
        pooled = np.concatenate(parts)
        periods = [PeriodSummary(len(v), {lev: np.quantile(v, lev, method="inverted_cdf")
                                          for lev in levels}) for v in parts]
        for q in levels:
            res = window_quantile(periods, q)
            true = np.quantile(pooled, q, method="inverted_cdf")
            assert res.bracket.low <= true <= res.bracket.high
            assert res.bracket.low <= res.estimate <= res.bracket.high


def test_bracket_needs_inverted_cdf_percentiles():
    """Negative control: with interpolated (type-7) per-period percentiles the bracket can
    miss. Two periods {0, 10}: each has a type-7 p90 of 9, the pooled type-7 p90 is 10."""
    a = np.array([0.0, 10.0])
    periods = [PeriodSummary(2, {0.9: np.quantile(a, 0.9)}) for _ in range(2)]
    res = window_quantile(periods, 0.9)
    pooled_type7 = np.quantile(np.concatenate([a, a]), 0.9)
    assert (res.bracket.low, res.bracket.high) == (9.0, 9.0)
    assert pooled_type7 == 10.0 and pooled_type7 not in res.bracket
    # with inverted-CDF percentiles the bracket holds; relative_error widens it
    exact = [PeriodSummary(2, {0.9: 10.0}) for _ in range(2)]
    assert np.quantile(np.concatenate([a, a]), 0.9, method="inverted_cdf") in \
        window_quantile(exact, 0.9).bracket
    wide = window_quantile(periods, 0.9, relative_error=0.2).bracket
    assert (wide.low, wide.high) == pytest.approx((7.2, 10.8))


def test_window_quantile_single_period_and_parsing():
    one = {"SampleCount": 1000, "p50": 20.0, "p90": 35.0, "p99": 60.0, "p99.9": 90.0,
           "Minimum": 5.0, "Maximum": 120.0, "Timestamp": "2026-11-20T14:00:00Z"}
    ps = PeriodSummary.from_cloudwatch(one)
    assert ps.percentiles == ((0.5, 20.0), (0.9, 35.0), (0.99, 60.0), (0.999, 90.0))
    for q, v in ((0.5, 20.0), (0.9, 35.0), (0.99, 60.0), (0.999, 90.0)):
        res = window_quantile([one], q)
        assert res.estimate == pytest.approx(v) and res.max_error == pytest.approx(0.0)
    # zero-count periods are skipped, periods with one known point cannot be interpolated
    res = window_quantile([one, {"SampleCount": 0}, {"SampleCount": 10, "p99": 70.0}], 0.99)
    assert res.n_periods == 3 and res.n_periods_used == 1
    assert "TOO_FEW_PERCENTILES" in _codes(res) and res.max_error is None
    assert res.bracket.to_dict() == {"low": 60.0, "high": 70.0}
    res = window_quantile([{"SampleCount": 0}], 0.99)
    assert res.estimate is None and "EMPTY_WINDOW" in _codes(res)
    # decreasing percentiles are repaired (and said), values <= 0 fall back to linear
    bad = {"SampleCount": 50, "p50": 30.0, "p90": 25.0, "p99": 40.0}
    assert "NONMONOTONE_PERCENTILES" in _codes(window_quantile([bad], 0.9))
    zero = {"SampleCount": 50, "Minimum": 0.0, "p50": 3.0, "p99": 9.0, "Maximum": 12.0}
    res = window_quantile([zero, one], 0.99)
    assert "LINEAR_INTERPOLATION" in _codes(res) and res.estimate in res.bracket
    with pytest.raises(ValueError):
        PeriodSummary.from_cloudwatch({"p99": 3.0})
    with pytest.raises(ValueError):
        window_quantile([one], 1.5)
    with pytest.raises(ValueError):
        window_quantile([one], 0.5, interpolation="cubic")


# --------------------------------------------------------------------------- error rates


@pytest.mark.parametrize("e,n", [(0, 50), (1, 50), (7, 1000), (50, 50), (123, 45_678)])
def test_wilson_matches_statsmodels(e, n):
    res = error_rate(e, n)
    lo, hi = proportion_confint(e, n, alpha=0.05, method="wilson")
    assert res.rate == e / n
    assert (res.ci.low, res.ci.high) == pytest.approx((lo, hi), abs=1e-12)
    lo90, hi90 = proportion_confint(e, n, alpha=0.10, method="wilson")
    r90 = error_rate(e, n, confidence_level=0.90)
    assert (r90.ci.low, r90.ci.high) == pytest.approx((lo90, hi90), abs=1e-12)


CASES = [(30, 1000, 20, 1000), (0, 500, 3, 700), (5, 100, 0, 100), (50, 4000, 30, 5000),
         (12, 3000, 12, 3000)]


@pytest.mark.parametrize("c_e,c_n,l_e,l_n", CASES)
def test_newcombe_interval_matches_statsmodels(c_e, c_n, l_e, l_n):
    res = compare_error_rates(l_e, l_n, c_e, c_n)
    lo, hi = confint_proportions_2indep(c_e, c_n, l_e, l_n, method="newcomb", compare="diff")
    assert res.difference == pytest.approx(c_e / c_n - l_e / l_n)
    assert (res.ci.low, res.ci.high) == pytest.approx((lo, hi), abs=1e-12)


@pytest.mark.parametrize("c_e,c_n,l_e,l_n", CASES)
@pytest.mark.parametrize("alternative,sm_alt", [("greater", "larger"), ("less", "smaller"),
                                                ("two-sided", "two-sided")])
def test_score_test_at_zero_margin_matches_statsmodels(c_e, c_n, l_e, l_n, alternative, sm_alt):
    res = compare_error_rates(l_e, l_n, c_e, c_n, alternative=alternative)
    with np.errstate(divide="ignore"):  # statsmodels also computes the ratio p_c / p_l
        ref = sm_test_2indep(c_e, c_n, l_e, l_n, value=0, method="score", compare="diff",
                             alternative=sm_alt, correction=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)


def _restricted_mle(c_e, c_n, l_e, l_n, margin):
    """Numerical maximum of the binomial likelihood under p_c - p_l = margin."""
    def nll(p_l):
        p_c = p_l + margin
        return -(stats.binom.logpmf(c_e, c_n, p_c) + stats.binom.logpmf(l_e, l_n, p_l))
    lo, hi = max(0.0, -margin) + 1e-12, min(1.0, 1.0 - margin) - 1e-12
    p_l = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-13}).x
    return p_l + margin, p_l


@pytest.mark.parametrize("c_e,c_n,l_e,l_n", CASES)
@pytest.mark.parametrize("margin", [0.005, 0.01, -0.02])
def test_score_test_with_margin_uses_the_restricted_mle(c_e, c_n, l_e, l_n, margin):
    """Farrington-Manning: the variance at the likelihood maximum under the margin.

    Reference: the restricted MLE by numerical optimisation (scipy), not statsmodels:
    statsmodels' ``test_proportions_2indep(method="score", value != 0)`` solves a cubic with a
    wrong linear coefficient (statsmodels issue #10269) and is off in the 4th digit.
    """
    res = compare_error_rates(l_e, l_n, c_e, c_n, margin=margin)
    t_c, t_l = _restricted_mle(c_e, c_n, l_e, l_n, margin)
    z = (c_e / c_n - l_e / l_n - margin) / math.sqrt(t_c * (1 - t_c) / c_n
                                                     + t_l * (1 - t_l) / l_n)
    assert res.statistic == pytest.approx(z, rel=1e-6)
    assert res.pvalue == pytest.approx(stats.norm.sf(z), rel=1e-6)
    with np.errstate(divide="ignore"):
        sm = sm_test_2indep(c_e, c_n, l_e, l_n, value=margin, method="score", compare="diff",
                            alternative="larger", correction=False)
    assert res.pvalue == pytest.approx(sm.pvalue, abs=2e-3)  # close, not equal (see above)


def test_margin_test_type_one_error_by_simulation():
    """At the null boundary (live 1.0 %, candidate 1.5 %, margin 0.5 points, 5,000 requests
    each) the one-sided test rejects at most about 5 % of the time (2,000 runs)."""
    rng = np.random.default_rng(32)
    n, rejections = 5000, 0
    for _ in range(2000):
        res = compare_error_rates(rng.binomial(n, 0.010), n, rng.binomial(n, 0.015), n,
                                  margin=0.005, alternative="greater")
        rejections += res.pvalue < 0.05
    assert rejections / 2000 <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000), rejections
    # power: a candidate at 2.5 % (1 point above the margin) is caught most of the time
    caught = sum(compare_error_rates(rng.binomial(n, 0.010), n, rng.binomial(n, 0.025), n,
                                     margin=0.005).pvalue < 0.05 for _ in range(300))
    assert caught / 300 > 0.8


def test_error_rate_edge_cases():
    res = error_rate(0, 0)
    assert res.rate is None and res.ci is None and "NO_REQUESTS" in _codes(res)
    cmp = compare_error_rates(0, 0, 3, 100)
    assert cmp.difference is None and "NO_REQUESTS" in _codes(cmp)
    cmp = compare_error_rates(0, 1000, 0, 1000)
    assert cmp.difference == 0.0 and cmp.ci.low < 0 < cmp.ci.high
    assert cmp.pvalue is None and "NO_ERRORS" in _codes(cmp)
    cmp = compare_error_rates(0, 1000, 0, 1000, margin=0.01, alternative="less")
    assert cmp.pvalue < 0.001  # zero errors in 1,000 each: non-inferior at a 1-point margin
    json.dumps(cmp.to_dict())
    with pytest.raises(ValueError):
        error_rate(5, 3)
    with pytest.raises(ValueError):
        error_rate(-1, 3)
    with pytest.raises(ValueError):
        error_rate(1.5, 3)
    with pytest.raises(ValueError):
        compare_error_rates(1, 10, 1, 10, alternative="larger")
    with pytest.raises(ValueError):
        compare_error_rates(1, 10, 1, 10, margin=2.0)
