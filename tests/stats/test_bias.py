"""abkit.stats.bias: Clarify's DPPL and DI for two models on the same requests, their change,
and the paired intervals.

Definitions checked against the SageMaker Clarify documentation
(https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-post-training-bias-metric-dppl.html:
DPPL = q'_a - q'_d; .../clarify-post-training-bias-metric-di.html: DI = q'_d / q'_a, with the
page's example of facet a predicted positive 60 % and facet d 50 % of the time). Variances are
checked against an independent numerical delta method over the multinomial cell proportions,
coverage by seeded simulation (1,000 runs: within 3 MC standard errors of 95 %, +/- 0.021).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from abkit.stats.bias import REST, bias_shift
from abkit.stats.paired import newcombe_paired_interval


def assert_json_safe(obj, path="$"):
    """Only dict / list / str / int / finite float / bool / None, and json.dumps accepts it."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, str), f"{path}: key {k!r} is not a str"
            assert_json_safe(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            assert_json_safe(v, f"{path}[{i}]")
    elif isinstance(obj, float):
        assert type(obj) is float and math.isfinite(obj), f"{path}: {obj!r}"
    else:
        assert obj is None or type(obj) in (str, int, bool), f"{path}: {type(obj)} {obj!r}"
    if path == "$":
        json.dumps(obj, allow_nan=False)


def codes(result) -> set[str]:
    return {d.code for d in result.diagnostics}


def arrays_from_cells(cells_by_group):
    """group, live, cand arrays from {group: (n11, n10, n01, n00)} (x = live, z = candidate)."""
    g, x, z = [], [], []
    for key, c in cells_by_group.items():
        for (xv, zv), k in zip(((1, 1), (1, 0), (0, 1), (0, 0)), c):
            g += [key] * int(k)
            x += [xv] * int(k)
            z += [zv] * int(k)
    return np.array(g), np.array(x, dtype=float), np.array(z, dtype=float)


# --------------------------------------------------------------------------- definitions


def test_clarify_documentation_example():
    """Clarify's DI page: a predicted 60 % positive, d 50 %: DPPL = 0.1, DI = 0.5 / 0.6."""
    group = np.array(["a"] * 10 + ["d"] * 10)
    live = np.r_[np.ones(6), np.zeros(4), np.ones(5), np.zeros(5)]
    r = bias_shift(group, live, live, reference="a")
    c = r.comparison("d")
    assert c.facet_a == "a" and c.facet_d == "d"
    assert c.dppl_live.estimate == pytest.approx(0.1)
    assert c.di_live.estimate == pytest.approx(0.5 / 0.6)
    assert c.dppl_candidate.estimate == pytest.approx(0.1)
    assert_json_safe(r.to_dict())


def test_hand_case_rates_changes_and_paired_variance():
    # A: live (1,1,1,0,0), cand (1,1,1,1,0); D: live (1,0,0,0), cand (1,1,0,0)
    group = ["A"] * 5 + ["D"] * 4
    live = [1, 1, 1, 0, 0, 1, 0, 0, 0]
    cand = [1, 1, 1, 1, 0, 1, 1, 0, 0]
    r = bias_shift(group, live, cand, reference="A", min_group_size=0)
    c = r.comparison("D")
    assert (c.q_a_live, c.q_a_candidate, c.q_d_live, c.q_d_candidate) == (0.6, 0.8, 0.25, 0.5)
    assert c.dppl_live.estimate == pytest.approx(0.35)
    assert c.dppl_candidate.estimate == pytest.approx(0.3)
    assert c.dppl_change.estimate == pytest.approx(-0.05)
    assert c.di_live.estimate == pytest.approx(0.25 / 0.6)
    assert c.di_candidate.estimate == pytest.approx(0.625)
    assert c.di_change.estimate == pytest.approx(0.625 - 0.25 / 0.6)
    # paired: per-request z - x is (0,0,0,1,0) in A and (0,1,0,0) in D (plug-in variances)
    assert c.dppl_change.se ** 2 == pytest.approx(0.16 / 5 + 0.1875 / 4)
    # unpaired DPPL of the live model: 0.6*0.4/5 + 0.25*0.75/4
    assert c.dppl_live.se ** 2 == pytest.approx(0.048 + 0.046875)
    rows = {g.group: g for g in r.groups}
    assert rows["A"].n == 5 and rows["A"].positive_candidate.count == 4
    lo, hi = proportion_confint(4, 5, alpha=0.05, method="wilson")
    assert (rows["A"].positive_candidate.ci.low, rows["A"].positive_candidate.ci.high) == \
        pytest.approx((lo, hi))
    assert r.mode == "reference" and r.reference == "A"
    assert_json_safe(r.to_dict())


def _numeric_delta_var(f, pa, pd_, na, nd, h=1e-6):
    """Delta-method variance of f(pa, pd) over the multinomial cell proportions, with a
    central-difference gradient: independent of the closed forms in abkit.stats.bias."""
    def grad(p, which):
        g = np.zeros(4)
        for k in range(4):
            e = np.zeros(4)
            e[k] = h
            if which == "a":
                g[k] = (f(p + e, pd_) - f(p - e, pd_)) / (2 * h)
            else:
                g[k] = (f(pa, p + e) - f(pa, p - e)) / (2 * h)
        return g
    ga, gd = grad(pa, "a"), grad(pd_, "d")
    ca = (np.diag(pa) - np.outer(pa, pa)) / na
    cd = (np.diag(pd_) - np.outer(pd_, pd_)) / nd
    return float(ga @ ca @ ga + gd @ cd @ gd)


def _q(p):
    return p[0] + p[1], p[0] + p[2]  # (live, candidate) positive rates from cell shares


def test_delta_variances_match_numerical_delta_method():
    cells = {"a": (310, 40, 55, 395), "d": (120, 35, 20, 325)}
    g, x, z = arrays_from_cells(cells)
    r = bias_shift(g, x, z, reference="a")
    c = r.comparison("d")
    na, nd = 800, 500
    pa, pd_ = np.array(cells["a"]) / na, np.array(cells["d"]) / nd

    def dppl_change(pa, pd_):
        (la, ca), (ld, cd) = _q(pa), _q(pd_)
        return (ca - cd) - (la - ld)

    def di_change(pa, pd_):
        (la, ca), (ld, cd) = _q(pa), _q(pd_)
        return cd / ca - ld / la

    def log_di_live(pa, pd_):
        return math.log(_q(pd_)[0] / _q(pa)[0])

    def dppl_cand(pa, pd_):
        return _q(pa)[1] - _q(pd_)[1]

    assert c.dppl_change.se ** 2 == pytest.approx(_numeric_delta_var(dppl_change, pa, pd_, na,
                                                                     nd), rel=1e-6)
    assert c.di_change.se ** 2 == pytest.approx(_numeric_delta_var(di_change, pa, pd_, na, nd),
                                                rel=1e-6)
    assert c.dppl_candidate.se ** 2 == pytest.approx(
        _numeric_delta_var(dppl_cand, pa, pd_, na, nd), rel=1e-6)
    # DI of one model: log-scale interval
    se_log = math.sqrt(_numeric_delta_var(log_di_live, pa, pd_, na, nd))
    di = c.di_live.estimate
    z975 = stats.norm.ppf(0.975)
    assert c.di_live.ci.low == pytest.approx(di * math.exp(-z975 * se_log), rel=1e-6)
    assert c.di_live.ci.high == pytest.approx(di * math.exp(z975 * se_log), rel=1e-6)
    assert c.di_live.pvalue == pytest.approx(2 * stats.norm.sf(abs(math.log(di)) / se_log),
                                             rel=1e-6)


# --------------------------------------------------------------------------- simulations

# true cell probabilities (x, z) = (1,1), (1,0), (0,1), (0,0) per facet
P_A = np.array([0.45, 0.05, 0.08, 0.42])   # q_live 0.50, q_cand 0.53
P_D = np.array([0.30, 0.06, 0.03, 0.61])   # q_live 0.36, q_cand 0.33
TRUE = {
    "dppl_change": (0.53 - 0.33) - (0.50 - 0.36),
    "di_change": 0.33 / 0.53 - 0.36 / 0.50,
    "dppl_live": 0.50 - 0.36,
    "di_live": 0.36 / 0.50,
}


def _simulate(rng, method="delta", n_a=1500, n_d=800, **kw):
    g, x, z = arrays_from_cells({0: rng.multinomial(n_a, P_A), 1: rng.multinomial(n_d, P_D)})
    return bias_shift(g, x, z, reference=0, method=method, **kw).comparison(1)


def test_delta_coverage_and_unpaired_negative_control():
    """1,000 seeded runs (facets of 1,500 and 800 requests; the two models agree on 87 % and
    91 % of them). The paired delta intervals of the DPPL and DI changes and the per-model
    intervals cover within MC error. Negative control: an interval for the DPPL change that
    ignores the pairing (variance = var(DPPL_live) + var(DPPL_cand)) is about twice as wide
    and covers ~100 % -- the test tells them apart."""
    rng = np.random.default_rng(123)
    runs = 1000
    hits = dict.fromkeys(TRUE, 0)
    unpaired_hits = 0
    width_ratio = []
    z975 = stats.norm.ppf(0.975)
    for _ in range(runs):
        c = _simulate(rng)
        for key, true in TRUE.items():
            ci = getattr(c, key).ci
            hits[key] += ci.low <= true <= ci.high
        se_u = math.hypot(c.dppl_live.se, c.dppl_candidate.se)
        est = c.dppl_change.estimate
        unpaired_hits += est - z975 * se_u <= TRUE["dppl_change"] <= est + z975 * se_u
        width_ratio.append(se_u / c.dppl_change.se)
    for key, h in hits.items():
        assert abs(h / runs - 0.95) <= 0.021, (key, h)
    assert unpaired_hits / runs > 0.995
    assert np.median(width_ratio) > 1.8


def test_bootstrap_coverage_and_agreement_with_delta():
    """300 seeded runs with 1,000 paired resamples each: percentile intervals cover within
    MC error (3 se at 300 runs: +/- 0.038), and on one large data set the bootstrap standard
    errors (4,000 resamples) agree with the delta method's within 10 %."""
    rng = np.random.default_rng(321)
    runs = 300
    hits = dict.fromkeys(TRUE, 0)
    for i in range(runs):
        c = _simulate(rng, "bootstrap", n_resamples=1000, seed=i)
        for key, true in TRUE.items():
            ci = getattr(c, key).ci
            hits[key] += ci.low <= true <= ci.high
    for key, h in hits.items():
        assert abs(h / runs - 0.95) <= 0.038, (key, h)
    d = _simulate(np.random.default_rng(5), "delta")
    b = _simulate(np.random.default_rng(5), "bootstrap", n_resamples=4000, seed=1)
    assert b.dppl_change.estimate == d.dppl_change.estimate
    for key in ("dppl_change", "di_change", "dppl_live", "di_live"):
        assert getattr(b, key).se == pytest.approx(getattr(d, key).se, rel=0.1)


def test_bootstrap_is_reproducible_and_seeded():
    rng = np.random.default_rng(9)
    g, x, z = arrays_from_cells({0: rng.multinomial(600, P_A), 1: rng.multinomial(300, P_D)})
    r1 = bias_shift(g, x, z, reference=0, method="bootstrap", seed=3)
    r2 = bias_shift(g, x, z, reference=0, method="bootstrap", seed=3)
    r3 = bias_shift(g, x, z, reference=0, method="bootstrap", seed=4)
    assert r1.to_dict() == r2.to_dict()
    assert r1.comparison(1).dppl_change.ci != r3.comparison(1).dppl_change.ci
    d = r1.to_dict()
    assert d["method"] == "bootstrap" and d["n_resamples"] == 2000 and d["seed"] == 3
    assert_json_safe(d)


# --------------------------------------------------------------------------- modes and labels


def test_one_vs_rest_mode():
    cells = {"x": (50, 10, 5, 35), "y": (20, 5, 10, 65), "z": (30, 0, 0, 70)}
    g, live, cand = arrays_from_cells(cells)
    r = bias_shift(g, live, cand)
    assert r.mode == "one-vs-rest" and r.reference is None
    assert [c.facet_d for c in r.comparisons] == ["x", "y", "z"]
    c = r.comparison("y")
    assert c.facet_a == REST and c.n_a == 200 and c.n_d == 100
    q_rest_live = (50 + 10 + 30) / 200
    assert c.q_a_live == pytest.approx(q_rest_live)
    assert c.dppl_live.estimate == pytest.approx(q_rest_live - 0.25)
    assert_json_safe(r.to_dict())


def test_per_group_accuracy_with_labels():
    group = np.array([1, 1, 1, 1, 2, 2, 2, 2, 2])
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0, np.nan])
    live = np.array([0.9, 0.8, 0.2, 0.1, 0.7, 0.4, 0.3, 0.6, 0.5])
    cand = np.array([0.9, 0.1, 0.7, 0.1, 0.8, 0.6, 0.2, 0.7, 0.5])
    r = bias_shift(group, live, cand, y, reference=1)
    rows = {g.group: g for g in r.groups}
    # group 1: live correct (T, F, F, T) = 2/4, candidate (T, T, T, T) = 4/4
    assert rows[1].accuracy_live.count == 2 and rows[1].accuracy_candidate.count == 4
    assert rows[1].accuracy_change == pytest.approx(0.5)
    assert rows[1].accuracy_change_ci == newcombe_paired_interval(2, 2, 0, 0)
    # group 2 (4 labelled): live (T, F, T, F), candidate (T, T, T, F)
    assert rows[2].n == 5 and rows[2].n_labelled == 4
    assert rows[2].accuracy_live.count == 2 and rows[2].accuracy_candidate.count == 3
    assert_json_safe(r.to_dict())


