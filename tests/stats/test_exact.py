"""Few events and small samples (issue #11): the exact test, the score intervals, and the
relative interval's reference distribution and -100 % floor.

Reference numbers are in ``tests/stats/reference/exact_reference.json``, produced by
``tests/stats/reference/make_exact_reference.py`` with scipy / statsmodels only; each case
records the call that made it (``source``). Tolerances: Boschloo ``rel=1e-9`` (scipy maximises
over the nuisance parameter with ``shgo``, abkit on a fine grid; they agree to ~1e-12), score
intervals ``rel=1e-9``, Farrington-Manning p-values ``rel=1e-6`` (the reference's restricted
MLE is a numerical maximisation).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from abkit.stats import Estimand, MomentStats, compare, noninferiority_pvalue
from abkit.stats import exact
from abkit.stats.exact import (
    binary_counts, boschloo_pvalue, newcombe_interval, ratio_interval, score_pvalue,
)

REF = json.loads((Path(__file__).parent / "reference" / "exact_reference.json").read_text())
MEAN0 = Estimand("mean", (0,))


def arm(events: int, n: int) -> MomentStats:
    """Moments of ``events`` ones and ``n - events`` zeros."""
    return MomentStats.from_array(np.r_[np.ones(events), np.zeros(n - events)])


def codes(res) -> list[str]:
    return [d.code for d in res.diagnostics]


def _id(case) -> str:
    return "-".join(str(v) for v in case["table"]) + "-" + str(case.get("alternative", "")) \
        + str(case.get("confidence_level", "")) + str(case.get("value", ""))


# ------------------------------------------------------------------------- the exact pieces


@pytest.mark.parametrize("case", REF["boschloo"], ids=_id)
def test_boschloo_matches_scipy(case):
    """scipy.stats.boschloo_exact([[x_t, x_c], [n_t - x_t, n_c - x_c]], alternative).pvalue"""
    x_t, n_t, x_c, n_c = case["table"]
    p, is_exact = boschloo_pvalue(x_t, n_t, x_c, n_c, case["alternative"])
    assert is_exact
    assert p == pytest.approx(case["pvalue"], rel=1e-9)


@pytest.mark.parametrize("case", REF["newcombe"], ids=_id)
def test_newcombe_matches_statsmodels(case):
    """confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", compare="diff")"""
    x_t, n_t, x_c, n_c = case["table"]
    ci = newcombe_interval(x_t, n_t, x_c, n_c, case["confidence_level"])
    assert ci.low == pytest.approx(case["ci_low"], rel=1e-9, abs=1e-13)
    assert ci.high == pytest.approx(case["ci_high"], rel=1e-9, abs=1e-13)


@pytest.mark.parametrize("case", REF["ratio"], ids=_id)
def test_ratio_interval_matches_statsmodels(case):
    """confint_proportions_2indep(x_t, n_t, x_c, n_c, method="score", compare="ratio")"""
    x_t, n_t, x_c, n_c = case["table"]
    ci = ratio_interval(x_t, n_t, x_c, n_c, case["confidence_level"])
    assert ci.low == pytest.approx(case["ci_low"], rel=1e-9, abs=1e-12)
    assert ci.high == pytest.approx(case["ci_high"], rel=1e-9)


def test_ratio_interval_where_statsmodels_root_finding_fails():
    """12/12 vs 11/12: statsmodels returns a lower end (1.043) above ratio 1, whose score
    statistic is 1.0 (inside). Check the defining property instead: |z| = 1.96 at both ends,
    with z computed by formula (Miettinen-Nurminen, variance times N/(N-1))."""
    ci = ratio_interval(12, 12, 11, 12, 0.95)
    crit = st.norm.ppf(0.975)
    for phi in (ci.low, ci.high):
        a, b, c = 24 * phi, -(12 * phi + 12 + 12 + 11 * phi), 23.0
        p_c = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
        p_t = phi * p_c
        var = (p_t * (1 - p_t) / 12 + phi ** 2 * p_c * (1 - p_c) / 12) * 24 / 23
        assert abs(1 - phi * 11 / 12) / math.sqrt(var) == pytest.approx(crit, rel=1e-8)
    assert ci.low < 1.0 < ci.high


