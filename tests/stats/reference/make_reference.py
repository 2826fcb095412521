"""Generate ``stats_reference.json``: independent reference values for ``abkit.stats``.

Every expected number here is produced with numpy, scipy or statsmodels only; this script
never imports ``abkit``, so the tests compare abkit against an independent computation.

Run from the repository root::

    .venv/bin/python tests/stats/reference/make_reference.py

The output is deterministic for a given numpy / scipy / statsmodels version (all randomness
comes from ``numpy.random.default_rng`` with the seeds recorded in each case). Generated
continuous data are rounded to 4 decimals *before* any expectation is computed, so the data
stored in the JSON are exactly the data the expectations were computed on (JSON floats
round-trip exactly) and the file stays small.

Conventions for the stored expectations
---------------------------------------
``absolute`` / ``relative`` blocks hold ``estimate, se, ci_low, ci_high, pvalue, df`` and
``statistic`` (``df`` is ``null`` for normal-theory results). A block that is ``null`` means
"undefined"; the test then expects ``estimate is None`` and the listed diagnostic code.
Each case carries a ``source`` mapping naming the exact call or formula behind each block.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import scipy
import statsmodels
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

OUT = Path(__file__).with_name("stats_reference.json")
MASTER_SEED = 20240611
DECIMALS = 4

SRC_WELCH = (
    "r = scipy.stats.ttest_ind(t, c, equal_var=False); estimate = t.mean() - c.mean(); "
    "statistic, pvalue, df = r.statistic, r.pvalue, r.df; "
    "(ci_low, ci_high) = r.confidence_interval(confidence_level); "
    "se = sqrt(t.var(ddof=1)/n_t + c.var(ddof=1)/n_c) (numpy; asserted == estimate/statistic)"
)
SRC_REL_MEAN = (
    "delta method by formula in numpy: rel = (m_t - m_c)/m_c; "
    "se = sqrt(v_t/(n_t m_c^2) + m_t^2 v_c/(n_c m_c^4)) with v = var(ddof=1); "
    "ci = rel -/+ scipy.stats.t.ppf(0.5 + level/2, df) * se; p = 2*scipy.stats.t.sf(|rel/se|, df) "
    "with df = scipy.stats.ttest_ind(t, c, equal_var=False).df (the absolute effect's df)"
)
SRC_RATIO = (
    "delta method by formula in numpy, per arm: R = mean(N)/mean(D), "
    "var(R) = (v_N - 2 R c_ND + R^2 v_D) / (n mean(D)^2) with np.cov(N, D) (ddof=1); "
    "estimate = R_t - R_c, se = sqrt(var_t + var_c); normal ci/p via scipy.stats.norm"
)
SRC_REL_RATIO = (
    "delta method by formula in numpy: rel = (R_t - R_c)/R_c, "
    "se = sqrt(var(R_t)/R_c^2 + R_t^2 var(R_c)/R_c^4); normal ci/p via scipy.stats.norm"
)
SRC_CUPED_MEAN = (
    "theta = np.cov(Y_pooled, X_pooled)[0, 1] / np.cov(Y_pooled, X_pooled)[1, 1] over the "
    "concatenation of both arms; then scipy.stats.ttest_ind(Y_t - theta X_t, Y_c - theta X_c, "
    "equal_var=False) with .confidence_interval(level); se = sqrt(sum var(adj, ddof=1)/n)"
)
SRC_CUPED_REL = (
    "delta method in numpy, theta fixed: rel = effect / mean(Y_c); per-unit influence "
    "u_t = (Y_t - theta X_t)/m_c, u_c = -((m_c + effect)/m_c^2) Y_c + (theta/m_c) X_c; "
    "se = sqrt(var(u_t, ddof=1)/n_t + var(u_c, ddof=1)/n_c); ci/p via scipy.stats.t with the "
    "absolute effect's Welch df"
)
SRC_CUPED_RATIO = (
    "linearisation by hand in numpy: pooled R = mean(N)/mean(D), L = (N - R D)/mean(D); "
    "M = X (mean covariate) or (N0 - R0 D0)/mean(D0) (ratio covariate), pooled; "
    "theta = np.cov(L, M)[0,1]/np.cov(L, M)[1,1]; effect = (R_t - R_c) - theta (g_t - g_c); "
    "per arm a: var_a = var(L_a - theta M_a, ddof=1)/n_a with L_a, M_a linearised at the arm's "
    "own means; se = sqrt(var_t + var_c); normal ci/p via scipy.stats.norm"
)
SRC_CUPED_RATIO_REL = (
    "delta method in numpy, theta fixed: rel = effect / R_c; u_t = (L_t - theta M_t)/R_c, "
    "u_c = -(L_c - theta M_c)/R_c - effect L_c / R_c^2; se = sqrt(var(u_t)/n_t + var(u_c)/n_c); "
    "normal ci/p via scipy.stats.norm"
)
SRC_VR = "variance_reduction = 1 - se_adjusted^2 / se_unadjusted^2 (numpy, same per-arm formulas)"


def rnd(a: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(a, dtype=float), DECIMALS)


def tolist(a: np.ndarray) -> list:
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.integer):
        return [int(v) for v in a]
    if np.all(a == np.round(a)) and np.all(np.abs(a) < 2**53):
        # integral data (0/1, counts) are stored as ints to keep the file small
        return [int(v) for v in a]
    return [float(v) for v in a]


def fl(x) -> float | None:
    return None if x is None else float(x)


def normal_block(est: float, se: float, level: float) -> dict:
    """Two-sided normal-theory estimate block."""
    z = float(st.norm.ppf(0.5 + level / 2))
    stat = est / se
    return {
        "estimate": float(est),
        "se": float(se),
        "ci_low": float(est - z * se),
        "ci_high": float(est + z * se),
        "pvalue": float(2 * st.norm.sf(abs(stat))),
        "df": None,
        "statistic": float(stat),
    }


def t_block(est: float, se: float, df: float, level: float) -> dict:
    """Two-sided Student-t estimate block (the relative effect of a Welch comparison)."""
    q = float(st.t.ppf(0.5 + level / 2, df))
    stat = est / se
    return {
        "estimate": float(est),
        "se": float(se),
        "ci_low": float(est - q * se),
        "ci_high": float(est + q * se),
        "pvalue": float(2 * st.t.sf(abs(stat), df)),
        "df": float(df),
        "statistic": float(stat),
    }


def welch_block(t: np.ndarray, c: np.ndarray, level: float) -> dict:
    r = st.ttest_ind(t, c, equal_var=False)
    ci = r.confidence_interval(level)
    est = float(np.mean(t) - np.mean(c))
    se = float(np.sqrt(np.var(t, ddof=1) / len(t) + np.var(c, ddof=1) / len(c)))
    assert np.isclose(est / se, r.statistic, rtol=1e-12), "se cross-check failed"
    assert np.isclose((ci.low + ci.high) / 2, est, rtol=1e-12, atol=1e-15)
    return {
        "estimate": est,
        "se": se,
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "pvalue": float(r.pvalue),
        "df": float(r.df),
        "statistic": float(r.statistic),
    }


def rel_mean_block(t: np.ndarray, c: np.ndarray, level: float) -> dict | None:
    m_t, m_c = float(np.mean(t)), float(np.mean(c))
    if m_c <= 0:
        return None
    v_t, v_c = float(np.var(t, ddof=1)), float(np.var(c, ddof=1))
    n_t, n_c = len(t), len(c)
    se = np.sqrt(v_t / (n_t * m_c**2) + m_t**2 * v_c / (n_c * m_c**4))
    df = float(st.ttest_ind(t, c, equal_var=False).df)
    return t_block((m_t - m_c) / m_c, se, df, level)


def diag_codes_for_control(m_c: float) -> list[str]:
    if m_c == 0:
        return ["ZERO_CONTROL_MEAN"]
    if m_c < 0:
        return ["NEGATIVE_CONTROL_MEAN"]
    return []


# --------------------------------------------------------------------------------------
# Welch (mean and proportion) cases
# --------------------------------------------------------------------------------------


def welch_case(name, description, generator, seed, c, t, level=0.95) -> dict:
    c, t = np.asarray(c, dtype=float), np.asarray(t, dtype=float)
    m_c = float(np.mean(c))
    return {
        "name": name,
        "description": description,
        "generator": generator,
        "seed": seed,
        "confidence_level": level,
        "data": {"control": tolist(c), "treatment": tolist(t)},
        "expected": {
            "control_value": m_c,
            "treatment_value": float(np.mean(t)),
            "absolute": welch_block(t, c, level),
            "relative": rel_mean_block(t, c, level),
            "diagnostics": diag_codes_for_control(m_c),
        },
        "source": {"absolute": SRC_WELCH, "relative": SRC_REL_MEAN},
    }


def make_welch_cases(ss: np.random.SeedSequence) -> list[dict]:
    cases = []
    seeds = [int(s.generate_state(1)[0]) for s in ss.spawn(12)]

    rng = np.random.default_rng(seeds[0])
    cases.append(
        welch_case(
            "clear_effect",
            "normal data, true effect +1.0 on a mean of 10 (sd 2), n = 200 per arm",
            "c = rnd(rng.normal(10, 2, 200)); t = rnd(rng.normal(11, 2, 200))",
            seeds[0],
            rnd(rng.normal(10, 2, 200)),
            rnd(rng.normal(11, 2, 200)),
        )
    )

    rng = np.random.default_rng(seeds[1])
    cases.append(
        welch_case(
            "aa_null",
            "A/A: both arms normal(5, 1.5), n = 300 per arm",
            "c = rnd(rng.normal(5, 1.5, 300)); t = rnd(rng.normal(5, 1.5, 300))",
            seeds[1],
            rnd(rng.normal(5, 1.5, 300)),
            rnd(rng.normal(5, 1.5, 300)),
        )
    )

    rng = np.random.default_rng(seeds[2])
    cases.append(
        welch_case(
            "n30_per_arm",
            "small sample, skewed: lognormal(0, 0.8), treatment scaled by 1.3, n = 30 per arm",
            "c = rnd(rng.lognormal(0, 0.8, 30)); t = rnd(1.3 * rng.lognormal(0, 0.8, 30))",
            seeds[2],
            rnd(rng.lognormal(0, 0.8, 30)),
            rnd(1.3 * rng.lognormal(0, 0.8, 30)),
        )
    )

    rng = np.random.default_rng(seeds[3])
    cases.append(
        welch_case(
            "proportion_control_all_zeros",
            "0/1 conversions: control has no conversions at all (n = 200), treatment "
            "Bernoulli(0.06) (n = 200); relative effect undefined",
            "c = np.zeros(200); t = (rng.random(200) < 0.06).astype(int)",
            seeds[3],
            np.zeros(200),
            (rng.random(200) < 0.06).astype(float),
        )
    )

    rng = np.random.default_rng(seeds[4])
    t = rnd(np.where(rng.random(150) < 0.3, rng.exponential(20.0, 150), 0.0))
    cases.append(
        welch_case(
            "mean_control_all_zeros",
            "revenue-like mean metric: control all 0.0 (n = 150), treatment zero-inflated "
            "exponential(20) with 30% non-zero (n = 150)",
            "c = np.zeros(150); t = rnd(np.where(rng.random(150) < 0.3, "
            "rng.exponential(20.0, 150), 0.0))",
            seeds[4],
            np.zeros(150),
            t,
        )
    )

    rng = np.random.default_rng(seeds[5])
    cases.append(
        welch_case(
            "split_90_10",
            "unbalanced 90/10 split with unequal variances: control normal(3, 1) n = 900, "
            "treatment normal(3.2, 2) n = 100",
            "c = rnd(rng.normal(3, 1, 900)); t = rnd(rng.normal(3.2, 2, 100))",
            seeds[5],
            rnd(rng.normal(3, 1, 900)),
            rnd(rng.normal(3.2, 2, 100)),
        )
    )

    rng = np.random.default_rng(seeds[6])
    cases.append(
        welch_case(
            "proportions",
            "0/1 conversions: Bernoulli(0.10) vs Bernoulli(0.12), n = 2000 per arm",
            "c = (rng.random(2000) < 0.10).astype(int); t = (rng.random(2000) < 0.12).astype(int)",
            seeds[6],
            (rng.random(2000) < 0.10).astype(float),
            (rng.random(2000) < 0.12).astype(float),
        )
    )

    rng = np.random.default_rng(seeds[7])
    cases.append(
        welch_case(
            "negative_control_mean",
            "mean metric with negative control mean (profit-like): normal(-2, 3) vs "
            "normal(-1.5, 3), n = 120 per arm; relative effect undefined",
            "c = rnd(rng.normal(-2, 3, 120)); t = rnd(rng.normal(-1.5, 3, 120))",
            seeds[7],
            rnd(rng.normal(-2, 3, 120)),
            rnd(rng.normal(-1.5, 3, 120)),
        )
    )

    rng = np.random.default_rng(seeds[8])
    cases.append(
        welch_case(
            "level_90",
            "confidence level 0.90: normal(50, 10) vs normal(52, 12), n = 80 / 95",
            "c = rnd(rng.normal(50, 10, 80)); t = rnd(rng.normal(52, 12, 95))",
            seeds[8],
            rnd(rng.normal(50, 10, 80)),
            rnd(rng.normal(52, 12, 95)),
            level=0.90,
        )
    )

    rng = np.random.default_rng(seeds[9])
    cases.append(
        welch_case(
            "level_99",
            "confidence level 0.99: gamma(2, 3) vs gamma(2, 3.4), n = 250 / 240",
            "c = rnd(rng.gamma(2, 3, 250)); t = rnd(rng.gamma(2, 3.4, 240))",
            seeds[9],
            rnd(rng.gamma(2, 3, 250)),
            rnd(rng.gamma(2, 3.4, 240)),
            level=0.99,
        )
    )
    return cases


def make_three_arms(ss: np.random.SeedSequence) -> dict:
    seed = int(ss.generate_state(1)[0])
    rng = np.random.default_rng(seed)
    c = rnd(rng.normal(20, 4, 300))
    a = rnd(rng.normal(20.3, 4, 300))
    b = rnd(rng.normal(21.2, 4.5, 300))
    comps = {}
    for label, t in (("treatment_a", a), ("treatment_b", b)):
        comps[label] = {
            "absolute": welch_block(t, c, 0.95),
            "relative": rel_mean_block(t, c, 0.95),
            "control_value": float(np.mean(c)),
            "treatment_value": float(np.mean(t)),
        }
    raw = [comps["treatment_a"]["absolute"]["pvalue"], comps["treatment_b"]["absolute"]["pvalue"]]
    return {
        "name": "three_arms",
        "description": "one control and two treatments (normal, n = 300 each); each treatment "
        "is compared with the shared control, then the two p-values are Holm-adjusted",
        "generator": "c = rnd(rng.normal(20, 4, 300)); a = rnd(rng.normal(20.3, 4, 300)); "
        "b = rnd(rng.normal(21.2, 4.5, 300))",
        "seed": seed,
        "data": {"control": tolist(c), "treatment_a": tolist(a), "treatment_b": tolist(b)},
        "expected": {
            "comparisons": comps,
            "holm_adjusted": [float(v) for v in multipletests(raw, method="holm")[1]],
        },
        "source": {
            "absolute": SRC_WELCH,
            "relative": SRC_REL_MEAN,
            "holm_adjusted": "statsmodels.stats.multitest.multipletests([p_a, p_b], "
            "method='holm')[1]",
        },
    }


# --------------------------------------------------------------------------------------
# Ratio metric
# --------------------------------------------------------------------------------------


def ratio_arm(N: np.ndarray, D: np.ndarray) -> tuple[float, float]:
    """Ratio of means and its delta-method variance, by formula."""
    n = len(N)
    m_n, m_d = float(np.mean(N)), float(np.mean(D))
    R = m_n / m_d
    cv = np.cov(N, D)  # ddof=1
    var = (cv[0, 0] - 2 * R * cv[0, 1] + R * R * cv[1, 1]) / (n * m_d * m_d)
    return R, float(var)


def bootstrap_ratio_var(N, D, rng, B=5000) -> float:
    n = len(N)
    idx = rng.integers(0, n, size=(B, n))
    r = N[idx].mean(axis=1) / D[idx].mean(axis=1)
    return float(np.var(r, ddof=1))


def user_panel(rng, n, ctr_a, ctr_b, activity_scale=1.5, lift=1.0):
    """Per-user sessions/clicks now and in a pre-period, sharing a user propensity.

    ``lift`` multiplies each user's CTR in the current period only (the pre-period is
    before the treatment started).
    """
    activity = rng.gamma(2.0, activity_scale, n)
    ctr = rng.beta(ctr_a, ctr_b, n)
    D = 1 + rng.poisson(activity)
    N = rng.binomial(D, np.minimum(ctr * lift, 1.0))
    D0 = 1 + rng.poisson(activity)
    N0 = rng.binomial(D0, ctr)
    return N, D, N0, D0


def make_ratio_case(ss: np.random.SeedSequence) -> dict:
    seed = int(ss.generate_state(1)[0])
    rng = np.random.default_rng(seed)
    Nc, Dc, _, _ = user_panel(rng, 400, 2.0, 18.0)
    Nt, Dt, _, _ = user_panel(rng, 400, 2.4, 18.0)
    level = 0.95
    R_c, v_c = ratio_arm(Nc, Dc)
    R_t, v_t = ratio_arm(Nt, Dt)
    absolute = normal_block(R_t - R_c, np.sqrt(v_t + v_c), level)
    rel_se = np.sqrt(v_t / R_c**2 + R_t**2 * v_c / R_c**4)
    relative = normal_block((R_t - R_c) / R_c, rel_se, level)

    # Sanity only (not stored as an expectation): the delta-method variance of each arm's
    # ratio agrees with a 5000-resample bootstrap, and with the Monte-Carlo variance of the
    # ratio over 3000 fresh arms from the same generator. Bootstrap tolerance 12% ~ 5x the
    # resampling noise of a variance from B = 5000 draws (sqrt(2/B) = 2%) plus the O(1/n)
    # delta-method bias; the Monte Carlo tolerance is wider (20%) because it compares with one
    # sample's delta estimate, which itself has ~5-10% sampling error at n = 400.
    brng = np.random.default_rng(seed + 1)
    for N, D, v in ((Nc, Dc, v_c), (Nt, Dt, v_t)):
        vb = bootstrap_ratio_var(N, D, brng)
        assert abs(vb / v - 1) < 0.12, f"bootstrap disagrees with delta method: {vb} vs {v}"
        print(f"ratio sanity: bootstrap/delta variance = {vb / v:.3f}")
    mc = []
    for _ in range(3000):
        N, D, _, _ = user_panel(brng, 400, 2.0, 18.0)
        mc.append(N.mean() / D.mean())
    v_mc = float(np.var(mc, ddof=1))
    assert abs(v_mc / v_c - 1) < 0.2, f"Monte Carlo disagrees with delta method: {v_mc} vs {v_c}"
    print(f"ratio sanity: Monte Carlo/delta variance (control) = {v_mc / v_c:.3f}")

    return {
        "name": "ratio_ctr",
        "description": "per-user clicks / sessions (CTR as a ratio of means); sessions "
        "1 + Poisson(Gamma(2, 1.5)), clicks Binomial(sessions, Beta(2, 18)) for control and "
        "Beta(2.4, 18) for treatment; n = 400 per arm; variables (N, D) = (clicks, sessions)",
        "generator": "user_panel(rng, 400, 2.0, 18.0) then user_panel(rng, 400, 2.4, 18.0) "
        "(see make_reference.py)",
        "seed": seed,
        "confidence_level": level,
        "data": {
            "control": {"N": tolist(Nc), "D": tolist(Dc)},
            "treatment": {"N": tolist(Nt), "D": tolist(Dt)},
        },
        "expected": {
            "control_value": R_c,
            "treatment_value": R_t,
            "absolute": absolute,
            "relative": relative,
            "var_control": v_c,
            "var_treatment": v_t,
            "diagnostics": [],
        },
        "sanity": "delta variance asserted within 12% of a 5000-resample bootstrap per arm "
        "and within 20% of a 3000-replicate Monte Carlo of the control generator",
        "source": {"absolute": SRC_RATIO, "relative": SRC_REL_RATIO},
    }


# --------------------------------------------------------------------------------------
# CUPED
# --------------------------------------------------------------------------------------


def make_cuped_mean_case(ss: np.random.SeedSequence) -> dict:
    seed = int(ss.generate_state(1)[0])
    rng = np.random.default_rng(seed)
    level = 0.95

    def arm(n, lift):
        x = rng.gamma(3.0, 10.0, n)  # pre-period spend
        y = 5.0 + 0.8 * x + rng.normal(0, 6.0, n) + lift
        return rnd(y), rnd(x)

    yc, xc = arm(400, 0.0)
    yt, xt = arm(400, 1.5)
    Y, X = np.concatenate([yc, yt]), np.concatenate([xc, xt])
    cv = np.cov(Y, X)
    theta = float(cv[0, 1] / cv[1, 1])
    ac, at = yc - theta * xc, yt - theta * xt
    absolute = welch_block(at, ac, level)
    effect = absolute["estimate"]
    m_c = float(np.mean(yc))
    u_t = at / m_c
    u_c = -((m_c + effect) / m_c**2) * yc + (theta / m_c) * xc
    rel_se = np.sqrt(np.var(u_t, ddof=1) / len(u_t) + np.var(u_c, ddof=1) / len(u_c))
    relative = t_block(effect / m_c, rel_se, absolute["df"], level)
    unadj = welch_block(yt, yc, level)
    vr = 1 - absolute["se"] ** 2 / unadj["se"] ** 2
    return {
        "name": "cuped_mean",
        "description": "mean metric Y with pre-period covariate X (gamma(3, 10)), "
        "Y = 5 + 0.8 X + N(0, 6) + lift, lift 0 / 1.5, n = 400 per arm; variables (Y, X)",
        "generator": "x = rnd(rng.gamma(3, 10, n)); y = rnd(5 + 0.8 x + rng.normal(0, 6, n) "
        "+ lift) (see make_reference.py)",
        "seed": seed,
        "confidence_level": level,
        "data": {
            "control": {"Y": tolist(yc), "X": tolist(xc)},
            "treatment": {"Y": tolist(yt), "X": tolist(xt)},
        },
        "expected": {
            "theta": theta,
            "control_value": m_c,
            "treatment_value": float(np.mean(yt)),
            "absolute": absolute,
            "relative": relative,
            "unadjusted_absolute": unadj,
            "variance_reduction": float(vr),
            "diagnostics": [],
        },
        "source": {
            "theta": "np.cov(np.concatenate([Yc, Yt]), np.concatenate([Xc, Xt])): [0,1]/[1,1]",
            "absolute": SRC_CUPED_MEAN,
            "relative": SRC_CUPED_REL,
            "unadjusted_absolute": SRC_WELCH,
            "variance_reduction": SRC_VR,
        },
    }


def lin_ratio(N, D, R, mD):
    return (N - R * D) / mD


def make_cuped_ratio_cases(ss: np.random.SeedSequence) -> list[dict]:
    seed = int(ss.generate_state(1)[0])
    rng = np.random.default_rng(seed)
    level = 0.95
    # heterogeneous users (CTR ~ Beta(0.8, 7.2), ~9 sessions) so the pre-period carries signal
    Nc, Dc, N0c, D0c = user_panel(rng, 400, 0.8, 7.2, 4.0)
    Nt, Dt, N0t, D0t = user_panel(rng, 400, 0.8, 7.2, 4.0, lift=1.12)
    data = {
        "control": {"N": tolist(Nc), "D": tolist(Dc), "N0": tolist(N0c), "D0": tolist(D0c)},
        "treatment": {"N": tolist(Nt), "D": tolist(Dt), "N0": tolist(N0t), "D0": tolist(D0t)},
    }
    NP, DP = np.concatenate([Nc, Nt]), np.concatenate([Dc, Dt])
    N0P, D0P = np.concatenate([N0c, N0t]), np.concatenate([D0c, D0t])
    R_pool, mD_pool = NP.mean() / DP.mean(), DP.mean()
    L_pool = lin_ratio(NP, DP, R_pool, mD_pool)
    R_c, R_t = Nc.mean() / Dc.mean(), Nt.mean() / Dt.mean()
    L_c = lin_ratio(Nc, Dc, R_c, Dc.mean())
    L_t = lin_ratio(Nt, Dt, R_t, Dt.mean())
    _, v_c0 = ratio_arm(Nc, Dc)
    _, v_t0 = ratio_arm(Nt, Dt)

    cases = []
    for kind in ("mean_covariate", "ratio_covariate"):
        if kind == "mean_covariate":
            # covariate: pre-period clicks per user (a plain mean, variable N0)
            M_pool = N0P.astype(float)
            M_c, M_t = N0c.astype(float), N0t.astype(float)
            g_c, g_t = float(N0c.mean()), float(N0t.mean())
            covsrc = "M = N0 (pre-period clicks, Estimand('mean', (N0,)))"
        else:
            # covariate: pre-period CTR N0/D0 (a ratio), linearised
            R0_pool, mD0_pool = N0P.mean() / D0P.mean(), D0P.mean()
            M_pool = lin_ratio(N0P, D0P, R0_pool, mD0_pool)
            g_c, g_t = float(N0c.mean() / D0c.mean()), float(N0t.mean() / D0t.mean())
            M_c = lin_ratio(N0c, D0c, g_c, D0c.mean())
            M_t = lin_ratio(N0t, D0t, g_t, D0t.mean())
            covsrc = "M = (N0 - R0 D0)/mean(D0) (pre-period CTR, Estimand('ratio', (N0, D0)))"
        cv = np.cov(L_pool, M_pool)
        theta = float(cv[0, 1] / cv[1, 1])
        effect = (R_t - R_c) - theta * (g_t - g_c)
        v_t = np.var(L_t - theta * M_t, ddof=1) / len(L_t)
        v_c = np.var(L_c - theta * M_c, ddof=1) / len(L_c)
        absolute = normal_block(effect, np.sqrt(v_t + v_c), level)
        u_t = (L_t - theta * M_t) / R_c
        u_c = -(L_c - theta * M_c) / R_c - effect * L_c / R_c**2
        rel_se = np.sqrt(np.var(u_t, ddof=1) / len(u_t) + np.var(u_c, ddof=1) / len(u_c))
        relative = normal_block(effect / R_c, rel_se, level)
        vr = 1 - (v_t + v_c) / (v_t0 + v_c0)
        cases.append(
            {
                "name": f"cuped_ratio_{kind}",
                "description": "CTR ratio metric (clicks N / sessions D; sessions 1 + "
                "Poisson(Gamma(2, 4)), clicks Binomial(sessions, ctr), ctr ~ Beta(0.8, 7.2) "
                "times a 1.12 lift in the treatment's current period only; pre-period N0/D0 "
                "drawn the same way for the same users, without lift) with a pre-period "
                f"covariate ({kind.replace('_', ' ')}); n = 400 per arm; variables "
                "(N, D, N0, D0)",
                "generator": "user_panel(rng, 400, 0.8, 7.2, 4.0), "
                "user_panel(rng, 400, 0.8, 7.2, 4.0, lift=1.12) (see make_reference.py)",
                "seed": seed,
                "confidence_level": level,
                "covariate": kind,
                "data": data,
                "expected": {
                    "theta": theta,
                    "control_value": float(R_c),
                    "treatment_value": float(R_t),
                    "absolute": absolute,
                    "relative": relative,
                    "variance_reduction": float(vr),
                    "diagnostics": [],
                },
                "source": {
                    "theta": covsrc + "; " + SRC_CUPED_RATIO,
                    "absolute": SRC_CUPED_RATIO,
                    "relative": SRC_CUPED_RATIO_REL,
                    "variance_reduction": SRC_VR,
                },
            }
        )
    return cases


# --------------------------------------------------------------------------------------
# SRM, multiple testing, non-inferiority
# --------------------------------------------------------------------------------------


def srm_case(name, description, observed: dict, shares: dict, threshold=0.001) -> dict:
    names = list(shares)
    obs = np.array([observed.get(k, 0) for k in names], dtype=float)
    sh = np.array([shares[k] for k in names], dtype=float)
    sh = sh / sh.sum()
    r = st.chisquare(obs, f_exp=sh * obs.sum())
    return {
        "name": name,
        "description": description,
        "observed": observed,
        "expected_shares": shares,
        "threshold": threshold,
        "expected": {
            "statistic": float(r.statistic),
            "pvalue": float(r.pvalue),
            "df": len(names) - 1,
            "passed": bool(r.pvalue >= threshold),
        },
        "source": "scipy.stats.chisquare(obs, f_exp=shares/sum(shares) * obs.sum()); "
        "passed = pvalue >= threshold",
    }


def make_srm_cases() -> list[dict]:
    return [
        srm_case(
            "srm_5000_vs_5300",
            "5000 vs 5300 units against a 50/50 design (p ~ 0.003: suspicious, passes at 0.001)",
            {"control": 5000, "treatment": 5300},
            {"control": 0.5, "treatment": 0.5},
        ),
        srm_case(
            "srm_90_10_ok",
            "90/10 design, 9040 vs 960 units (consistent with the design)",
            {"control": 9040, "treatment": 960},
            {"control": 0.9, "treatment": 0.1},
        ),
        srm_case(
            "srm_90_10_mismatch",
            "90/10 design, 8850 vs 1150 units (clear mismatch, fails)",
            {"control": 8850, "treatment": 1150},
            {"control": 0.9, "treatment": 0.1},
        ),
        srm_case(
            "srm_three_arms",
            "three arms, 50/25/25 design, 10120 / 4950 / 5210 units",
            {"control": 10120, "a": 4950, "b": 5210},
            {"control": 0.5, "a": 0.25, "b": 0.25},
        ),
        srm_case(
            "srm_unnormalised_shares",
            "shares given as weights 9:1 (not summing to 1), 9040 vs 960 units",
            {"control": 9040, "treatment": 960},
            {"control": 9.0, "treatment": 1.0},
        ),
    ]


def make_multitest_cases(ss: np.random.SeedSequence) -> list[dict]:
    seed = int(ss.generate_state(1)[0])
    rng = np.random.default_rng(seed)
    lists = {
        "uniform_20": [float(v) for v in np.round(rng.random(20), 6)],
        "mixed_small_with_ties": [0.001, 0.01, 0.01, 0.04, 0.04, 0.2, 0.5, 1.0, 0.0, 0.03],
        "with_none": [0.02, None, 0.004, 0.3, None, 0.049, 0.011],
        "single": [0.03],
        "beta_skewed_12": [float(v) for v in np.round(rng.beta(0.4, 3.0, 12), 6)],
    }
    cases = []
    for name, ps in lists.items():
        vals = [p for p in ps if p is not None]
        exp = {}
        for ours, sm in (("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")):
            adj = iter(float(v) for v in multipletests(vals, method=sm)[1])
            exp[ours] = [None if p is None else next(adj) for p in ps]
        exp["none"] = list(ps)
        cases.append(
            {
                "name": name,
                "seed": seed,
                "pvalues": ps,
                "expected": exp,
                "source": "statsmodels.stats.multitest.multipletests(p_without_none, "
                "method='bonferroni'|'holm'|'fdr_bh')[1], re-inserted at the non-None "
                "positions",
            }
        )
    return cases


def make_noninferiority_cases(ss: np.random.SeedSequence, ratio_case: dict) -> list[dict]:
    seed = int(ss.generate_state(1)[0])
    rng = np.random.default_rng(seed)
    cases = []
    # latency-like metric where an increase is harmful
    c = rnd(rng.gamma(4.0, 25.0, 300))
    t = rnd(rng.gamma(4.0, 25.0, 300) + 2.0)
    for margin in (5.0, 1.0, 12.0):
        cases.append(
            {
                "name": f"latency_increase_margin_{margin:g}",
                "metric": "mean",
                "harmful": "increase",
                "margin_abs": margin,
                "seed": seed,
                "generator": "c = rnd(rng.gamma(4, 25, 300)); t = rnd(rng.gamma(4, 25, 300) + 2)",
                "data": {"control": tolist(c), "treatment": tolist(t)},
                "expected": {
                    "pvalue": float(
                        st.ttest_ind(t - margin, c, equal_var=False, alternative="greater").pvalue
                    )
                },
                "source": "scipy.stats.ttest_ind(t - margin_abs, c, equal_var=False, "
                "alternative='greater').pvalue",
            }
        )
    # conversion-like metric where a decrease is harmful
    c2 = rnd(rng.normal(0.30, 0.2, 500))
    t2 = rnd(rng.normal(0.295, 0.2, 450))
    for margin in (0.02, 0.005):
        cases.append(
            {
                "name": f"score_decrease_margin_{margin:g}",
                "metric": "mean",
                "harmful": "decrease",
                "margin_abs": margin,
                "seed": seed,
                "generator": "c2 = rnd(rng.normal(0.30, 0.2, 500)); "
                "t2 = rnd(rng.normal(0.295, 0.2, 450)) (drawn after the latency arms)",
                "data": {"control": tolist(c2), "treatment": tolist(t2)},
                "expected": {
                    "pvalue": float(
                        st.ttest_ind(t2 + margin, c2, equal_var=False, alternative="less").pvalue
                    )
                },
                "source": "scipy.stats.ttest_ind(t + margin_abs, c, equal_var=False, "
                "alternative='less').pvalue  (harm = -(t - c); shifting t leaves the "
                "variances unchanged)",
            }
        )
    # ratio metric (normal theory), reusing the ratio case's data and delta-method se
    ab = ratio_case["expected"]["absolute"]
    for harmful, margin in (("increase", 0.005), ("decrease", 0.003)):
        harm = ab["estimate"] if harmful == "increase" else -ab["estimate"]
        cases.append(
            {
                "name": f"ratio_{harmful}_margin_{margin:g}",
                "metric": "ratio",
                "harmful": harmful,
                "margin_abs": margin,
                "uses_case": ratio_case["name"],
                "expected": {"pvalue": float(st.norm.sf((harm - margin) / ab["se"]))},
                "source": "scipy.stats.norm.sf((harm - margin_abs) / se) with the ratio case's "
                "delta-method estimate/se (harm = estimate, or -estimate when a decrease "
                "is harmful)",
            }
        )
    return cases


def dumps(obj, level: int = 0) -> str:
    """JSON with one key per line but lists of scalars on a single line (compact, diffable)."""
    pad, inner = " " * level, " " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {dumps(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        items = [f"{inner}{dumps(v, level + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False, separators=(", ", ": "))


def main() -> None:
    ss = np.random.SeedSequence(MASTER_SEED)
    s_welch, s_three, s_ratio, s_cm, s_cr, s_mt, s_ni = ss.spawn(7)
    ratio = make_ratio_case(s_ratio)
    ref = {
        "meta": {
            "generated_by": "tests/stats/reference/make_reference.py",
            "master_seed": MASTER_SEED,
            "data_rounding_decimals": DECIMALS,
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__,
            "note": "expected values computed only with numpy/scipy/statsmodels; abkit is "
            "never imported by the generator",
        },
        "welch": make_welch_cases(s_welch),
        "three_arms": make_three_arms(s_three),
        "ratio": [ratio],
        "cuped_mean": [make_cuped_mean_case(s_cm)],
        "cuped_ratio": make_cuped_ratio_cases(s_cr),
        "srm": make_srm_cases(),
        "multitest": make_multitest_cases(s_mt),
        "noninferiority": make_noninferiority_cases(s_ni, ratio),
    }
    text = dumps(ref)
    json.loads(text)  # round-trip check
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({len(text) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