# --------------------------------------------------------------------------- edge cases


def test_zero_positives_in_reference_group():
    cells = {"a": (0, 0, 0, 40), "d": (10, 2, 3, 25)}
    g, x, z = arrays_from_cells(cells)
    for method in ("delta", "bootstrap"):
        c = bias_shift(g, x, z, reference="a", method=method).comparison("d")
        assert c.di_live.estimate is None and c.di_candidate.estimate is None
        assert c.di_change.estimate is None and c.di_change.ci is None
        assert "ZERO_REFERENCE_POSITIVES" in codes(c)
        assert c.dppl_live.estimate == pytest.approx(-12 / 40)
        assert_json_safe(c.to_dict())


def test_zero_positives_in_reference_for_one_model_only():
    cells = {"a": (0, 0, 6, 34), "d": (10, 2, 3, 25)}  # live never positive in a
    g, x, z = arrays_from_cells(cells)
    c = bias_shift(g, x, z, reference="a").comparison("d")
    assert c.di_live.estimate is None and c.di_candidate.estimate is not None
    assert c.di_change.estimate is None and "ZERO_REFERENCE_POSITIVES" in codes(c)


def test_bootstrap_rare_reference_positives_withholds_interval():
    cells = {"a": (1, 0, 0, 199), "d": (10, 2, 3, 25)}  # q_a = 0.005: many empty resamples
    g, x, z = arrays_from_cells(cells)
    c = bias_shift(g, x, z, reference="a", method="bootstrap").comparison("d")
    assert c.di_live.estimate is not None and c.di_live.ci is None
    assert "BOOTSTRAP_UNDEFINED" in codes(c)
    assert_json_safe(c.to_dict())