@pytest.mark.parametrize("case", REF["noninferiority"], ids=_id)
def test_score_pvalue_matches_restricted_mle(case):
    """Farrington-Manning with the restricted MLE by scipy.optimize (see ``source``)."""
    x_t, n_t, x_c, n_c = case["table"]
    p = score_pvalue(x_t, n_t, x_c, n_c, case["value"], case["alternative"])
    assert p == pytest.approx(case["pvalue"], rel=1e-6)


def test_fisher_bound_above_the_exact_size(monkeypatch):
    """Above MAX_EXACT_UNITS: Fisher's one-sided p (scipy.stats.fisher_exact(table,
    alternative="less")), two-sided = twice the smaller; flagged as not exact."""
    monkeypatch.setattr(exact, "MAX_EXACT_UNITS", 100)
    p, is_exact = boschloo_pvalue(1, 80, 6, 70, "two-sided")
    less = st.fisher_exact([[1, 6], [79, 64]], alternative="less").pvalue
    greater = st.fisher_exact([[1, 6], [79, 64]], alternative="greater").pvalue
    assert not is_exact
    assert p == pytest.approx(min(1.0, 2 * min(less, greater)), rel=1e-12)
    # and it is an upper bound on Boschloo's (scipy.stats.boschloo_exact)
    assert p >= st.boschloo_exact([[1, 6], [79, 64]]).pvalue


def test_binary_counts_recognises_only_0_1_moments():
    assert binary_counts(arm(3, 40), 0) == 3
    assert binary_counts(MomentStats.from_array([0.5, 0.5, 1.0]), 0) is None
    assert binary_counts(MomentStats.from_array([0.0, 2.0]), 0) is None
    assert binary_counts(MomentStats.empty(1), 0) is None


# ----------------------------------------------------------------------- through compare()


def test_rare_events_use_boschloo_not_welch():
    """The issue's case: 4 vs 0 conversions in 2,000 users per arm. Welch (the old rule,
    binary=False) says p = 0.045; Boschloo (scipy) says 0.119."""
    ref = next(c for c in REF["boschloo"] if c["table"] == [4, 2000, 0, 2000]
               and c["alternative"] == "two-sided")
    nc = next(c for c in REF["newcombe"] if c["table"] == [4, 2000, 0, 2000]
              and c["confidence_level"] == 0.95)
    res = compare(arm(0, 2000), arm(4, 2000), MEAN0)
    assert res.method == "boschloo" and res.events == (0, 4)
    assert res.absolute.pvalue == pytest.approx(ref["pvalue"], rel=1e-9)
    assert res.absolute.ci.low == pytest.approx(nc["ci_low"], rel=1e-9)
    assert res.absolute.ci.high == pytest.approx(nc["ci_high"], rel=1e-9)
    assert res.absolute.estimate == pytest.approx(0.002) and res.absolute.df is None
    assert res.relative.estimate is None and "ZERO_CONTROL_MEAN" in codes(res)
    few = next(d for d in res.diagnostics if d.code == "FEW_EVENTS")
    assert "control arm has 0 events" in few.message and "Boschloo" in few.message
    assert "treatment arm has 4 events" in few.message and "2000 units" in few.message
    # negative control: the old Welch rule calls it significant
    old = compare(arm(0, 2000), arm(4, 2000), MEAN0, binary=False)
    assert old.method == "welch" and old.absolute.pvalue < 0.05
    assert old.absolute.pvalue == pytest.approx(
        st.ttest_ind(np.r_[np.ones(4), np.zeros(1996)], np.zeros(2000),
                     equal_var=False).pvalue, rel=1e-9)


