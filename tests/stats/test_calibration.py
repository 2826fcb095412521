"""Simulated A/A calibration of the Welch comparison.

For each data-generating process we simulate ``N_SIM`` A/A experiments (both arms from the
same distribution, so every rejection is a false positive), run abkit's ``compare`` on the
arms' ``MomentStats`` and count two-sided rejections at alpha = 0.05.

If the test is calibrated, the number of rejections R is Binomial(N_SIM, 0.05). We accept R
inside the central 99.9% binomial interval, ``scipy.stats.binom.interval(0.999, 4000, 0.05)``
= [156, 247] rejections, i.e. a rate in about [0.039, 0.062]: an exactly calibrated test fails
this with probability ~0.001 (with the fixed seeds below the outcome is deterministic).

Why a broken test would fail: the band is only +/- ~1.1 percentage points wide. A standard
error that is 20% too small (e.g. a dropped variance term, or variances pooled across arms
of unequal size and spread) gives a rejection rate of ~0.12; 20% too large gives ~0.019; a
one-sided critical value (1.645) for a two-sided test gives ~0.10. All land far outside the
band. The normal design below uses unequal sizes *and* unequal variances, where Student's
pooled-variance t-test rejects ~13.5% of the time (541/4000 with these seeds);
``test_band_detects_pooled_variance`` checks that this band would catch it.

Each simulation takes ~2 s here (under the 5 s threshold for ``@pytest.mark.slow``).
Observed with these seeds: normal 217, lognormal 198, Bernoulli 205 rejections of 4000.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as st

from abkit.stats import Estimand, MomentStats, compare

N_SIM = 4000
ALPHA = 0.05
LO, HI = (int(v) for v in st.binom.interval(0.999, N_SIM, ALPHA))
MEAN0 = Estimand("mean", (0,))


def _rejections(control: np.ndarray, treatment: np.ndarray) -> int:
    """Count experiments (rows) where abkit's Welch p-value is below ALPHA."""
    rejected = 0
    for c, t in zip(control, treatment):
        res = compare(MomentStats.from_array(c), MomentStats.from_array(t), MEAN0, test="welch")
        p = res.absolute.pvalue
        assert p is not None and 0.0 <= p <= 1.0
        rejected += p < ALPHA
    return rejected


def _draw(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "normal_unequal":
        # unequal n and unequal variances, equal means
        return rng.normal(0.0, 1.0, (N_SIM, 500)), rng.normal(0.0, 2.0, (N_SIM, 200))
    if kind == "lognormal":
        # strongly right-skewed (revenue-like), 300 per arm
        return rng.lognormal(0.0, 1.0, (N_SIM, 300)), rng.lognormal(0.0, 1.0, (N_SIM, 300))
    if kind == "bernoulli":
        # 0/1 conversions at 10%, 400 per arm
        return (
            (rng.random((N_SIM, 400)) < 0.10).astype(float),
            (rng.random((N_SIM, 400)) < 0.10).astype(float),
        )
    raise ValueError(kind)


def test_band_is_what_the_docstring_says():
    assert (LO, HI) == (156, 247)


@pytest.mark.parametrize(
    "kind, seed",
    [("normal_unequal", 101), ("lognormal", 202), ("bernoulli", 303)],
)
def test_aa_false_positive_rate(kind, seed):
    control, treatment = _draw(kind, np.random.default_rng(seed))
    r = _rejections(control, treatment)
    assert LO <= r <= HI, (
        f"{kind}: {r}/{N_SIM} = {r / N_SIM:.4f} A/A rejections at alpha={ALPHA}; "
        f"99.9% binomial band is [{LO}, {HI}]"
    )


def test_band_detects_pooled_variance():
    """The band has power: on the unequal-n / unequal-variance design, Student's pooled t-test
    (scipy.stats.ttest_ind(equal_var=True), a typical implementation mistake) falls outside
    it, while scipy's Welch test (equal_var=False) falls inside."""
    control, treatment = _draw("normal_unequal", np.random.default_rng(101))
    pooled = st.ttest_ind(treatment, control, axis=1, equal_var=True).pvalue
    welch = st.ttest_ind(treatment, control, axis=1, equal_var=False).pvalue
    assert int(np.sum(pooled < ALPHA)) > HI
    assert LO <= int(np.sum(welch < ALPHA)) <= HI
