"""Drift measures (abkit.stats.drift): scipy references computed live, calibration, onset, edges."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from abkit.stats.drift import (
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    DriftThresholds,
    chi2_drift,
    drift,
    drift_onset,
    drift_table,
    js_drift,
    ks_drift,
    psi_drift,
    wasserstein_drift,
)


def _codes(res) -> set[str]:
    return {d.code for d in res.diagnostics}


def _cats(rng, shares, n, labels="abcdefghij"):
    return rng.choice(np.array(list(labels[: len(shares)])), p=shares, size=n)


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("n_r,n_c", [(30, 25), (400, 700), (5000, 3000)])
def test_ks_matches_scipy(n_r, n_c):
    rng = np.random.default_rng(n_r)
    r, c = rng.normal(size=n_r), rng.normal(0.2, 1.1, size=n_c)
    res = ks_drift(r, c)
    ref = stats.ks_2samp(r, c)  # the reference: scipy's two-sample KS, method="auto"
    assert res.statistic == pytest.approx(ref.statistic, abs=1e-15)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.effect_size == res.statistic and res.effect_floor == 0.1
    assert (res.n_reference, res.n_current) == (n_r, n_c)


def test_chi2_matches_scipy_contingency():
    rng = np.random.default_rng(1)
    r = _cats(rng, [0.5, 0.3, 0.2], 900)
    c = _cats(rng, [0.45, 0.3, 0.25], 700)
    res = chi2_drift(r, c)
    table = np.array([[np.sum(r == k) for k in "abc"], [np.sum(c == k) for k in "abc"]])
    stat, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.pvalue == pytest.approx(p, rel=1e-10)
    shares = table / table.sum(axis=1, keepdims=True)
    assert res.effect_size == pytest.approx(0.5 * np.abs(shares[0] - shares[1]).sum())
    # negative control: with Yates' correction (scipy's default for 2 x 2 only) a 2 x 2
    # table gives a different statistic; abkit does not correct
    r2, c2 = r[r != "c"], c[c != "c"]
    t2 = np.array([[np.sum(r2 == k) for k in "ab"], [np.sum(c2 == k) for k in "ab"]])
    res2 = chi2_drift(r2, c2)
    assert res2.statistic == pytest.approx(stats.chi2_contingency(t2, correction=False)[0])
    assert res2.statistic != pytest.approx(stats.chi2_contingency(t2)[0], rel=1e-3)


def test_chi2_category_in_one_sample_only_and_sparse_pooling():
    rng = np.random.default_rng(2)
    r = _cats(rng, [0.6, 0.4], 1000)
    c = np.concatenate([_cats(rng, [0.6, 0.4], 900), np.full(100, "new")])  # unseen before
    res = chi2_drift(r, c)
    table = np.array([[np.sum(r == k) for k in ("a", "b", "new")],
                      [np.sum(c == k) for k in ("a", "b", "new")]])
    assert res.statistic == pytest.approx(stats.chi2_contingency(table, correction=False)[0])
    assert "SPARSE_CATEGORIES_POOLED" not in _codes(res)
    assert res.drifted  # 10 % of the mass moved to a new category: TV = 0.1 (floor inclusive)

    # 40 rare categories (1-3 values each) plus three common ones
    rare = np.array([f"r{i}" for i in range(40)])
    r = np.concatenate([_cats(rng, [0.5, 0.3, 0.2], 1000), rng.choice(rare, 60)])
    c = np.concatenate([_cats(rng, [0.5, 0.3, 0.2], 800), rng.choice(rare, 50)])
    res = chi2_drift(r, c)
    assert "SPARSE_CATEGORIES_POOLED" in _codes(res)
    # the same test by hand: every rare category pooled into one column
    is_rare_r, is_rare_c = np.isin(r, rare), np.isin(c, rare)
    table = np.array([[np.sum(r == k) for k in "abc"] + [is_rare_r.sum()],
                      [np.sum(c == k) for k in "abc"] + [is_rare_c.sum()]])
    stat, p, _, expected = stats.chi2_contingency(table, correction=False)
    assert expected.min() >= 5
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.pvalue == pytest.approx(p, rel=1e-10)


def test_chi2_pools_until_other_is_large_enough():
    # three categories, two of them too small even when pooled together: they absorb "b"
    r = np.array(["a"] * 50 + ["b"] * 20 + ["x"] * 2 + ["y"] * 1)
    c = np.array(["a"] * 45 + ["b"] * 25 + ["x"] * 1 + ["y"] * 2)
    res = chi2_drift(r, c)
    table = np.array([[50, 23], [45, 28]])  # "a" vs pooled {b, x, y}
    assert res.statistic == pytest.approx(stats.chi2_contingency(table, correction=False)[0])
    assert "SPARSE_CATEGORIES_POOLED" in _codes(res)


def _decile_shares(r, c, bins=10):
    """Independent binning: reference quantile edges, right-closed bins, via np.digitize."""
    edges = np.unique(np.quantile(r, np.arange(1, bins) / bins))
    rb = np.bincount(np.digitize(r, edges, right=True), minlength=edges.size + 1) / r.size
    cb = np.bincount(np.digitize(c, edges, right=True), minlength=edges.size + 1) / c.size
    return rb, cb


def test_psi_and_js_numeric_match_hand_computation_and_scipy():
    rng = np.random.default_rng(3)
    r, c = rng.gamma(2.0, size=3000), rng.gamma(2.3, size=2000)
    rb, cb = _decile_shares(r, c)
    psi = np.sum((cb - rb) * np.log(cb / rb))  # no empty bins here, epsilon inactive
    assert psi_drift(r, c).statistic == pytest.approx(psi, rel=1e-12)
    js = js_drift(r, c)
    assert js.statistic == pytest.approx(jensenshannon(rb, cb, base=2), rel=1e-10)
    # negative control: the natural-log JS distance is a different number
    assert js.statistic != pytest.approx(jensenshannon(rb, cb), rel=1e-3)
    assert 0.0 <= js.statistic <= 1.0


def test_psi_known_value_and_epsilon():
    # shares 0.5/0.5 -> 0.6/0.4: PSI = 0.1 ln(1.2) + 0.1 ln(1.25)
    r = np.array(["a"] * 50 + ["b"] * 50)
    c = np.array(["a"] * 60 + ["b"] * 40)
    assert psi_drift(r, c, categorical=True).statistic == pytest.approx(
        0.1 * math.log(1.2) + 0.1 * math.log(1.25), rel=1e-12)
    # a category absent from the reference: its share is floored at epsilon = 1e-4
    c2 = np.array(["a"] * 45 + ["b"] * 45 + ["z"] * 10)
    expected = (0.45 - 0.5) * math.log(0.45 / 0.5) * 2 + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    res = psi_drift(r, c2, categorical=True)
    assert res.statistic == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(res.statistic)
    assert "MAJOR_SHIFT" in _codes(res)
    js = js_drift(r, c2, categorical=True).statistic
    assert js == pytest.approx(jensenshannon([0.5, 0.5, 0.0], [0.45, 0.45, 0.1], base=2))


def test_wasserstein_matches_scipy_over_reference_sd():
    rng = np.random.default_rng(4)
    r, c = rng.lognormal(size=2500), rng.lognormal(0.1, size=1500)
    res = wasserstein_drift(r, c)
    assert res.statistic == pytest.approx(
        stats.wasserstein_distance(r, c) / np.std(r, ddof=1), rel=1e-12)
    # for a normal location shift W1 / sd is the shift in sd units
    z = rng.normal(size=200_000)
    assert wasserstein_drift(z, z + 0.3).statistic == pytest.approx(0.3, rel=0.01)


def test_wasserstein_from_sorted_samples_is_scipys_value_with_ties_and_any_scale():
    """abkit integrates the CDF difference itself (sorting values, not indices); the value
    is ``scipy.stats.wasserstein_distance(u, v)``, ties, single values and scales included."""
    from abkit.stats.drift.distances import _w1_sorted

    rng = np.random.default_rng(20261204)
    for _ in range(300):
        n, m = rng.integers(1, 400, 2)
        step = rng.choice([1.0, 3.0, 100.0, 1e9])
        scale = rng.choice([1e-8, 1.0, 1e8])
        u = np.round(rng.normal(size=n) * step) / step * scale
        v = np.round(rng.normal(0.3, 2.0, size=m) * step) / step * scale
        assert _w1_sorted(np.sort(u), np.sort(v)) == pytest.approx(
            stats.wasserstein_distance(u, v), rel=1e-12, abs=1e-300)


# --------------------------------------------------------------------------- calibration


def test_no_drift_not_flagged_and_half_sd_shift_flagged():
    rng = np.random.default_rng(5)
    r, same, shifted = rng.normal(size=2000), rng.normal(size=2000), rng.normal(0.5, 1, 2000)
    for m in NUMERIC_METHODS:
        assert drift(r, same, m).drifted is False, m
        assert drift(r, shifted, m).drifted is True, m
    a = _cats(rng, [0.5, 0.3, 0.2], 2000)
    a_same = _cats(rng, [0.5, 0.3, 0.2], 2000)
    a_moved = _cats(rng, [0.3, 0.4, 0.3], 2000)
    for m in CATEGORICAL_METHODS:
        assert drift(a, a_same, m, categorical=True).drifted is False, m
        assert drift(a, a_moved, m, categorical=True).drifted is True, m


def test_false_flag_rate_at_defaults():
    """Same distribution, 300 seeded replicates of 2,000 vs 2,000: (almost) never flagged.

    Measured (lognormal features): 0 of 300 for ks, psi, js and chi2, 1 of 300 for the
    normalised Wasserstein distance (the heavy right tail makes W1 / sd noisy); the p-value
    alone (p < 0.01, no effect floor) flags 2 of 300 for ks and for chi2.
    """
    rng = np.random.default_rng(6)
    flags = {m: 0 for m in NUMERIC_METHODS}
    cflags = {m: 0 for m in CATEGORICAL_METHODS}
    for _ in range(300):
        r, c = rng.lognormal(size=2000), rng.lognormal(size=2000)
        for m in NUMERIC_METHODS:
            flags[m] += bool(drift(r, c, m).drifted)
        a, b = _cats(rng, [0.4, 0.3, 0.2, 0.1], 2000), _cats(rng, [0.4, 0.3, 0.2, 0.1], 2000)
        for m in CATEGORICAL_METHODS:
            cflags[m] += bool(drift(a, b, m, categorical=True).drifted)
    assert all(v <= 3 for v in flags.values()), flags
    assert all(v <= 3 for v in cflags.values()), cflags


def test_effect_floor_stops_trivial_shifts_in_huge_samples():
    rng = np.random.default_rng(7)
    r, c = rng.normal(size=200_000), rng.normal(0.05, 1, size=200_000)
    res = ks_drift(r, c)
    assert res.pvalue < 1e-10 and res.statistic < 0.05
    assert res.drifted is False and "BELOW_EFFECT_FLOOR" in _codes(res)
    # negative control: without the floor the same data are flagged
    assert ks_drift(r, c, thresholds=DriftThresholds(ks_min_statistic=0.0)).drifted is True
    a = _cats(rng, [0.5, 0.5], 200_000)
    b = _cats(rng, [0.52, 0.48], 200_000)
    res = chi2_drift(a, b)
    assert res.pvalue < 1e-10 and res.drifted is False and "BELOW_EFFECT_FLOOR" in _codes(res)
    assert chi2_drift(a, b, thresholds=DriftThresholds(chi2_min_tv=0.0)).drifted is True


def test_expected_under_no_drift_matches_simulation_and_small_sample_flag():
    rng = np.random.default_rng(8)
    n = 300
    sims = {"psi": [], "js": [], "wasserstein": []}
    res = None
    for _ in range(300):
        r, c = rng.normal(size=n), rng.normal(size=n)
        for m, vals in sims.items():
            res = drift(r, c, m)
            vals.append((res.statistic, res.expected_under_no_drift))
    for m, vals in sims.items():
        stat = np.array([v[0] for v in vals])
        expected = np.mean([v[1] for v in vals])
        assert stat.mean() == pytest.approx(expected, rel=0.15), m
    # at 300 vs 300 the JS distance averages ~0.1 with no drift: flagged as a small sample
    small = js_drift(rng.normal(size=n), rng.normal(size=n))
    assert "SMALL_SAMPLE" in _codes(small)
    assert "SMALL_SAMPLE" not in _codes(js_drift(rng.normal(size=20_000),
                                                 rng.normal(size=20_000)))


def test_thresholds_are_configurable_and_validated():
    rng = np.random.default_rng(9)
    r, c = rng.normal(size=3000), rng.normal(0.5, 1, 3000)
    assert psi_drift(r, c).drifted is True
    loose = DriftThresholds(psi=0.5, js=0.5, wasserstein=1.0)
    assert psi_drift(r, c, thresholds=loose).drifted is False
    assert psi_drift(r, c, thresholds=loose).threshold == 0.5
    assert js_drift(r, c, thresholds=loose).drifted is False
    assert wasserstein_drift(r, c, thresholds=loose).drifted is False
    with pytest.raises(ValueError):
        DriftThresholds(alpha=1.5)
    with pytest.raises(ValueError):
        DriftThresholds(psi=-0.1)


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("method", NUMERIC_METHODS)
def test_numeric_edge_cases_give_none_and_a_diagnostic(method):
    rng = np.random.default_rng(10)
    x = rng.normal(size=100)
    cases = {
        "EMPTY_SAMPLE": (x, np.array([])),
        "ALL_MISSING": (np.full(50, np.nan), x),
        "CONSTANT_FEATURE": (np.full(80, 3.0), np.full(60, 3.0)),
    }
    for code, (r, c) in cases.items():
        res = drift(r, c, method)
        assert res.statistic is None and res.pvalue is None and res.drifted is None, code
        assert code in _codes(res), (code, res.diagnostics)
        json.dumps(res.to_dict())


@pytest.mark.parametrize("method", CATEGORICAL_METHODS)
def test_categorical_edge_cases(method):
    for code, (r, c) in {
        "EMPTY_SAMPLE": (np.array([], dtype=object), np.array(["a", "b"])),
        "ALL_MISSING": (np.array([None, np.nan, None], dtype=object), np.array(["a", "b"])),
        "ONE_CATEGORY": (np.array(["a"] * 30), np.array(["a"] * 20)),
    }.items():
        res = drift(r, c, method, categorical=True)
        assert res.statistic is None and res.drifted is None
        assert code in _codes(res)


def test_constant_reference_against_a_moving_current():
    r = np.full(500, 1.0)
    c = np.concatenate([np.full(400, 1.0), np.full(100, 2.0)])
    assert ks_drift(r, c).statistic == pytest.approx(0.2)
    w = wasserstein_drift(r, c)
    assert w.statistic is None and "ZERO_SPREAD" in _codes(w)
    psi = psi_drift(r, c)
    assert psi.statistic is not None and psi.drifted and "BINS_MERGED" in _codes(psi)


def test_missing_values_are_counted_not_dropped_silently():
    rng = np.random.default_rng(11)
    r = rng.normal(size=1000)
    r[:10] = np.nan
    r[10] = np.inf
    c = rng.normal(size=800)
    res = ks_drift(r, c)
    assert res.n_reference == 989 and "MISSING_VALUES" in _codes(res)
    assert res.statistic == pytest.approx(stats.ks_2samp(r[11:], c).statistic)
    a = np.array(["x", None, "y", float("nan"), "x"], dtype=object)
    res = chi2_drift(a, np.array(["x", "y"] * 10))
    assert res.n_reference == 3 and "MISSING_VALUES" in _codes(res)


def test_invalid_arguments_raise():
    x = np.arange(10.0)
    with pytest.raises(ValueError):
        drift(x, x, "kl")
    with pytest.raises(ValueError):
        drift(x, x, "ks", categorical=True)
    with pytest.raises(ValueError):
        drift(np.array(["a", "b"]), np.array(["a"]), "chi2")
    with pytest.raises(ValueError):
        ks_drift(np.ones((3, 2)), x)
    with pytest.raises(ValueError):
        psi_drift(x, x, bins=1)
    with pytest.raises(ValueError):
        ks_drift(np.array(["a", "b"]), x)  # non-numeric values for a numeric measure


# --------------------------------------------------------------------------- table and onset


def test_drift_table_reports_every_feature_and_method():
    rng = np.random.default_rng(12)
    ref = {"age": rng.normal(40, 10, 2000), "contract": _cats(rng, [0.6, 0.3, 0.1], 2000),
           "only_ref": rng.normal(size=50)}
    cur = {"age": rng.normal(45, 10, 2000), "contract": _cats(rng, [0.6, 0.3, 0.1], 2000)}
    rows = drift_table(ref, cur, categorical={"contract"})
    got = [(r.feature, r.method) for r in rows]
    assert got[:4] == [("age", m) for m in NUMERIC_METHODS]
    assert got[4:7] == [("contract", m) for m in CATEGORICAL_METHODS]
    assert all(r.drifted for r in rows if r.feature == "age")
    assert not any(r.drifted for r in rows if r.feature == "contract")
    missing = [r for r in rows if r.feature == "only_ref"]
    assert len(missing) == 4 and all("MISSING_FEATURE" in _codes(r) for r in missing)
    only_psi = drift_table(ref, cur, categorical={"contract"}, methods=["psi", "ks"])
    assert [(r.feature, r.method) for r in only_psi if r.feature != "only_ref"] == [
        ("age", "psi"), ("age", "ks"), ("contract", "psi")]
    json.dumps([r.to_dict() for r in rows])


@pytest.mark.parametrize("method", NUMERIC_METHODS)
def test_onset_of_a_shift_injected_at_window_7_of_12(method):
    rng = np.random.default_rng(13)
    reference = rng.normal(size=5000)
    labels = [f"2026-11-20 {h:02d}:00" for h in range(12)]
    windows = [(lab, rng.normal(0.5 if h >= 7 else 0.0, 1.0, 1500))
               for h, lab in enumerate(labels)]
    res = drift_onset(windows, reference, method)
    assert res.onset == "2026-11-20 07:00" and res.onset_index == 7
    assert res.drifted == (False,) * 7 + (True,) * 5
    assert len(res.statistics) == 12 and all(s is not None for s in res.statistics)
    json.dumps(res.to_dict())


def test_onset_categorical_persistence_rules_and_transients():
    rng = np.random.default_rng(14)
    ref = _cats(rng, [0.5, 0.3, 0.2], 5000)
    base, moved = [0.5, 0.3, 0.2], [0.3, 0.4, 0.3]
    # drifted at 3 (a blip), then from 7 on
    pattern = [moved if h == 3 or h >= 7 else base for h in range(12)]
    windows = [(h, _cats(rng, p, 1500)) for h, p in enumerate(pattern)]
    res = drift_onset(windows, ref, "chi2", categorical=True)
    assert res.onset == 7  # the blip at 3 did not persist to the end
    assert drift_onset(windows, ref, "chi2", categorical=True, persistence=1).onset == 3
    assert drift_onset(windows, ref, "chi2", categorical=True, persistence=2).onset == 7
    # a drift that ends before the last window has no onset under the default rule
    transient = [(h, _cats(rng, moved if 4 <= h <= 6 else base, 1500)) for h in range(12)]
    res = drift_onset(transient, ref, "psi", categorical=True)
    assert res.onset is None and "TRANSIENT_DRIFT" in _codes(res)
    assert drift_onset(transient, ref, "psi", categorical=True, persistence=3).onset == 4


def test_onset_skips_empty_windows():
    rng = np.random.default_rng(15)
    ref = rng.normal(size=3000)
    windows = [(h, rng.normal(0.5 if h >= 5 else 0.0, 1, 1000)) for h in range(10)]
    windows[8] = (8, np.array([]))  # an hour with no traffic
    res = drift_onset(windows, ref, "ks")
    assert res.onset == 5 and res.drifted[8] is None
    assert "WINDOW_UNDEFINED" in {d.code for d in res.diagnostics}
    with pytest.raises(ValueError):
        drift_onset(windows, ref, "ks", persistence=0)


def test_categorical_labels_agree_across_dtypes():
    # a flag read as float (because of a missing value) in one window and as int in another
    ref = np.array([0.0, 1.0, np.nan] * 300)
    cur = np.array([0, 1] * 300)
    res = chi2_drift(ref, cur)
    assert res.statistic == pytest.approx(0.0) and res.drifted is False
    assert "MISSING_VALUES" in _codes(res)
    obj = np.array([1.0, "1", 2, None] * 100, dtype=object)
    assert psi_drift(obj, np.array(["1", "1", "2"] * 100), categorical=True).statistic < 1e-12


def test_text_categories_are_cleaned_as_the_value_loop_cleans_them():
    """The vectorised path for object arrays of text gives the loop's labels and missing
    counts; arrays it does not cover (numbers among the text, a missing value the loop
    keeps) fall back to the loop."""
    from abkit.stats.drift._common import _Clean, _clean_categorical, _is_missing, _label

    def loop(a: np.ndarray) -> _Clean:
        keep = np.array([not _is_missing(v) for v in a], dtype=bool)
        labels = np.array([_label(v) for v in a[keep]], dtype=str)
        return _Clean(labels, int(a.size), int(a.size - keep.sum()))

    rng = np.random.default_rng(7)
    pool = ["a", "b", " b", "", "é", None, math.nan, pd.NA, pd.NaT, 1.0, 2, True,
            np.datetime64("NaT"), "1"]
    for trial in range(300):
        k = int(rng.integers(1, 6))
        vals = [pool[i] for i in rng.integers(0, len(pool) if trial % 2 else 9, k * 7)]
        a = np.array(vals + ["z"], dtype=object)
        got, ref = _clean_categorical(a, "x"), loop(a)
        assert got.values.tolist() == ref.values.tolist()
        assert (got.n_raw, got.n_missing) == (ref.n_raw, ref.n_missing)