def test_small_sample_relative_interval_stays_above_minus_100_percent():
    """12 users per arm: the old rule gave -143 % .. +210 %; the ratio score interval
    (statsmodels method="score", compare="ratio") minus 1 cannot go below -100 %."""
    ref = next(c for c in REF["ratio"] if c["table"] == [4, 12, 1, 12])
    res = compare(arm(1, 12), arm(4, 12), MEAN0)
    assert res.method == "boschloo"
    assert res.relative.ci.low == pytest.approx(ref["ci_low"] - 1, rel=1e-9)
    assert res.relative.ci.high == pytest.approx(ref["ci_high"] - 1, rel=1e-9)
    assert res.relative.pvalue == res.absolute.pvalue  # one test of p_t = p_c
    for x_c in range(1, 12):
        for x_t in range(0, 13):
            r = compare(arm(x_c, 12), arm(x_t, 12), MEAN0)
            assert r.relative.ci.low >= -1.0
            assert r.relative.ci.low <= r.relative.estimate <= r.relative.ci.high
            assert r.absolute.ci.low <= r.absolute.estimate <= r.absolute.ci.high
    old = compare(arm(1, 12), arm(4, 12), MEAN0, binary=False)
    assert old.method == "welch"  # the old delta interval: now log scale, also above -100 %
    assert old.relative.ci.low > -1.0


def test_many_events_keep_welch():
    res = compare(arm(10, 2000), arm(14, 2000), MEAN0)
    assert res.method == "welch" and res.events is None and "FEW_EVENTS" not in codes(res)
    res = compare(arm(1990, 2000), arm(1985, 2000), MEAN0)  # 10 and 15 non-events
    assert res.method == "welch"
    res = compare(arm(1991, 2000), arm(1985, 2000), MEAN0)  # 9 non-events: exact
    assert res.method == "boschloo" and "FEW_EVENTS" in codes(res)


def test_constant_arms_need_binary_true():
    """All zeros in both arms is 0/1 data only if the caller says so."""
    res = compare(arm(0, 50), arm(0, 50), MEAN0)
    assert res.method == "welch" and "ZERO_VARIANCE" in codes(res)
    res = compare(arm(0, 50), arm(0, 50), MEAN0, binary=True)
    assert res.method == "boschloo" and res.absolute.pvalue == 1.0
    lo, hi = res.absolute.ci.low, res.absolute.ci.high
    assert lo < 0 < hi and math.isfinite(lo) and math.isfinite(hi)
    with pytest.raises(ValueError):
        compare(MomentStats.from_array([0.5, 2.0]), arm(1, 2), MEAN0, binary=True)


def test_noninferiority_uses_the_score_test_with_few_events():
    ref = next(c for c in REF["noninferiority"] if c["table"] == [0, 2000, 0, 2000]
               and c["alternative"] == "less")
    res = compare(arm(0, 2000), arm(0, 2000), MEAN0, binary=True)
    # harm = increase; shown within a margin of 0.002: H1 p_t - p_c < 0.002
    assert noninferiority_pvalue(res, -0.002, "decrease") == pytest.approx(ref["pvalue"],
                                                                           rel=1e-6)
    assert noninferiority_pvalue(res, 0.0, "increase") is None  # no events, zero margin
    ref = next(c for c in REF["noninferiority"] if c["table"] == [4, 2000, 0, 2000])
    res = compare(arm(0, 2000), arm(4, 2000), MEAN0)
    assert noninferiority_pvalue(res, 0.001, "increase") == pytest.approx(ref["pvalue"],
                                                                          rel=1e-6)
    p = noninferiority_pvalue(res, 5.0, "increase")  # a margin past any difference
    assert p is not None and 0.0 <= p <= 1.0


def test_cuped_is_not_applied_with_few_events():
    c = MomentStats.from_array(np.column_stack([np.r_[np.ones(2), np.zeros(98)],
                                                np.linspace(0, 1, 100)]))
    t = MomentStats.from_array(np.column_stack([np.r_[np.ones(7), np.zeros(93)],
                                                np.linspace(0, 1, 100)]))
    res = compare(c, t, MEAN0, Estimand("mean", (1,)))
    assert res.method == "boschloo" and res.theta == 0.0
    assert "COVARIATE_NOT_APPLIED" in codes(res) and "FEW_EVENTS" in codes(res)
    assert res.absolute.pvalue == pytest.approx(boschloo_pvalue(7, 100, 2, 100)[0])