def test_zero_positives_in_facet_d():
    cells = {"a": (10, 2, 3, 25), "d": (0, 0, 0, 30)}
    g, x, z = arrays_from_cells(cells)
    c = bias_shift(g, x, z, reference="a").comparison("d")
    assert c.di_live.estimate == 0.0 and c.di_live.ci is None and "DI_ZERO" in codes(c)
    assert c.di_change.estimate == 0.0
    assert_json_safe(c.to_dict())


def test_identical_models():
    cells = {"a": (40, 0, 0, 60), "d": (25, 0, 0, 75)}
    g, x, z = arrays_from_cells(cells)
    for method in ("delta", "bootstrap"):
        c = bias_shift(g, x, z, reference="a", method=method).comparison("d")
        assert c.dppl_change.estimate == 0.0 and c.dppl_change.ci is None
        assert c.dppl_change.pvalue is None
        assert c.di_change.estimate == 0.0 and c.di_change.ci is None
        assert "ZERO_VARIANCE" in codes(c)
        assert c.dppl_live.ci is not None and c.di_live.ci is not None
        assert_json_safe(c.to_dict())


def test_empty_group_and_missing_reference():
    g, x, z = arrays_from_cells({"a": (10, 2, 3, 25), "d": (5, 1, 1, 13)})
    r = bias_shift(g, x, z, reference="a", groups=["a", "d", "e"])
    rows = {row.group: row for row in r.groups}
    assert rows["e"].n == 0 and rows["e"].positive_live.estimate is None
    assert "EMPTY_GROUP" in codes(rows["e"])
    ce = r.comparison("e")
    assert ce.dppl_live.estimate is None and "EMPTY_GROUP" in codes(ce)
    assert_json_safe(r.to_dict())
    r2 = bias_shift(g, x, z, reference="zz")
    assert "EMPTY_REFERENCE_GROUP" in codes(r2)
    assert all(c.dppl_live.estimate is None for c in r2.comparisons)
    assert_json_safe(r2.to_dict())


