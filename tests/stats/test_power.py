"""Planning formulas against statsmodels' power calculations."""

from __future__ import annotations

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import power_proportions_2indep

from abkit.stats import minimum_detectable_effect, sample_size


@pytest.mark.parametrize("ratio", [1.0, 0.25, 3.0])
@pytest.mark.parametrize("alternative, sm_alt", [("two-sided", "two-sided"),
                                                  ("greater", "larger")])
def test_mean_sample_size_matches_statsmodels(ratio, alternative, sm_alt):
    # statsmodels.stats.power.NormalIndPower().solve_power(effect_size=2/30, alpha=0.05,
    #     power=0.8, ratio=ratio, alternative=sm_alt) -> nobs1 (unrounded)
    ref = NormalIndPower().solve_power(effect_size=2 / 30, alpha=0.05, power=0.8, ratio=ratio,
                                       alternative=sm_alt)
    s = sample_size("mean", 100.0, 0.02, sd=30.0, ratio=ratio, alternative=alternative)
    assert s.n_control == pytest.approx(ref, abs=1.0) and s.n_control >= ref - 1e-6
    assert s.n_treatment == pytest.approx(ref * ratio, abs=ratio + 1)  # from ceil(n_control)


def test_proportion_sample_size_reaches_the_power():
    s = sample_size("proportion", 0.10, 0.10)  # 10 % -> 11 %
    # statsmodels.stats.proportion.power_proportions_2indep(0.01, 0.10, n, ratio=1,
    #     alpha=0.05, alternative="two-sided").power: ~0.8 at abkit's n
    r = power_proportions_2indep(0.01, 0.10, s.n_control, ratio=1.0, alpha=0.05,
                                 alternative="two-sided", return_results=True)
    assert r.power == pytest.approx(0.8, abs=0.002)
    assert s.n_control == 14749


def test_mde_inverts_sample_size():
    s = sample_size("proportion", 0.05, 0.2, ratio=0.1)
    mde = minimum_detectable_effect("proportion", 0.05, s.n_control, s.n_treatment)
    assert mde == pytest.approx(0.01, rel=2e-3)
    s = sample_size("mean", 50.0, 1.5, sd=12.0, relative=False)
    assert minimum_detectable_effect("mean", 50.0, s.n_control, s.n_treatment,
                                     sd=12.0) == pytest.approx(1.5, rel=1e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "proportion", "baseline": 0.95, "mde": 0.1}, "rates must be in"),
    ({"kind": "mean", "baseline": 1.0, "mde": 0.1}, "needs its per-unit standard deviation"),
    ({"kind": "mean", "baseline": 1.0, "mde": 0.0, "sd": 1.0}, "must not be 0"),
    ({"kind": "mean", "baseline": 1.0, "mde": 0.1, "sd": 1.0, "power": 1.0}, "power"),
])
def test_bad_planning_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_size(**kwargs)