# ------------------------------------------------------------ relative interval, mean data


@pytest.mark.parametrize("case", REF["relative"],
                         ids=lambda c: f"{c['name']}-{c['confidence_level']}")
def test_relative_interval_uses_the_absolute_reference_distribution(case):
    """Student t with the Welch df for both intervals; log scale where the delta interval
    would reach -100 % (formulas in ``source``, scipy.stats.t)."""
    c = MomentStats.from_array(np.asarray(case["control"]))
    t = MomentStats.from_array(np.asarray(case["treatment"]))
    res = compare(c, t, MEAN0, confidence_level=case["confidence_level"])
    rel = res.relative
    assert rel.df == pytest.approx(case["df"], rel=1e-9) and rel.df == res.absolute.df
    assert rel.estimate == pytest.approx(case["estimate"], rel=1e-9)
    assert rel.se == pytest.approx(case["se"], rel=1e-9)
    assert rel.ci.low == pytest.approx(case["ci_low"], rel=1e-9)
    assert rel.ci.high == pytest.approx(case["ci_high"], rel=1e-9)
    assert rel.pvalue == pytest.approx(case["pvalue"], rel=1e-9)
    assert rel.ci.low > -1.0
    assert ("LOG_RELATIVE_INTERVAL" in codes(res)) == (case["scale"] == "log")


def test_relative_interval_is_normal_for_z_comparisons():
    """test="z" (ratio metrics): the absolute effect is normal, so is the relative one."""
    rng = np.random.default_rng(5)
    c = MomentStats.from_array(np.column_stack([rng.gamma(2, 1, 300), rng.integers(1, 4, 300)]))
    t = MomentStats.from_array(np.column_stack([rng.gamma(2, 1.1, 300),
                                                rng.integers(1, 4, 300)]))
    res = compare(c, t, Estimand("ratio", (0, 1)), test="z")
    assert res.absolute.df is None and res.relative.df is None
    r = res.relative
    z = st.norm.ppf(0.975)
    assert r.ci.low == pytest.approx(r.estimate - z * r.se, rel=1e-12)


# ----------------------------------------------------------------------- A/A calibration


def _aa(n: int, rate: float, reps: int, seed: int, alpha: float = 0.05):
    rng = np.random.default_rng(seed)
    new = old = 0
    for x_c, x_t in zip(rng.binomial(n, rate, reps), rng.binomial(n, rate, reps)):
        c, t = arm(int(x_c), n), arm(int(x_t), n)
        p_new = compare(c, t, MEAN0).absolute.pvalue
        p_old = compare(c, t, MEAN0, binary=False).absolute.pvalue
        new += p_new is not None and p_new < alpha
        old += p_old is not None and p_old < alpha
    return new / reps, old / reps


# measured (seed 11, 2,000 experiments): exact rule / old Welch rule
#   n=2000 rate=0.001: 0.0040 / 0.0490    n=12 rate=0.3: 0.0435 / 0.0465
#   n=12 rate=0.5:     0.0355 / 0.0615    n=30 rate=0.05: 0.0045 / 0.0255
@pytest.mark.slow
@pytest.mark.parametrize("n,rate", [(2000, 0.001), (12, 0.3), (12, 0.5), (30, 0.05)])
def test_aa_type_one_error_with_few_events(n, rate):
    """2,000 A/A experiments per design: the exact rule rejects at most alpha = 0.05 of
    them (plus 2 Monte Carlo sd). Negative control: at 12 users per arm and a 50 % rate the
    old Welch rule rejects more than alpha (0.0615)."""
    new, old = _aa(n, rate, 2000, seed=11)
    print(f"A/A n={n}/arm rate={rate}: exact rule {new:.4f}, Welch rule {old:.4f}")
    assert new <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 2000)
    if (n, rate) == (12, 0.5):
        assert old > 0.05