def test_single_group_and_no_requests():
    g, x, z = arrays_from_cells({"a": (10, 2, 3, 25)})
    r = bias_shift(g, x, z)
    assert "SINGLE_GROUP" in codes(r)
    assert r.comparisons[0].dppl_live.estimate is None
    assert_json_safe(r.to_dict())
    e = bias_shift([], [], [])
    assert e.n == 0 and "NO_PAIRS" in codes(e) and e.groups == () and e.comparisons == ()
    assert_json_safe(e.to_dict())


def test_tiny_groups():
    r = bias_shift(["a", "a", "d"], [1, 0, 1], [1, 1, 0], reference="a")
    c = r.comparison("d")
    assert c.dppl_live.estimate == pytest.approx(-0.5) and c.dppl_live.ci is None
    assert "GROUP_TOO_SMALL" in codes(c)
    assert_json_safe(r.to_dict())
    g, x, z = arrays_from_cells({"a": (10, 2, 3, 5), "d": (5, 1, 1, 3)})
    small = bias_shift(g, x, z, reference="a").comparison("d")
    assert "SMALL_GROUP" in codes(small) and small.dppl_change.ci is not None


def test_group_values_missing_mixed_and_numeric():
    group = np.array(["a", None, "b", float("nan"), 3, "a", "b", 3], dtype=object)
    live = np.array([0.9, 0.2, 0.1, 0.8, 0.6, 0.4, 0.7, 0.2])
    cand = np.array([0.8, 0.3, 0.2, 0.7, 0.7, 0.6, 0.3, 0.1])
    r = bias_shift(group, live, cand, reference="a")
    assert "MISSING_GROUP" in codes(r) and r.n == 6
    assert sorted(str(g.group) for g in r.groups) == ["3", "a", "b"]
    assert_json_safe(r.to_dict())
    fl = bias_shift(np.array([1.0, 2.0, np.nan, 1.0]), [0.9, 0.1, 0.5, 0.2],
                    [0.9, 0.6, 0.5, 0.2], reference=1)
    assert [g.group for g in fl.groups] == [1, 2] and "MISSING_GROUP" in codes(fl)
    nf = bias_shift(["a", "b", "a"], [0.9, np.nan, 0.1], [0.8, 0.5, 0.2])
    assert "NON_FINITE_DROPPED" in codes(nf) and nf.n == 2
    assert_json_safe(nf.to_dict())


