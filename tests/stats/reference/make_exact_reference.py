"""Generate ``exact_reference.json``: reference values for ``abkit.stats.exact`` and for the
relative interval of ``abkit.stats.compare`` (issue #11, "Few events and small samples").

Every number comes from numpy, scipy or statsmodels; this script never imports ``abkit``. Each
case records the call that produced it in ``source``. Run from the repository root::

    .venv/bin/python tests/stats/reference/make_exact_reference.py

The two 2,000-per-arm Boschloo cases take about 4 minutes in scipy (its two-dimensional table
per nuisance value); everything else is instant.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import scipy
import statsmodels
from scipy import optimize
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep

OUT = Path(__file__).with_name("exact_reference.json")

# (x_t, n_t, x_c, n_c)
SMALL_TABLES = [(4, 12, 1, 12), (0, 12, 3, 12), (5, 12, 5, 12), (7, 20, 1, 15), (0, 10, 0, 10),
                (12, 12, 11, 12), (3, 30, 9, 25), (2, 50, 0, 40), (1, 5, 4, 6), (9, 40, 2, 35)]
BIG_TABLES = [(4, 2000, 0, 2000)]
RATIO_TABLES = [(4, 12, 1, 12), (0, 12, 3, 12), (5, 12, 5, 12), (7, 20, 1, 15), (3, 30, 9, 25),
                (1, 5, 4, 6), (9, 40, 2, 35), (0, 2000, 4, 2000), (6, 2000, 2, 2000)]
NI_CASES = [(3, 30, 9, 25, 0.05, "greater"), (3, 30, 9, 25, -0.1, "less"),
            (0, 2000, 0, 2000, 0.002, "less"), (0, 2000, 0, 2000, -0.002, "greater"),
            (4, 2000, 0, 2000, 0.001, "greater"), (4, 12, 1, 12, -0.2, "less")]


def boschloo(x_t, n_t, x_c, n_c, alt):
    return float(st.boschloo_exact([[x_t, x_c], [n_t - x_t, n_c - x_c]], alternative=alt).pvalue)


def restricted_mle(x_t, n_t, x_c, n_c, value):
    """max likelihood with p_t - p_c = value, numerically (scipy.optimize.minimize_scalar)."""
    def nll(p_c):
        p_t = p_c + value
        out = 0.0
        for x, n, p in ((x_t, n_t, p_t), (x_c, n_c, p_c)):
            out -= x * math.log(p) if x else 0.0
            out -= (n - x) * math.log1p(-p) if n - x else 0.0
        return out
    lo, hi = max(0.0, -value) + 1e-15, min(1.0, 1.0 - value) - 1e-15
    p_c = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-14}).x
    return p_c + value, p_c


def main() -> None:
    ref: dict = {"meta": {"generated_by": "tests/stats/reference/make_exact_reference.py",
                          "scipy": scipy.__version__, "statsmodels": statsmodels.__version__,
                          "numpy": np.__version__}}
    ref["boschloo"] = [
        {"table": [x_t, n_t, x_c, n_c], "alternative": alt,
         "pvalue": boschloo(x_t, n_t, x_c, n_c, alt),
         "source": f"scipy.stats.boschloo_exact([[{x_t}, {x_c}], [{n_t - x_t}, {n_c - x_c}]], "
                   f"alternative={alt!r}).pvalue"}
        for x_t, n_t, x_c, n_c in SMALL_TABLES + BIG_TABLES
        for alt in ("two-sided", "less", "greater")
        if (x_t, n_t, x_c, n_c) not in BIG_TABLES or alt != "less"
    ]
    ref["newcombe"] = []
    for x_t, n_t, x_c, n_c in SMALL_TABLES + BIG_TABLES:
        for level in (0.95, 0.9):
            lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb",
                                                compare="diff", alpha=1 - level)
            ref["newcombe"].append({
                "table": [x_t, n_t, x_c, n_c], "confidence_level": level,
                "ci_low": float(lo), "ci_high": float(hi),
                "source": f"statsmodels confint_proportions_2indep({x_t}, {n_t}, {x_c}, {n_c}, "
                          f"method='newcomb', compare='diff', alpha={1 - level:.2f})"})
    ref["ratio"] = []
    for x_t, n_t, x_c, n_c in RATIO_TABLES:
        lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="score",
                                            compare="ratio", alpha=0.05)
        ref["ratio"].append({
            "table": [x_t, n_t, x_c, n_c], "confidence_level": 0.95,
            "ci_low": float(lo), "ci_high": float(hi),
            "source": f"statsmodels confint_proportions_2indep({x_t}, {n_t}, {x_c}, {n_c}, "
                      "method='score', compare='ratio', alpha=0.05) (correction=True)"})
    ref["noninferiority"] = []
    for x_t, n_t, x_c, n_c, value, alt in NI_CASES:
        t_t, t_c = restricted_mle(x_t, n_t, x_c, n_c, value)
        z = (x_t / n_t - x_c / n_c - value) / math.sqrt(t_t * (1 - t_t) / n_t
                                                          + t_c * (1 - t_c) / n_c)
        p = float(st.norm.sf(z) if alt == "greater" else st.norm.cdf(z))
        ref["noninferiority"].append({
            "table": [x_t, n_t, x_c, n_c], "value": value, "alternative": alt, "pvalue": p,
            "source": "Farrington-Manning: restricted MLE (p_t - p_c = value) by "
                      "scipy.optimize.minimize_scalar(bounded) on the binomial likelihood; "
                      "z = (p_t - p_c - value)/sqrt(t_t(1-t_t)/n_t + t_c(1-t_c)/n_c); "
                      f"p = scipy.stats.norm.{'sf' if alt == 'greater' else 'cdf'}(z)"})
    # relative interval with the Welch t reference, delta and log scale, on mean data
    rng = np.random.default_rng(20261203)
    ref["relative"] = []
    for name, n_c, n_t, scale in (("lognormal_n12", 12, 12, 1.5), ("lognormal_n400", 400, 380, 1.0),
                                  ("lognormal_n8_5", 8, 5, 2.0)):
        c = np.round(rng.lognormal(0.0, scale, n_c), 4)
        t = np.round(rng.lognormal(0.2, scale, n_t), 4)
        for level in (0.95, 0.9):
            r = st.ttest_ind(t, c, equal_var=False)
            df = float(r.df)
            m_c, m_t, v_c, v_t = c.mean(), t.mean(), c.var(ddof=1), t.var(ddof=1)
            rel = (m_t - m_c) / m_c
            se = math.sqrt(v_t / (n_t * m_c ** 2) + m_t ** 2 * v_c / (n_c * m_c ** 4))
            crit = float(st.t.ppf(0.5 + level / 2, df))
            low, high = rel - crit * se, rel + crit * se
            p = float(2 * st.t.sf(abs(rel / se), df))
            scale_used = "delta"
            if low <= -1.0:
                u, su = math.log(m_t / m_c), se / (m_t / m_c)
                low, high = math.expm1(u - crit * su), math.expm1(u + crit * su)
                p = float(2 * st.t.sf(abs(u / su), df))
                scale_used = "log"
            ref["relative"].append({
                "name": name, "confidence_level": level, "control": c.tolist(),
                "treatment": t.tolist(), "estimate": rel, "se": se, "ci_low": low,
                "ci_high": high, "pvalue": p, "df": df, "scale": scale_used,
                "source": "df = scipy.stats.ttest_ind(t, c, equal_var=False).df; rel = (m_t - "
                          "m_c)/m_c; se = sqrt(v_t/(n_t m_c^2) + m_t^2 v_c/(n_c m_c^4)); crit = "
                          "scipy.stats.t.ppf(0.5 + level/2, df); delta: rel -/+ crit se, p = "
                          "2 t.sf(|rel/se|, df); when rel - crit se <= -1, log scale: u = "
                          "log(m_t/m_c), su = se/(m_t/m_c), ci = expm1(u -/+ crit su), "
                          "p = 2 t.sf(|u/su|, df)"})
    OUT.write_text(json.dumps(ref, indent=1) + "\n")


if __name__ == "__main__":
    main()
