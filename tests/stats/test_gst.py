"""Group sequential designs with Lan-DeMets alpha spending (abkit.stats.gst).

Reference values and where they come from:

* rpact unit tests (rpact-com/rpact, tests/testthat/test-f_design_group_sequential.R,
  revision 5976, values asserted there to 1e-7), from ``getDesignGroupSequential(...,
  sided = 1)``. With non-binding futility bounds rpact's efficacy boundaries and
  ``alphaSpent`` do not depend on the futility bounds, so the cases with ``bsKD`` / ``bsUser``
  beta spending still give pure alpha-spending boundaries.
* rpact's ROeS 2025 presentation (roes2025.rpact.com, "Sample size calculation for a
  continuous endpoint"): 3 looks at 1/3, 2/3, 1, one-sided 2.5 %, efficacy boundaries
  3.710, 2.511, 1.993 with cumulative alpha spent 0.0001, 0.0060, 0.0250 (the spending
  column identifies the O'Brien-Fleming-type spending function).
* ldbounds output posted to r-help (thr3ads.net/r-help/2020/03/3271445): ``bounds(c(0.10,
  0.33, 1), iuse = c(1, 1), alpha = c(0.025, 0.025))`` upper bounds 6.9913, 3.7308, 1.9605
  (two-sided symmetric at 0.025 per side; the lower bound changes the upper crossing
  probabilities by < 1e-11). ldbounds' own integration is good to ~1e-4, so 3 decimals.
* K = 5 equally spaced looks, one-sided 0.025: O'Brien-Fleming type 4.877, 3.357, 2.680,
  2.290, 2.031 and Pocock type 2.438, 2.427, 2.410, 2.397, 2.386, the values gsDesign's
  ``gsDesign(k = 5, test.type = 1, sfu = sfLDOF / sfLDPocock)`` gives. The O'Brien-Fleming
  row is quoted as gsDesign / RTSA reference output in several public test suites; neither
  row could be read in a primary document here, so both are also checked independently
  against scipy's multivariate normal CDF below.
* Independent numerical reference: ``scipy.stats.multivariate_normal(cov=sqrt(t_i/t_j))
  .cdf(c)`` (Genz's quasi-Monte Carlo algorithm), which shares nothing with the grid
  recursion under test.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats

from abkit.stats import gst
from abkit.stats.gst import (
    GroupSequentialDesign,
    Look,
    boundaries,
    crossing_probabilities,
    spending,
)

EQ5 = (0.2, 0.4, 0.6, 0.8, 1.0)


def _cov(ts) -> np.ndarray:
    t = np.asarray(ts, dtype=float)
    return np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))


def _mvn_cross(ts, cs, abseps=1e-6) -> float:
    """1 - P(Z_k < c_k for all k) by scipy (Genz), the independent reference."""
    cs = np.asarray(cs, dtype=float)
    dist = stats.multivariate_normal(mean=np.zeros(len(cs)), cov=_cov(ts), seed=12345,
                                     abseps=abseps, releps=0.0)
    return 1.0 - float(dist.cdf(cs))


# --------------------------------------------------------------------------- spending


def test_obrien_fleming_spending_formula_and_one_sided_convention():
    alpha = 0.025
    t = np.array([0.01, 0.2, 0.5, 0.9, 1.0])
    # the formula, written with scipy: 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t))
    expected = 2.0 * stats.norm.sf(stats.norm.isf(alpha / 2.0) / np.sqrt(t))
    np.testing.assert_allclose(spending(t, alpha, "obrien-fleming"), expected, rtol=1e-12)
    assert spending(1.0, alpha) == pytest.approx(alpha, rel=1e-12)
    # negative control: the z_{1 - alpha} variant spends 2 alpha by t = 1
    wrong = 2.0 * stats.norm.sf(stats.norm.isf(alpha) / 1.0)
    assert wrong == pytest.approx(2 * alpha)
    assert abs(wrong - spending(1.0, alpha)) > 0.02


def test_pocock_spending_formula():
    alpha = 0.05
    t = np.array([0.0, 0.1, 0.5, 1.0, 1.5, 7.0])
    expected = np.where(t >= 1, alpha, alpha * np.log(1 + (math.e - 1) * np.minimum(t, 1)))
    np.testing.assert_allclose(spending(t, alpha, "pocock"), expected, rtol=1e-12)
    assert spending(0.0, alpha, "pocock") == 0.0
    assert spending(0.0, alpha) == 0.0
    assert spending(3.0, alpha) == alpha  # information beyond the planned maximum


@pytest.mark.parametrize(
    "alpha, kind, ts, alpha_spent",
    [
        # rpact x7a (kMax = 4): typeOfDesign = "asOF", alpha = 0.13
        (0.13, "obrien-fleming", (0.4, 0.75, 0.85, 1.0),
         (0.016665509, 0.080406163, 0.10053322, 0.13)),
        # rpact x6b: typeOfDesign = "asP", alpha = 0.025 (default), t < 1 at the last stage
        (0.025, "pocock", (0.4, 0.7), (0.013078429, 0.0197432)),
        # rpact x6a: typeOfDesign = "asP", alpha = 0.13
        (0.13, "pocock", (0.35, 0.7, 1.0), (0.061214062, 0.10266465, 0.13)),
    ],
)
def test_spending_matches_rpact_alpha_spent(alpha, kind, ts, alpha_spent):
    np.testing.assert_allclose(spending(ts, alpha, kind), alpha_spent, rtol=2e-7)


def test_spending_is_monotone_and_validates():
    t = np.linspace(0, 1.2, 241)
    for kind in ("obrien-fleming", "pocock"):
        a = spending(t, 0.05, kind)
        assert np.all(np.diff(a) >= 0) and a[0] == 0 and a[-1] == 0.05
    with pytest.raises(ValueError):
        spending(0.5, 0.0)
    with pytest.raises(ValueError):
        spending(0.5, 1.0)
    with pytest.raises(ValueError):
        spending(-0.1, 0.05)
    with pytest.raises(ValueError):
        spending(float("nan"), 0.05)
    with pytest.raises(ValueError):
        spending(0.5, 0.05, "haybittle")


# --------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    "alpha, kind, ts, expected",
    [
        # rpact x7a (kMax = 3 and kMax = 4), asOF, non-binding futility, alpha = 0.13
        (0.13, "obrien-fleming", (0.4, 0.75, 1.0), (2.1280732, 1.4368565, 1.2468994)),
        (0.13, "obrien-fleming", (0.4, 0.75, 0.85, 1.0),
         (2.1280732, 1.4368565, 1.422873, 1.2970881)),
        # rpact x6b: asP, alpha = 0.025, informationRates = c(0.4, 0.7)
        (0.025, "pocock", (0.4, 0.7), (2.223875, 2.3050796)),
        # rpact x6a: asP, alpha = 0.13, non-binding futility
        (0.13, "pocock", (0.35, 0.7, 1.0), (1.5446617, 1.4828682, 1.4620058)),
    ],
)
def test_boundaries_match_rpact(alpha, kind, ts, expected):
    np.testing.assert_allclose(boundaries(ts, alpha, kind), expected, atol=1e-6)


def test_nominal_pvalues_match_rpact_stage_levels():
    # rpact x7a (kMax = 4) stageLevels and x6b stageLevels
    d = GroupSequentialDesign(0.13, "obrien-fleming").add_looks((0.4, 0.75, 0.85, 1.0))
    np.testing.assert_allclose(d.nominal_pvalues,
                               (0.016665509, 0.075379384, 0.077386492, 0.097300444), atol=1e-7)
    d = GroupSequentialDesign(0.025, "pocock").add_looks((0.4, 0.7))
    np.testing.assert_allclose(d.nominal_pvalues, (0.013078429, 0.010581057), atol=1e-7)
    for lk in d.looks:
        assert lk.nominal_pvalue == pytest.approx(stats.norm.sf(lk.boundary), rel=1e-12)


def test_k5_equally_spaced_published_values_to_3_decimals():
    obf = boundaries(EQ5, alpha=0.025, spending="obrien-fleming")
    poc = boundaries(EQ5, alpha=0.025, spending="pocock")
    assert [round(c, 3) for c in obf] == [4.877, 3.357, 2.680, 2.290, 2.031]
    assert [round(c, 3) for c in poc] == [2.438, 2.427, 2.410, 2.397, 2.386]


def test_other_published_boundaries_to_3_decimals():
    # rpact ROeS 2025 presentation: 3 looks, one-sided 2.5 %, O'Brien-Fleming-type spending
    d = GroupSequentialDesign(0.025).add_looks((1 / 3, 2 / 3, 1.0))
    assert [round(c, 3) for c in d.boundaries] == [3.710, 2.511, 1.993]
    assert [round(lk.alpha_spent, 4) for lk in d.looks] == [0.0001, 0.0060, 0.0250]
    # ldbounds (r-help 2020): t = 0.10, 0.33, 1 -> 6.9913, 3.7308, 1.9605
    assert [round(c, 3) for c in boundaries((0.10, 0.33, 1.0), 0.025)] == [6.991, 3.731, 1.961]


@pytest.mark.parametrize("kind", ["obrien-fleming", "pocock"])
@pytest.mark.parametrize("ts", [EQ5, (0.1, 0.15, 0.5, 0.55, 0.9, 1.0)])
def test_total_crossing_probability_against_scipy_mvn(kind, ts):
    cs = boundaries(ts, 0.025, kind)
    assert _mvn_cross(ts, cs) == pytest.approx(0.025, abs=3e-6)
    # the engine's own crossing probabilities add up to the spent alpha
    cp = crossing_probabilities(ts, cs)
    np.testing.assert_allclose(np.cumsum(cp), spending(ts, 0.025, kind), atol=2e-7)


def test_crossing_probabilities_of_naive_boundaries_against_scipy_mvn():
    # repeated one-sided tests at z_{0.95}: an independent check of the recursion on a
    # boundary that does not come from spending (3 unequal looks)
    ts = (0.3, 0.55, 1.0)
    z = stats.norm.isf(0.05)
    total = sum(crossing_probabilities(ts, [z] * 3))
    assert total == pytest.approx(_mvn_cross(ts, [z] * 3, abseps=1e-7), abs=1e-6)
    assert total > 0.08  # well above the nominal 0.05


def test_k1_gives_the_fixed_sample_quantile():
    for kind in ("obrien-fleming", "pocock"):
        for alpha in (0.01, 0.025, 0.05, 0.2):
            (c,) = boundaries([1.0], alpha, kind)
            assert c == pytest.approx(stats.norm.isf(alpha), abs=1e-12)
            (c,) = boundaries([1.7], alpha, kind)  # a single look past the plan: same
            assert c == pytest.approx(stats.norm.isf(alpha), abs=1e-12)


def test_boundaries_are_accurate_against_a_finer_grid(monkeypatch):
    ts = list(np.arange(1, 41) / 40) + [1.05]  # 41 looks, the last one over-running
    irregular = (0.03, 0.031, 0.2, 0.21, 0.6, 0.6001, 0.6003, 0.9, 1.0)
    base = {(k, s): boundaries(s, 0.05, k) for k in ("obrien-fleming", "pocock")
            for s in (tuple(ts), irregular)}
    monkeypatch.setattr(gst, "_Q", 12.0)
    monkeypatch.setattr(gst, "_H_MAX", 0.02)
    for (kind, s), b in base.items():
        fine = boundaries(s, 0.05, kind)
        bb = np.array([np.nan if x is None else x for x in b])
        ff = np.array([np.nan if x is None else x for x in fine])
        np.testing.assert_array_equal(np.isnan(bb), np.isnan(ff))
        np.testing.assert_allclose(bb, ff, atol=5e-6, equal_nan=True)
        # alpha of the default boundaries, computed on the finer grid
        achieved = sum(crossing_probabilities(s, b))
        assert achieved == pytest.approx(float(spending(s[-1], 0.05, kind)), abs=1e-6)


def test_one_hundred_looks_are_fast():
    ts = np.arange(1, 101) / 100
    start = time.perf_counter()
    for kind in ("obrien-fleming", "pocock"):
        b = boundaries(ts, 0.05, kind)
        assert all(c is not None and math.isfinite(c) for c in b)
    elapsed = (time.perf_counter() - start) / 2
    # measured ~0.1-0.2 s per design on a loaded 2-core machine
    assert elapsed < 1.0, elapsed


# --------------------------------------------------------------------------- online use


def test_incremental_design_equals_batch_and_is_immutable():
    ts = (0.12, 0.3, 0.31, 0.58, 0.8, 1.0)
    d0 = GroupSequentialDesign(0.05, "pocock")
    d = d0
    seen = []
    for t in ts:
        d_next, look = d.add_look(t)
        assert isinstance(look, Look) and look.index == len(seen) + 1
        assert len(d.looks) == len(seen)  # the old state is unchanged
        seen.append(look.boundary)
        d = d_next
    assert tuple(seen) == boundaries(ts, 0.05, "pocock")
    assert d0.looks == () and d0.alpha_spent == 0.0
    assert d.alpha_spent == pytest.approx(0.05)
    assert d.information_fractions == ts
    # the same prefix, branched differently, does not interfere
    _, la = d0.add_looks(ts[:3]).add_look(0.5)
    _, lb = d0.add_looks(ts[:3]).add_look(0.9)
    assert la.boundary != lb.boundary
    assert la.boundary == boundaries(ts[:3] + (0.5,), 0.05, "pocock")[-1]
    with pytest.raises(AttributeError):
        d.alpha = 0.1  # frozen


def test_unplanned_looks_spend_according_to_the_function():
    d = GroupSequentialDesign(0.05).add_looks((0.07, 0.33, 0.34, 0.9))
    spent = [lk.alpha_spent for lk in d.looks]
    np.testing.assert_allclose(spent, spending([0.07, 0.33, 0.34, 0.9], 0.05), rtol=1e-12)
    inc = [lk.alpha_increment for lk in d.looks]
    np.testing.assert_allclose(np.cumsum(inc), spent, rtol=1e-12)
    assert d.alpha_spent < 0.05  # the plan's maximum was not reached


def test_looks_after_the_planned_maximum_have_no_boundary():
    d, _ = GroupSequentialDesign(0.05).add_look(0.5)
    d, final = d.add_look(1.2)  # over-running final look spends what is left
    assert final.boundary is not None and final.alpha_spent == pytest.approx(0.05)
    d, extra = d.add_look(1.5)
    assert extra.boundary is None and extra.nominal_pvalue is None
    assert extra.has("ALPHA_EXHAUSTED") and extra.alpha_increment == 0.0
    assert not extra.rejects(50.0)
    assert extra.alpha_spent == pytest.approx(0.05)
    # also through the plain function: None, never inf
    b = boundaries((0.5, 1.0, 1.1, 2.0), 0.05, "pocock")
    assert b[2] is None and b[3] is None and all(math.isfinite(c) for c in b[:2])
    assert d.to_dict()["looks"][2]["boundary"] is None


def test_out_of_order_and_invalid_arguments_raise():
    d, _ = GroupSequentialDesign().add_look(0.4)
    for bad in (0.4, 0.3, 0.0, -1.0, float("nan"), float("inf"), "x", None):
        with pytest.raises(ValueError):
            d.add_look(bad)
    with pytest.raises(ValueError):
        boundaries((0.2, 0.2, 0.5))
    with pytest.raises(ValueError):
        boundaries((0.5, 0.2))
    for alpha in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(ValueError):
            GroupSequentialDesign(alpha)
    with pytest.raises(ValueError):
        GroupSequentialDesign(0.05, "obrien_fleming")
    with pytest.raises(ValueError):
        crossing_probabilities((0.5, 1.0), (2.0,))


def test_tiny_and_too_close_looks():
    # O'Brien-Fleming at t = 1e-6 spends less than double precision holds: no boundary
    d, look = GroupSequentialDesign(0.05).add_look(1e-6)
    assert look.boundary is None and look.has("NO_ALPHA_TO_SPEND")
    # very early looks with a representable but minute spend get a finite boundary
    d, look = d.add_look(0.01)
    assert look.boundary == pytest.approx(stats.norm.isf(spending(0.01, 0.05)), rel=1e-9)
    assert math.isfinite(look.boundary) and look.boundary > 19
    # a look whose information barely moved is skipped; its alpha goes to the next look
    d, look = d.add_look(0.5)
    d, close = d.add_look(0.5 + 1e-6)
    assert close.boundary is None and close.has("LOOK_TOO_CLOSE")
    assert close.alpha_spent == pytest.approx(spending(0.5, 0.05))
    d, nxt = d.add_look(0.6)
    assert nxt.alpha_increment == pytest.approx(spending(0.6, 0.05) - spending(0.5, 0.05))
    # equivalent to never having looked at 0.5 + 1e-6
    ref = boundaries((0.01, 0.5, 0.6), 0.05)
    assert nxt.boundary == pytest.approx(ref[-1], abs=1e-12)


def test_look_results_and_dict():
    d, look = GroupSequentialDesign(0.025, "pocock").add_look(0.2)
    assert look.rejects(look.boundary) and not look.rejects(look.boundary - 1e-9)
    assert not look.rejects(float("nan"))
    out = d.to_dict()
    assert out["alpha"] == 0.025 and out["confidence_level"] == pytest.approx(0.975)
    assert out["spending"] == "pocock" and len(out["looks"]) == 1
    assert out["looks"][0]["diagnostics"] == []
    assert set(out["looks"][0]) == {"index", "information_fraction", "boundary",
                                    "nominal_pvalue", "alpha_spent", "alpha_increment",
                                    "diagnostics"}


def test_crossing_probabilities_under_a_drift():
    # one look: power of a one-sided z-test, Phi(drift - z_{1 - alpha})
    z = stats.norm.isf(0.025)
    (p,) = crossing_probabilities([1.0], [z], drift=3.0)
    assert p == pytest.approx(stats.norm.cdf(3.0 - z), abs=1e-12)
    # looks without a test (None / inf) cross with probability 0 and change nothing else
    ts = (0.3, 0.6, 1.0)
    cs = boundaries(ts, 0.025)
    a = crossing_probabilities(ts, [cs[0], None, cs[2]], drift=2.0)
    b = crossing_probabilities(ts, [cs[0], math.inf, cs[2]], drift=2.0)
    assert a == b and a[1] == 0.0
    with pytest.raises(ValueError):
        crossing_probabilities(ts, [cs[0], float("nan"), cs[2]])
    with pytest.raises(ValueError):  # increments too small to integrate
        crossing_probabilities((0.5, 0.500001), (3.0, 3.0))
    # ... unless the first of the two has no test
    assert crossing_probabilities((0.5, 0.500001), (None, 3.0))[1] == pytest.approx(
        stats.norm.sf(3.0), abs=1e-15)


# --------------------------------------------------------------------------- simulation

_N_SIM = 200_000
_SCHEDULES = {
    1: ((1.0,), (1.3,)),  # a single look at, or past, the planned maximum
    5: (tuple(np.arange(1, 6) / 5), (0.05, 0.1, 0.5, 0.52, 1.0)),
    20: (tuple(np.arange(1, 21) / 20), tuple(np.sort(np.r_[np.geomspace(0.01, 0.9, 19), 1.0]))),
    100: (tuple(np.arange(1, 101) / 100), tuple(np.r_[(np.arange(1, 100) / 99) ** 2 * 0.98, 1.0])),
}


def _first_crossing_rates(ts, bounds_list, seed, n=_N_SIM, drift=0.0):
    """Share of simulated H0 Brownian-motion paths that ever cross, for each set of bounds.

    S(t) is a standard Brownian motion (plus ``drift * t``); Z_k = S(t_k) / sqrt(t_k).
    """
    rng = np.random.default_rng(seed)
    s = np.zeros(n)
    crossed = np.zeros((len(bounds_list), n), dtype=bool)
    t_prev = 0.0
    for k, t in enumerate(ts):
        s += rng.standard_normal(n) * math.sqrt(t - t_prev) + drift * (t - t_prev)
        t_prev = t
        z = s / math.sqrt(t)
        for j, bounds in enumerate(bounds_list):
            c = bounds[k]
            if c is not None:
                crossed[j] |= z >= c
    return crossed.mean(axis=1)


@pytest.mark.parametrize("k", [1, 5, 20, 100])
def test_simulated_type_one_error_equals_alpha(k):
    alpha = 0.05
    se = math.sqrt(alpha * (1 - alpha) / _N_SIM)  # 4.9e-4
    for spacing, ts in zip(("equal", "unequal"), _SCHEDULES[k]):
        obf = boundaries(ts, alpha, "obrien-fleming")
        poc = boundaries(ts, alpha, "pocock")
        naive = [stats.norm.isf(alpha)] * k
        # negative control 2: O'Brien-Fleming with the z_{1 - alpha} pitfall, which is the
        # correct function at level 2 alpha
        pitfall = boundaries(ts, 2 * alpha, "obrien-fleming")
        rates = _first_crossing_rates(ts, [obf, poc, naive, pitfall], seed=1000 + k)
        assert abs(rates[0] - alpha) < 4 * se, (spacing, "obf", rates)
        assert abs(rates[1] - alpha) < 4 * se, (spacing, "pocock", rates)
        # the naive test matches its exact (integrated) crossing probability
        exact_naive = sum(crossing_probabilities(ts, naive))
        se_naive = math.sqrt(exact_naive * (1 - exact_naive) / _N_SIM)
        assert abs(rates[2] - exact_naive) < 4 * se_naive, (spacing, rates, exact_naive)
        assert abs(rates[3] - 2 * alpha) < 4 * math.sqrt(0.1 * 0.9 / _N_SIM)
        if k == 1:
            assert obf[0] == pytest.approx(stats.norm.isf(alpha), abs=1e-12)
            assert abs(rates[2] - alpha) < 4 * se
        else:  # negative control 1: re-testing at z_{1 - alpha} inflates the error rate
            assert rates[2] > alpha + 10 * se, (spacing, rates)


def test_simulated_power_matches_the_integration():
    ts = (0.1, 0.3, 0.5, 0.8, 1.0)
    drift = 2.5
    for kind in ("obrien-fleming", "pocock"):
        cs = boundaries(ts, 0.05, kind)
        exact = sum(crossing_probabilities(ts, cs, drift=drift))
        (rate,) = _first_crossing_rates(ts, [cs], seed=7, drift=drift, n=100_000)
        assert abs(rate - exact) < 4 * math.sqrt(exact * (1 - exact) / 100_000), (kind, rate,
                                                                                   exact)