def test_labels_absent_or_missing_in_a_group():
    g, x, z = arrays_from_cells({"a": (10, 2, 3, 25), "d": (5, 1, 1, 13)})
    r = bias_shift(g, x, z, reference="a")
    assert all(row.accuracy_live is None for row in r.groups)
    y = np.where(g == "a", 1.0, np.nan)
    r2 = bias_shift(g, x, z, y, reference="a")
    rows = {row.group: row for row in r2.groups}
    assert rows["a"].accuracy_live is not None
    assert rows["d"].accuracy_live is None and "NO_LABELS" in codes(rows["d"])
    assert_json_safe(r2.to_dict())


def test_argument_errors():
    with pytest.raises(ValueError, match="method"):
        bias_shift(["a"], [1], [1], method="jackknife")
    with pytest.raises(ValueError, match="elements"):
        bias_shift(["a", "b"], [1], [1])
    with pytest.raises(ValueError, match="n_resamples"):
        bias_shift(["a"], [1], [1], method="bootstrap", n_resamples=10)
    with pytest.raises(ValueError, match="confidence_level"):
        bias_shift(["a"], [1], [1], confidence_level=95)
    with pytest.raises(ValueError, match="0 / 1"):
        bias_shift(["a"], [1], [1], y=[3])


def test_reference_only_group():
    r = bias_shift(["a", "a", "a"], [1, 0, 1], [1, 1, 1], reference="a")
    assert r.comparisons == () and "SINGLE_GROUP" in codes(r)
    assert_json_safe(r.to_dict())
