"""abkit.stats against independent reference values, plus every edge-case diagnostic.

The reference numbers live in ``tests/stats/reference/stats_reference.json`` and were produced by
``tests/stats/reference/make_reference.py`` with numpy / scipy / statsmodels only (abkit is never
imported there). Each JSON case carries a ``source`` string naming the exact call behind it;
the docstring of each test below repeats it.

Tolerance: ``rel=1e-9`` throughout. abkit and the reference compute the same algebra but with
different floating-point orderings (abkit: centred co-moments ``c.T @ c`` and Chan merges;
reference: ``np.var`` / ``np.cov`` on concatenations), so agreement is expected to ~1e-13;
1e-9 leaves margin for the amplification of those rounding differences through t / normal
tail functions, and would still catch any algebraic mistake (those show up at >= 1e-4).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from abkit.stats import (
    Estimand,
    MomentStats,
    adjust_pvalues,
    compare,
    noninferiority_pvalue,
    srm_test,
)

REF_PATH = Path(__file__).parent / "reference" / "stats_reference.json"
REF = json.loads(REF_PATH.read_text())
REL = 1e-9

MEAN0 = Estimand("mean", (0,))
RATIO01 = Estimand("ratio", (0, 1))


def _ids(cases):
    return [c["name"] for c in cases]


def _codes(comparison) -> list[str]:
    return [d.code for d in comparison.diagnostics]


def assert_block(got, exp, rel=REL, what=""):
    """Compare an EffectEstimate with a reference block (``None`` = undefined)."""
    if exp is None:
        assert got.estimate is None, what
        assert got.se is None and got.ci is None and got.pvalue is None, what
        return
    assert got.estimate == pytest.approx(exp["estimate"], rel=rel), f"{what} estimate"
    assert got.se == pytest.approx(exp["se"], rel=rel), f"{what} se"
    assert got.ci is not None, what
    assert got.ci.low == pytest.approx(exp["ci_low"], rel=rel), f"{what} ci.low"
    assert got.ci.high == pytest.approx(exp["ci_high"], rel=rel), f"{what} ci.high"
    assert got.pvalue == pytest.approx(exp["pvalue"], rel=rel), f"{what} pvalue"
    if exp["df"] is None:
        assert got.df is None, f"{what} df should be None (normal theory)"
    else:
        assert got.df == pytest.approx(exp["df"], rel=rel), f"{what} df"
    if got.statistic is not None:
        assert got.statistic == pytest.approx(exp["statistic"], rel=rel), f"{what} statistic"


def arr(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def stats_of(columns: dict, names) -> MomentStats:
    return MomentStats.from_array(np.column_stack([arr(columns[k]) for k in names]))


# --------------------------------------------------------------------------------------
# Welch: means and proportions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["welch"], ids=_ids(REF["welch"]))
def test_welch_reference(case):
    """Absolute: scipy.stats.ttest_ind(t, c, equal_var=False) (+ .confidence_interval(level),
    .df); se = sqrt(var_t/n_t + var_c/n_c). Relative: delta method by formula in numpy,
    se = sqrt(v_t/(n_t m_c^2) + m_t^2 v_c/(n_c m_c^4)), Student t ci/p with the absolute
    effect's Welch df (scipy.stats.t). ``binary=False``: the 0/1 cases test Welch's formula;
    the few-events exact test is tested in test_exact.py.

    Cases: clear effect, A/A null, n = 30 per arm, 0/1 control with no conversions, mean metric
    with an all-zero control, 90/10 split, proportions, negative control mean, levels 0.90/0.99.
    """
    exp = case["expected"]
    c = MomentStats.from_array(arr(case["data"]["control"]))
    t = MomentStats.from_array(arr(case["data"]["treatment"]))
    res = compare(c, t, MEAN0, test="welch", confidence_level=case["confidence_level"],
                  binary=False)

    assert res.control_value == pytest.approx(exp["control_value"], rel=REL, abs=0)
    assert res.treatment_value == pytest.approx(exp["treatment_value"], rel=REL)
    assert_block(res.absolute, exp["absolute"], what="absolute")
    assert_block(res.relative, exp["relative"], what="relative")
    assert sorted(_codes(res)) == sorted(exp["diagnostics"])
    assert res.method == "welch"
    assert res.theta is None and res.variance_reduction is None


def test_three_arms_reference():
    """Each treatment vs the shared control: scipy.stats.ttest_ind(t, c, equal_var=False);
    relative: delta method by formula; the two p-values adjusted with
    statsmodels.stats.multitest.multipletests([p_a, p_b], method='holm')[1]."""
    case = REF["three_arms"]
    data = case["data"]
    c = MomentStats.from_array(arr(data["control"]))
    pvals = []
    for label in ("treatment_a", "treatment_b"):
        exp = case["expected"]["comparisons"][label]
        res = compare(c, MomentStats.from_array(arr(data[label])), MEAN0)
        assert res.control_value == pytest.approx(exp["control_value"], rel=REL)
        assert res.treatment_value == pytest.approx(exp["treatment_value"], rel=REL)
        assert_block(res.absolute, exp["absolute"], what=f"{label} absolute")
        assert_block(res.relative, exp["relative"], what=f"{label} relative")
        assert res.diagnostics == ()
        pvals.append(res.absolute.pvalue)
    assert adjust_pvalues(pvals, "holm") == pytest.approx(
        case["expected"]["holm_adjusted"], rel=REL
    )


# --------------------------------------------------------------------------------------
# Ratio metric (delta method)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["ratio"], ids=_ids(REF["ratio"]))
def test_ratio_reference(case):
    """Delta method by formula in numpy: R = mean(N)/mean(D), var(R) = (v_N - 2 R c_ND +
    R^2 v_D)/(n mean(D)^2) (np.cov, ddof=1), estimate R_t - R_c, normal ci/p (scipy.stats.norm).
    Relative: se = sqrt(var(R_t)/R_c^2 + R_t^2 var(R_c)/R_c^4). (The generator asserts the
    delta variance against a bootstrap and a Monte Carlo as a sanity check.)"""
    exp = case["expected"]
    c = stats_of(case["data"]["control"], ("N", "D"))
    t = stats_of(case["data"]["treatment"], ("N", "D"))
    res = compare(c, t, RATIO01, test="z", confidence_level=case["confidence_level"])
    assert res.method == "delta-z"
    assert res.control_value == pytest.approx(exp["control_value"], rel=REL)
    assert res.treatment_value == pytest.approx(exp["treatment_value"], rel=REL)
    assert_block(res.absolute, exp["absolute"], what="absolute")
    assert_block(res.relative, exp["relative"], what="relative")
    assert res.absolute.se**2 == pytest.approx(exp["var_control"] + exp["var_treatment"], rel=REL)
    assert sorted(_codes(res)) == sorted(exp["diagnostics"])


# --------------------------------------------------------------------------------------
# CUPED
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["cuped_mean"], ids=_ids(REF["cuped_mean"]))
def test_cuped_mean_reference(case):
    """theta = np.cov(Y_pooled, X_pooled)[0,1]/[1,1] over both arms concatenated; absolute =
    scipy.stats.ttest_ind(Y_t - theta X_t, Y_c - theta X_c, equal_var=False) with
    .confidence_interval(level) and Welch df on the adjusted values; relative = delta method in
    numpy (theta fixed) over the unadjusted control mean; variance_reduction =
    1 - se_adj^2/se_unadj^2."""
    exp = case["expected"]
    c = stats_of(case["data"]["control"], ("Y", "X"))
    t = stats_of(case["data"]["treatment"], ("Y", "X"))
    res = compare(c, t, MEAN0, Estimand("mean", (1,)), test="welch",
                  confidence_level=case["confidence_level"])
    assert res.theta == pytest.approx(exp["theta"], rel=REL)
    assert res.control_value == pytest.approx(exp["control_value"], rel=REL)
    assert res.treatment_value == pytest.approx(exp["treatment_value"], rel=REL)
    assert_block(res.absolute, exp["absolute"], what="absolute")
    assert_block(res.relative, exp["relative"], what="relative")
    assert res.variance_reduction == pytest.approx(exp["variance_reduction"], rel=REL)
    assert sorted(_codes(res)) == sorted(exp["diagnostics"])

    # Without the covariate the same data give the plain Welch test (scipy on Y alone).
    plain = compare(c.select([0]), t.select([0]), MEAN0)
    assert_block(plain.absolute, exp["unadjusted_absolute"], what="unadjusted")


@pytest.mark.parametrize("case", REF["cuped_ratio"], ids=_ids(REF["cuped_ratio"]))
def test_cuped_ratio_reference(case):
    """Linearisation by hand in numpy: pooled L = (N - R D)/mean(D); M = X or the linearised
    pre-period ratio; theta = np.cov(L, M)[0,1]/[1,1]; effect = (R_t - R_c) - theta (g_t - g_c);
    per-arm var(L_a - theta M_a)/n_a; normal ci/p (scipy.stats.norm). Relative: delta method
    in numpy with theta fixed, over the unadjusted control ratio."""
    exp = case["expected"]
    names = ("N", "D", "N0", "D0")
    c = stats_of(case["data"]["control"], names)
    t = stats_of(case["data"]["treatment"], names)
    if case["covariate"] == "mean_covariate":
        covariate = Estimand("mean", (2,))
    else:
        covariate = Estimand("ratio", (2, 3))
    res = compare(c, t, RATIO01, covariate, test="z", confidence_level=case["confidence_level"])
    assert res.theta == pytest.approx(exp["theta"], rel=REL)
    assert res.control_value == pytest.approx(exp["control_value"], rel=REL)
    assert res.treatment_value == pytest.approx(exp["treatment_value"], rel=REL)
    assert_block(res.absolute, exp["absolute"], what="absolute")
    assert_block(res.relative, exp["relative"], what="relative")
    assert res.variance_reduction == pytest.approx(exp["variance_reduction"], rel=REL)
    assert sorted(_codes(res)) == sorted(exp["diagnostics"])


# --------------------------------------------------------------------------------------
# SRM, multiple testing, non-inferiority
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REF["srm"], ids=_ids(REF["srm"]))
def test_srm_reference(case):
    """scipy.stats.chisquare(obs, f_exp=shares/sum(shares) * obs.sum()); passed = p >= threshold."""
    exp = case["expected"]
    res = srm_test(case["observed"], case["expected_shares"], threshold=case["threshold"])
    assert res.statistic == pytest.approx(exp["statistic"], rel=REL)
    assert res.pvalue == pytest.approx(exp["pvalue"], rel=REL)
    assert res.df == exp["df"]
    assert res.passed is exp["passed"]


@pytest.mark.parametrize("case", REF["multitest"], ids=_ids(REF["multitest"]))
@pytest.mark.parametrize("method", ["none", "bonferroni", "holm", "bh"])
def test_multitest_reference(case, method):
    """statsmodels.stats.multitest.multipletests(p, method='bonferroni'|'holm'|'fdr_bh')[1]
    on the non-None p-values; None entries stay None in place."""
    got = adjust_pvalues(case["pvalues"], method)
    exp = case["expected"][method]
    assert len(got) == len(exp)
    for g, e in zip(got, exp):
        if e is None:
            assert g is None
        else:
            assert g == pytest.approx(e, rel=REL)


def test_multitest_unknown_method():
    with pytest.raises(ValueError):
        adjust_pvalues([0.1, 0.2], "fdr_by")  # type: ignore[arg-type]


@pytest.mark.parametrize("case", REF["noninferiority"], ids=_ids(REF["noninferiority"]))
def test_noninferiority_reference(case):
    """Mean metrics: scipy.stats.ttest_ind(t - margin, c, equal_var=False,
    alternative='greater').pvalue (harmful increase) or ttest_ind(t + margin, c,
    equal_var=False, alternative='less').pvalue (harmful decrease). Ratio metrics:
    scipy.stats.norm.sf((harm - margin)/se) with the delta-method se of the ratio case."""
    if case["metric"] == "mean":
        c = MomentStats.from_array(arr(case["data"]["control"]))
        t = MomentStats.from_array(arr(case["data"]["treatment"]))
        comp = compare(c, t, MEAN0, test="welch")
    else:
        (rc,) = [r for r in REF["ratio"] if r["name"] == case["uses_case"]]
        comp = compare(
            stats_of(rc["data"]["control"], ("N", "D")),
            stats_of(rc["data"]["treatment"], ("N", "D")),
            RATIO01,
            test="z",
        )
    p = noninferiority_pvalue(comp, case["margin_abs"], case["harmful"])
    assert p == pytest.approx(case["expected"]["pvalue"], rel=REL)


def test_reference_file_metadata():
    """The reference was produced by the generator script, without abkit."""
    assert REF["meta"]["generated_by"] == "tests/stats/reference/make_reference.py"
    gen = (REF_PATH.parent / "make_reference.py").read_text()
    assert "import abkit" not in gen and "from abkit" not in gen


# --------------------------------------------------------------------------------------
# Edge cases and diagnostics
# --------------------------------------------------------------------------------------


def _cmp(c, t, metric=MEAN0, covariate=None, test="welch", binary=None):
    return compare(MomentStats.from_array(arr(c)), MomentStats.from_array(arr(t)), metric,
                   covariate, test=test, binary=binary)


def test_zero_control_mean_proportion():
    """0/1 control without conversions: absolute = scipy.stats.ttest_ind(t, c,
    equal_var=False) (df = n_t - 1 because the control has no variance); relative undefined.
    ``binary=False`` (Welch's formula); by default 4 vs 0 events take the exact test
    (test_exact.py)."""
    c = np.zeros(50)
    t = np.r_[np.ones(4), np.zeros(46)]
    res = _cmp(c, t, binary=False)
    ref = st.ttest_ind(t, c, equal_var=False)
    assert res.absolute.estimate == pytest.approx(0.08, rel=REL)
    assert res.absolute.pvalue == pytest.approx(ref.pvalue, rel=REL)
    assert res.absolute.df == pytest.approx(ref.df, rel=REL) and ref.df == pytest.approx(49)
    assert res.relative.estimate is None and res.relative.pvalue is None
    assert _codes(res) == ["ZERO_CONTROL_MEAN"]
    assert res.has("ZERO_CONTROL_MEAN")


def test_negative_control_mean():
    """Relative effect over a negative control mean is undefined; absolute still reported
    (scipy.stats.ttest_ind(t, c, equal_var=False))."""
    c, t = np.array([-3.0, -1.0, -2.0, -2.5]), np.array([-1.0, 0.5, -0.5])
    res = _cmp(c, t)
    assert res.absolute.pvalue == pytest.approx(st.ttest_ind(t, c, equal_var=False).pvalue, rel=REL)
    assert res.relative.estimate is None
    assert _codes(res) == ["NEGATIVE_CONTROL_MEAN"]


@pytest.mark.parametrize(
    "c, t",
    [([4.0], [1.0, 2.0, 6.0]), ([1.0, 2.0, 6.0], [7.0]), ([3.0], [5.5])],
    ids=["control_1", "treatment_1", "both_1"],
)
def test_too_few_units(c, t):
    """An arm with a single unit: the difference of means exists, its uncertainty does not."""
    res = _cmp(c, t)
    assert res.absolute.estimate == pytest.approx(np.mean(t) - np.mean(c), rel=REL)
    assert res.absolute.se is None and res.absolute.ci is None and res.absolute.pvalue is None
    assert "TOO_FEW_UNITS" in _codes(res)
    assert noninferiority_pvalue(res, 1.0, "increase") is None


@pytest.mark.parametrize("which", ["control", "treatment"])
def test_empty_arm(which):
    data = np.array([1.0, 2.0, 3.0])
    empty = np.array([])
    c, t = (empty, data) if which == "control" else (data, empty)
    res = _cmp(c, t)
    assert res.absolute.estimate is None and res.relative.estimate is None
    assert _codes(res) == ["EMPTY_ARM"]
    assert (res.control_value is None) == (which == "control")
    assert (res.treatment_value is None) == (which == "treatment")
    assert noninferiority_pvalue(res, 0.0, "increase") is None
    # MomentStats.empty behaves the same as from_array([])
    res2 = compare(MomentStats.empty(1), MomentStats.from_array(data), MEAN0)
    assert _codes(res2) == ["EMPTY_ARM"]


@pytest.mark.parametrize(
    "c, t, p",
    [([5.0] * 4, [5.0] * 7, 1.0), ([5.0] * 4, [6.0] * 3, 0.0), ([0.0, 0.0], [0.0, 0.0], 1.0)],
    ids=["equal", "different", "all_zero"],
)
def test_zero_variance(c, t, p):
    """No spread in either arm (exactly representable constants): p = 1 if equal, else 0."""
    res = _cmp(c, t)
    assert "ZERO_VARIANCE" in _codes(res)
    assert res.absolute.estimate == np.mean(t) - np.mean(c)
    assert res.absolute.se == 0.0
    assert res.absolute.pvalue == p
    assert res.absolute.ci.low == res.absolute.ci.high == res.absolute.estimate


def test_zero_variance_ratio():
    """Every unit has the same N/D = 0.5 in both arms: the linearised ratio has no variance."""
    c = np.column_stack([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    t = np.column_stack([[4.0, 1.0], [8.0, 2.0]])
    res = compare(MomentStats.from_array(c), MomentStats.from_array(t), RATIO01, test="z")
    assert "ZERO_VARIANCE" in _codes(res)
    assert res.absolute.estimate == pytest.approx(0.0, abs=1e-15)
    assert res.absolute.pvalue == pytest.approx(1.0)


def test_zero_variance_inexact_constant():
    """Both arms are constant 0.1 (1000 vs 999 units): the arms are identical, so the result
    must be ZERO_VARIANCE with p = 1 (and certainly not a significant difference).

    0.1 is not exactly representable, so the centred values are ~1e-17 rather than 0 and a
    naive implementation reports p ~ 1e-152 here (abkit did until its rounding-noise guard).
    """
    res = _cmp(np.full(1000, 0.1), np.full(999, 0.1))
    assert res.absolute.pvalue == 1.0
    assert "ZERO_VARIANCE" in _codes(res)
    # different inexact constants: a point difference with p = 0
    res = _cmp(np.full(1000, 0.1), np.full(1000, 0.3))
    assert "ZERO_VARIANCE" in _codes(res)
    assert res.absolute.pvalue == 0.0
    assert res.absolute.estimate == pytest.approx(0.2, rel=1e-12)


@pytest.mark.parametrize("where", ["control", "treatment", "both"])
def test_zero_denominator(where):
    zero = np.column_stack([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    ok = np.column_stack([[1.0, 1.0, 3.0], [2.0, 3.0, 4.0]])
    c = zero if where in ("control", "both") else ok
    t = zero if where in ("treatment", "both") else ok
    res = compare(MomentStats.from_array(c), MomentStats.from_array(t), RATIO01, test="z")
    assert _codes(res) == ["ZERO_DENOMINATOR"]
    assert res.absolute.estimate is None and res.relative.estimate is None
    assert (res.control_value is None) == (where in ("control", "both"))
    assert (res.treatment_value is None) == (where in ("treatment", "both"))


def test_covariate_zero_variance():
    """A covariate that is exactly constant across both arms: theta = 0, and the result equals
    the unadjusted scipy.stats.ttest_ind(Y_t, Y_c, equal_var=False)."""
    rng = np.random.default_rng(7)
    yc, yt = np.round(rng.normal(10, 2, 40), 3), np.round(rng.normal(11, 2, 35), 3)
    c = np.column_stack([yc, np.full(40, 3.0)])
    t = np.column_stack([yt, np.full(35, 3.0)])
    res = compare(MomentStats.from_array(c), MomentStats.from_array(t), MEAN0,
                  Estimand("mean", (1,)))
    assert _codes(res) == ["COVARIATE_ZERO_VARIANCE"]
    assert res.theta == 0.0
    ref = st.ttest_ind(yt, yc, equal_var=False)
    assert res.absolute.estimate == pytest.approx(yt.mean() - yc.mean(), rel=REL)
    assert res.absolute.pvalue == pytest.approx(ref.pvalue, rel=REL)
    assert res.absolute.df == pytest.approx(ref.df, rel=REL)


def test_covariate_zero_variance_inexact_constant():
    """Same as above with the constant 0.1 (not exactly representable) and 1000/999 units:
    the covariate's rounding-noise variance (~1e-35) must not produce theta = noise/noise."""
    rng = np.random.default_rng(0)
    c = np.column_stack([rng.normal(size=1000), np.full(1000, 0.1)])
    t = np.column_stack([rng.normal(size=999), np.full(999, 0.1)])
    res = compare(MomentStats.from_array(c), MomentStats.from_array(t), MEAN0,
                  Estimand("mean", (1,)))
    assert res.theta == 0.0
    assert "COVARIATE_ZERO_VARIANCE" in _codes(res)
    ref = st.ttest_ind(t[:, 0], c[:, 0], equal_var=False)
    assert res.absolute.pvalue == pytest.approx(ref.pvalue, rel=REL)


def test_covariate_undefined_ratio_covariate():
    """A ratio covariate whose denominator has mean 0: CUPED is not applied (theta = 0)."""
    rng = np.random.default_rng(3)
    def arm(n):
        return np.column_stack([rng.normal(5, 1, n), rng.normal(1, 0.5, n), np.zeros(n)])
    c, t = arm(30), arm(25)
    res = compare(MomentStats.from_array(c), MomentStats.from_array(t), MEAN0,
                  Estimand("ratio", (1, 2)))
    assert "COVARIATE_UNDEFINED" in _codes(res)
    assert res.theta == 0.0
    ref = st.ttest_ind(t[:, 0], c[:, 0], equal_var=False)
    assert res.absolute.pvalue == pytest.approx(ref.pvalue, rel=REL)


def test_srm_degenerate():
    """A single variant or no units: nothing to test, p is None and the check passes."""
    assert srm_test({"a": 10}, {"a": 1.0}).pvalue is None
    r = srm_test({"a": 0, "b": 0}, {"a": 0.5, "b": 0.5})
    assert r.pvalue is None and r.passed
    # a designed variant with no observed units counts as 0 (scipy.stats.chisquare)
    r = srm_test({"a": 100}, {"a": 0.5, "b": 0.5})
    ref = st.chisquare([100, 0], f_exp=[50, 50])
    assert r.pvalue == pytest.approx(ref.pvalue, rel=REL) and not r.passed


def test_noninferiority_zero_se():
    """Degenerate se = 0: the p-value is 0 when the harm exceeds the margin, else 1."""
    res = _cmp([5.0] * 4, [6.0] * 4)
    assert noninferiority_pvalue(res, 0.5, "increase") == 0.0
    assert noninferiority_pvalue(res, 2.0, "increase") == 1.0
    assert noninferiority_pvalue(res, 0.5, "decrease") == 1.0
    assert math.isfinite(noninferiority_pvalue(res, 1.0, "increase"))
