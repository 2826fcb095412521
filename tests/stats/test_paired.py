"""abkit.stats.paired against scipy / statsmodels, hand-checkable cases, a brute-force DeLong,
seeded simulations of coverage and error rates, and every edge-case diagnostic.

References are computed live in the tests with the exact scipy / statsmodels call next to the
assertion; published values name their source. Simulations use ``numpy.random.default_rng``
with fixed seeds; "within MC error" means within 3 binomial standard errors of the nominal
rate (for 1,000 runs at 95 %: +/- 0.021).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.proportion import proportion_confint

from abkit.stats.paired import (
    LOG_LOSS_EPS,
    agreement,
    delong_test,
    mcnemar_test,
    model_metrics,
    newcombe_paired_interval,
    paired_comparison,
    paired_loss_test,
    score_differences,
    wilson_interval,
)

REL = 1e-9


# --------------------------------------------------------------------------- helpers


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


def binormal(rng, m, n, mu_live, mu_cand, rho):
    """m positives and n negatives; both models' scores are bivariate normal with unit
    variances and correlation ``rho``, shifted by ``mu`` for positives: AUC = Phi(mu / sqrt 2).
    """
    cov = [[1.0, rho], [rho, 1.0]]
    pos = rng.multivariate_normal([mu_live, mu_cand], cov, size=m)
    neg = rng.multivariate_normal([0.0, 0.0], cov, size=n)
    s = np.vstack([pos, neg])
    return np.r_[np.ones(m), np.zeros(n)], s[:, 0], s[:, 1]


def brute_force_delong(y, scores):
    """DeLong et al. (1988) written from the paper's definitions, O(m n) per model.

    psi(X, Y) = 1 if X > Y, 1/2 if X == Y, 0 otherwise; theta_r = mean psi; V10_i = mean_j psi,
    V01_j = mean_i psi; S10, S01 sample covariance matrices (denominators m - 1, n - 1);
    S = S10 / m + S01 / n.
    """
    y = np.asarray(y)
    sc = np.asarray(scores, dtype=float)  # (k, N)
    pos, neg = sc[:, y == 1], sc[:, y == 0]
    m, n = pos.shape[1], neg.shape[1]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    theta = psi.mean(axis=(1, 2))
    v10 = psi.mean(axis=2) - theta[:, None]
    v01 = psi.mean(axis=1) - theta[:, None]
    s10 = v10 @ v10.T / (m - 1)
    s01 = v01 @ v01.T / (n - 1)
    return theta, s10 / m + s01 / n


# --------------------------------------------------------------------------- Wilson, Newcombe


@pytest.mark.parametrize("count,n", [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (17, 250),
                                     (499, 1000), (1, 100000)])
@pytest.mark.parametrize("cl", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(count, n, cl):
    low, high = proportion_confint(count, n, alpha=1 - cl, method="wilson")
    ci = wilson_interval(count, n, cl)
    assert ci.low == pytest.approx(low, rel=REL, abs=1e-15)
    assert ci.high == pytest.approx(high, rel=REL, abs=1e-15)


def test_wilson_empty_is_none():
    assert wilson_interval(0, 0) is None


def test_newcombe_paired_published_example():
    """Fagerland, Lydersen & Laake (2017), Statistical Analysis of Contingency Tables, ch. 8:
    Cavo et al. (2012) complete response before / after consolidation, table
    [[59, 6], [16, 80]]: Newcombe square-and-add estimate -0.0621, 95 % CI -0.1186 to -0.0046
    (the same numbers are the expected output of the R package contingencytables' test of
    Newcombe_square_and_add_CI_paired_2x2)."""
    ci = newcombe_paired_interval(59, 6, 16, 80, 0.95)
    assert (6 - 16) / 161 == pytest.approx(-0.0621, abs=5e-5)
    assert ci.low == pytest.approx(-0.1186, abs=5e-5)
    assert ci.high == pytest.approx(-0.0046, abs=5e-5)


def test_newcombe_no_discordant_pairs_still_informative():
    ci = newcombe_paired_interval(40, 0, 0, 60)
    assert ci.low < 0.0 < ci.high and ci.high - ci.low < 0.1
    assert newcombe_paired_interval(0, 0, 0, 0) is None


def test_newcombe_coverage_simulation():
    """Seeded: 1,000 paired tables, n = 200, p_u = 0.62, p_v = 0.55, strong correlation."""
    rng = np.random.default_rng(11)
    probs = np.array([0.50, 0.12, 0.05, 0.33])  # (1,1), (1,0), (0,1), (0,0)
    true = probs[0] + probs[1] - (probs[0] + probs[2])
    hits = 0
    for _ in range(1000):
        c = rng.multinomial(200, probs)
        ci = newcombe_paired_interval(*c)
        hits += ci.low <= true <= ci.high
    assert abs(hits / 1000 - 0.95) <= 0.021


# --------------------------------------------------------------------------- agreement


def test_agreement_hand_case():
    live = [0.1, 0.6, 0.7, 0.2, 0.9, 0.5]
    cand = [0.6, 0.4, 0.8, 0.1, 0.95, 0.5]  # 0.5 >= 0.5 is positive for both
    r = agreement(live, cand, threshold=0.5)
    assert r.n == 6
    assert r.agreement.count == 4 and r.agreement.estimate == pytest.approx(4 / 6)
    assert r.neg_to_pos.count == 1 and r.pos_to_neg.count == 1
    assert r.neg_to_pos.estimate == pytest.approx(1 / 6)
    assert r.live_positive.count == 4 and r.candidate_positive.count == 4
    low, high = proportion_confint(4, 6, alpha=0.05, method="wilson")
    assert (r.agreement.ci.low, r.agreement.ci.high) == pytest.approx((low, high), rel=REL)
    low, high = proportion_confint(1, 6, alpha=0.05, method="wilson")
    assert (r.pos_to_neg.ci.low, r.pos_to_neg.ci.high) == pytest.approx((low, high), rel=REL)
    d = r.to_dict()
    assert set(d["flips"]) == {"neg_to_pos", "pos_to_neg"}
    assert_json_safe(d)


def test_agreement_threshold_and_non_finite():
    r = agreement([0.2, np.nan, 0.4, np.inf], [0.3, 0.5, 0.1, 0.2], threshold=0.25)
    assert r.n == 2 and "NON_FINITE_DROPPED" in codes(r)
    assert r.neg_to_pos.count == 1 and r.pos_to_neg.count == 1  # 0.2 -> 0.3, 0.4 -> 0.1
    assert_json_safe(r.to_dict())


def test_agreement_empty():
    r = agreement([], [])
    assert r.n == 0 and "NO_PAIRS" in codes(r)
    assert r.agreement.estimate is None and r.agreement.ci is None
    assert_json_safe(r.to_dict())


def test_agreement_argument_errors():
    with pytest.raises(ValueError, match="differ in length"):
        agreement([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="one-dimensional"):
        agreement([[0.1]], [[0.2]])
    with pytest.raises(ValueError, match="confidence_level"):
        agreement([0.1], [0.2], confidence_level=1.0)
    with pytest.raises(ValueError, match="threshold"):
        agreement([0.1], [0.2], threshold=float("nan"))
    with pytest.raises(ValueError, match="numbers"):
        agreement(["a"], ["b"])


# --------------------------------------------------------------------------- score differences


def test_score_differences_against_scipy():
    rng = np.random.default_rng(3)
    live = rng.beta(2, 5, 400)
    cand = np.clip(live + rng.normal(0.01, 0.05, 400), 0, 1)
    cand[:20] = np.round(cand[:20], 1)  # some ties
    r = score_differences(live, cand, confidence_level=0.9)
    d = cand - live
    tt = stats.ttest_rel(cand, live)  # scipy.stats.ttest_rel(cand, live)
    ci = tt.confidence_interval(confidence_level=0.9)
    assert r.mean.estimate == pytest.approx(d.mean(), rel=REL)
    assert r.mean.pvalue == pytest.approx(tt.pvalue, rel=1e-7)
    assert r.mean.statistic == pytest.approx(tt.statistic, rel=REL)
    assert (r.mean.ci.low, r.mean.ci.high) == pytest.approx((ci.low, ci.high), rel=REL)
    assert r.mean_abs == pytest.approx(np.abs(d).mean(), rel=REL)
    assert r.max_abs == pytest.approx(np.abs(d).max(), rel=REL)
    qs = np.quantile(d, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    assert list(r.quantiles) == ["p01", "p05", "p25", "p50", "p75", "p95", "p99"]
    assert list(r.quantiles.values()) == pytest.approx(list(qs), rel=REL)
    sp = stats.spearmanr(live, cand)  # scipy.stats.spearmanr(live, cand)
    assert r.spearman.estimate == pytest.approx(sp.statistic, rel=REL)
    assert r.spearman.pvalue == pytest.approx(sp.pvalue, rel=1e-6)
    kt = stats.kendalltau(live, cand)  # scipy.stats.kendalltau(live, cand), tau-b
    assert r.kendall.estimate == pytest.approx(kt.statistic, rel=REL)
    assert r.kendall.pvalue == pytest.approx(kt.pvalue, rel=1e-6)
    assert_json_safe(r.to_dict())


def test_rank_correlation_small_with_ties():
    live = [1, 2, 2, 3, 4, 4, 5, 7]
    cand = [2, 1, 3, 3, 5, 4, 6, 6]
    r = score_differences(live, cand)
    sp = stats.spearmanr(live, cand)
    kt = stats.kendalltau(live, cand)
    assert r.spearman.estimate == pytest.approx(sp.statistic, rel=REL)
    assert r.spearman.pvalue == pytest.approx(sp.pvalue, rel=1e-7)
    assert r.kendall.estimate == pytest.approx(kt.statistic, rel=REL)
    assert r.kendall.pvalue == pytest.approx(kt.pvalue, rel=1e-7)


def test_score_differences_hand_case():
    r = score_differences([0.2, 0.5, 0.1], [0.3, 0.3, 0.4])
    # d = (0.1, -0.2, 0.3): mean 0.0667, mean |d| 0.2, max |d| 0.3, median 0.1
    assert r.mean.estimate == pytest.approx(0.2 / 3)
    assert r.mean_abs == pytest.approx(0.2)
    assert r.max_abs == pytest.approx(0.3)
    assert r.quantiles["p50"] == pytest.approx(0.1)
    assert r.mean.df == 2


def test_identical_models_score_differences():
    s = np.linspace(0.05, 0.95, 50)
    r = score_differences(s, s.copy())
    assert r.mean.estimate == 0.0 and r.mean.ci is None and r.mean.pvalue is None
    assert "ZERO_VARIANCE" in codes(r)
    assert r.spearman.estimate == 1.0 and r.kendall.estimate == pytest.approx(1.0)
    assert_json_safe(r.to_dict())


def test_constant_scores_correlation_undefined():
    r = score_differences(np.full(20, 0.3), np.linspace(0, 1, 20))
    assert r.spearman.estimate is None and r.kendall.pvalue is None
    assert "CONSTANT_SCORES" in codes(r)
    assert r.mean.ci is not None  # the differences do vary
    assert_json_safe(r.to_dict())


@pytest.mark.parametrize("n", [0, 1, 2])
def test_score_differences_tiny(n):
    r = score_differences(np.arange(n) / 10, np.arange(n) / 5)
    assert r.n == n
    assert (r.mean.ci is None) == (n < 2) and r.spearman.estimate is None
    expected = {0: "NO_PAIRS", 1: "TOO_FEW_PAIRS", 2: "TOO_FEW_PAIRS_FOR_CORRELATION"}[n]
    assert expected in codes(r)
    assert_json_safe(r.to_dict())


def test_score_differences_regression_values():
    rng = np.random.default_rng(5)
    live = rng.normal(100, 20, 300)
    cand = live * 1.01 + rng.normal(0, 2, 300)
    r = score_differences(live, cand)
    assert r.mean.pvalue == pytest.approx(stats.ttest_rel(cand, live).pvalue, rel=1e-7)
    assert_json_safe(r.to_dict())


# --------------------------------------------------------------------------- per-model metrics


def test_model_metrics_hand_case():
    y = [0, 0, 1, 1]
    s = [0.1, 0.4, 0.35, 0.8]
    r = model_metrics(y, s)
    # AUC: positive 0.35 beats 0.1 only, 0.8 beats both -> 3/4
    assert r.auc.estimate == pytest.approx(0.75)
    # DeLong by hand: V10 = (1/2, 1), V01 = (1, 1/2): var = 0.125/2 + 0.125/2
    assert r.auc.se == pytest.approx(math.sqrt(0.125))
    # accuracy at 0.5: predictions 0,0,0,1 -> 3 of 4 correct
    assert r.accuracy.count == 3 and r.accuracy.estimate == 0.75
    assert r.brier == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    ll = -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    assert r.log_loss == pytest.approx(ll)
    assert r.mean_prediction == pytest.approx(0.4125) and r.base_rate == 0.5
    assert r.calibration_in_the_large.estimate == pytest.approx(-0.0875)
    assert r.observed_expected_ratio == pytest.approx(0.5 / 0.4125)
    tt = stats.ttest_1samp(np.array(s) - np.array(y), 0.0)  # t interval of p - y
    ci = tt.confidence_interval(0.95)
    c = r.calibration_in_the_large.ci
    assert (c.low, c.high) == pytest.approx((ci.low, ci.high), rel=REL)
    assert r.log_loss_clip == LOG_LOSS_EPS
    assert_json_safe(r.to_dict())


def test_model_metrics_auc_matches_mann_whitney_with_ties():
    rng = np.random.default_rng(8)
    y = (rng.random(300) < 0.4).astype(float)
    s = np.round(np.clip(0.3 + 0.25 * y + rng.normal(0, 0.2, 300), 0, 1), 1)
    r = model_metrics(y, s)
    u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic  # U of the positives, ties 1/2
    assert r.auc.estimate == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), rel=REL)
    _, cov = brute_force_delong(y, [s])
    assert r.auc.se == pytest.approx(math.sqrt(cov[0, 0]), rel=REL)


def test_log_loss_clipping_is_reported():
    r = model_metrics([1, 0, 1], [0.0, 0.0, 1.0])
    assert "LOG_LOSS_CLIPPED" in codes(r)
    assert r.log_loss == pytest.approx(-math.log(1e-15) / 3, rel=1e-6)
    assert_json_safe(r.to_dict())


def test_model_metrics_edge_cases():
    one = model_metrics([1, 1, 1], [0.2, 0.6, 0.9])
    assert one.auc.estimate is None and "ONE_CLASS" in codes(one)
    assert one.accuracy.count == 2 and one.brier is not None
    empty = model_metrics([], [])
    assert empty.auc.estimate is None and empty.brier is None and empty.accuracy.ci is None
    assert "NO_LABELLED_PAIRS" in codes(empty)
    single = model_metrics([1], [0.7])
    assert single.calibration_in_the_large.ci is None and "TOO_FEW_PAIRS" in codes(single)
    notp = model_metrics([0, 1, 0, 1], [-1.0, 2.0, 0.5, 3.0])
    assert notp.auc.estimate == 1.0 and notp.brier is None and notp.log_loss is None
    assert "NOT_PROBABILITIES" in codes(notp)
    perfect = model_metrics([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.auc.estimate == 1.0 and perfect.auc.ci is None
    assert "AUC_ZERO_VARIANCE" in codes(perfect)
    const = model_metrics([0, 1, 0, 1], [0.0] * 4)
    assert const.auc.estimate == 0.5 and const.auc.ci is None
    assert const.observed_expected_ratio is None and "OE_UNDEFINED" in codes(const)
    unl = model_metrics([0, np.nan, 1, 1], [0.2, 0.3, 0.6, 0.7])
    assert unl.n == 3 and "UNLABELLED_PAIRS" in codes(unl)
    for r in (one, empty, single, notp, perfect, const, unl):
        assert_json_safe(r.to_dict())
    with pytest.raises(ValueError, match="0 / 1"):
        model_metrics([0, 2], [0.1, 0.2])


# --------------------------------------------------------------------------- McNemar


def _tables_to_arrays(n11, b, c, n00):
    """All labels 1; a model is correct when its score is 1. b: live right, candidate wrong."""
    live = np.r_[np.ones(n11), np.ones(b), np.zeros(c), np.zeros(n00)]
    cand = np.r_[np.ones(n11), np.zeros(b), np.ones(c), np.zeros(n00)]
    return np.ones(live.size), live, cand


@pytest.mark.parametrize("n11,b,c,n00", [(50, 3, 9, 38), (10, 0, 5, 2), (100, 12, 12, 5),
                                         (30, 1, 23, 4), (200, 20, 40, 100), (80, 60, 31, 9),
                                         (500, 150, 190, 160)])
def test_mcnemar_matches_statsmodels(n11, b, c, n00):
    y, live, cand = _tables_to_arrays(n11, b, c, n00)
    r = mcnemar_test(y, live, cand)
    assert (r.b, r.c, r.both_correct, r.both_wrong) == (b, c, n11, n00)
    table = [[n11, b], [c, n00]]
    if b + c < 25:
        ref = sm_mcnemar(table, exact=True)  # statsmodels mcnemar(table, exact=True)
        assert r.method == "exact"
    else:
        ref = sm_mcnemar(table, exact=False, correction=True)
        assert r.method == "chi2-continuity"
    assert r.statistic == pytest.approx(ref.statistic, rel=REL)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    n = n11 + b + c + n00
    assert r.accuracy_difference == pytest.approx((c - b) / n)
    assert r.accuracy_live.count == n11 + b and r.accuracy_candidate.count == n11 + c
    ci = newcombe_paired_interval(n11, c, b, n00)
    assert r.accuracy_difference_ci == ci
    assert "live correct & candidate wrong" in r.to_dict()["convention"]
    assert_json_safe(r.to_dict())


def test_mcnemar_exact_threshold_configurable():
    y, live, cand = _tables_to_arrays(100, 8, 22, 70)  # b + c = 30
    assert mcnemar_test(y, live, cand).method == "chi2-continuity"
    r = mcnemar_test(y, live, cand, exact_below=50)
    assert r.method == "exact"
    assert r.pvalue == pytest.approx(sm_mcnemar([[100, 8], [22, 70]], exact=True).pvalue,
                                     rel=1e-9)


def test_mcnemar_equal_discordant_chi2_floor():
    """b == c >= 25: statsmodels squares |b - c| - 1 = -1 and reports 1/(b + c); abkit floors
    the corrected difference at 0 (statistic 0, p = 1)."""
    y, live, cand = _tables_to_arrays(100, 15, 15, 10)
    r = mcnemar_test(y, live, cand)
    assert r.statistic == 0.0 and r.pvalue == 1.0
    assert sm_mcnemar([[100, 15], [15, 10]], exact=False).statistic == pytest.approx(1 / 30)


def test_mcnemar_orientation_with_real_scores():
    y = np.array([1, 1, 0, 0, 1, 0])
    live = np.array([0.9, 0.2, 0.1, 0.7, 0.6, 0.3])   # correct: T F T F T T
    cand = np.array([0.8, 0.7, 0.4, 0.2, 0.3, 0.6])   # correct: T T T T F F
    r = mcnemar_test(y, live, cand)
    assert (r.b, r.c) == (2, 2)
    assert r.both_correct == 2 and r.both_wrong == 0


def test_mcnemar_edge_cases():
    y, live, cand = _tables_to_arrays(30, 0, 0, 10)
    same = mcnemar_test(y, live, cand)
    assert same.pvalue is None and same.method is None and "NO_DISCORDANT_PAIRS" in codes(same)
    assert same.accuracy_difference == 0.0 and same.accuracy_difference_ci is not None
    empty = mcnemar_test([], [], [])
    assert empty.pvalue is None and empty.accuracy_difference is None
    assert "NO_LABELLED_PAIRS" in codes(empty)
    unl = mcnemar_test([np.nan, np.nan], [0.1, 0.9], [0.9, 0.1])
    assert unl.n == 0 and {"UNLABELLED_PAIRS", "NO_LABELLED_PAIRS"} <= codes(unl)
    for r in (same, empty, unl):
        assert_json_safe(r.to_dict())
    with pytest.raises(ValueError, match="exact_below"):
        mcnemar_test([1], [1], [1], exact_below=-1)


# --------------------------------------------------------------------------- DeLong


def test_delong_against_brute_force_with_ties():
    rng = np.random.default_rng(21)
    y, a, b = binormal(rng, 70, 110, 0.9, 1.2, 0.6)
    a, b = np.round(a, 1), np.round(b, 1)  # heavy ties, within and across classes
    r = delong_test(y, a, b, margin=0.02)
    theta, S = brute_force_delong(y, [a, b])
    assert r.auc_live.estimate == pytest.approx(theta[0], rel=REL)
    assert r.auc_candidate.estimate == pytest.approx(theta[1], rel=REL)
    assert r.auc_live.se == pytest.approx(math.sqrt(S[0, 0]), rel=REL)
    assert r.auc_candidate.se == pytest.approx(math.sqrt(S[1, 1]), rel=REL)
    var_d = S[0, 0] + S[1, 1] - 2 * S[0, 1]
    diff = theta[1] - theta[0]
    assert r.difference.estimate == pytest.approx(diff, rel=REL)
    assert r.difference.se == pytest.approx(math.sqrt(var_d), rel=1e-8)
    z = diff / math.sqrt(var_d)
    assert r.difference.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-7)
    assert r.noninferiority_pvalue == pytest.approx(
        stats.norm.sf((diff + 0.02) / math.sqrt(var_d)), rel=1e-7)
    assert r.correlation == pytest.approx(S[0, 1] / math.sqrt(S[0, 0] * S[1, 1]), rel=1e-8)
    zc = stats.norm.ppf(0.975)
    assert r.difference.ci.low == pytest.approx(diff - zc * math.sqrt(var_d), rel=1e-8)
    assert r.auc_live.ci.high == pytest.approx(theta[0] + zc * math.sqrt(S[0, 0]), rel=1e-8)
    assert_json_safe(r.to_dict())


def test_midranks_by_group_are_scipys_average_ranks_overall_and_within_each_group():
    """DeLong's three rankings of a model's scores come from one sort."""
    from abkit.stats.paired._common import _midranks, _midranks_by_group

    rng = np.random.default_rng(20261204)
    for _ in range(50):
        n = int(rng.integers(1, 300))
        x = np.round(rng.normal(size=n), int(rng.integers(0, 3)))  # ties
        g = rng.random(n) < rng.random()
        overall, within = _midranks_by_group(x, g)
        np.testing.assert_array_equal(overall, stats.rankdata(x))
        np.testing.assert_array_equal(_midranks(x), stats.rankdata(x))
        for sel in (g, ~g):
            np.testing.assert_array_equal(within[sel], stats.rankdata(x[sel]))


def test_delong_brute_force_no_ties_unbalanced():
    rng = np.random.default_rng(22)
    y, a, b = binormal(rng, 9, 140, 1.5, 0.7, -0.2)
    r = delong_test(y, a, b)
    theta, S = brute_force_delong(y, [a, b])
    assert r.difference.estimate == pytest.approx(theta[1] - theta[0], rel=REL)
    assert r.difference.se ** 2 == pytest.approx(S[0, 0] + S[1, 1] - 2 * S[0, 1], rel=1e-8)


def test_delong_hand_case():
    # live: AUC 0.75 (hand case of test_model_metrics_hand_case); candidate separates perfectly
    y = [0, 0, 1, 1]
    r = delong_test(y, [0.1, 0.4, 0.35, 0.8], [0.1, 0.2, 0.5, 0.6])
    assert r.auc_live.estimate == 0.75 and r.auc_candidate.estimate == 1.0
    # W10 = V10_c - V10_l = (1/2, 0), W01 = (0, 1/2): var = 0.125/2 + 0.125/2
    assert r.difference.se == pytest.approx(math.sqrt(0.125))
    assert "AUC_ZERO_VARIANCE" in codes(r) and r.auc_candidate.ci is None
    assert r.correlation is None


def test_delong_identical_and_rank_equivalent_models():
    rng = np.random.default_rng(4)
    y, a, _ = binormal(rng, 50, 50, 1.0, 1.0, 0.5)
    for other in (a.copy(), 1 / (1 + np.exp(-a))):  # same ranking: exactly 0 difference
        r = delong_test(y, a, other, margin=0.01)
        assert r.difference.estimate == 0.0 and r.difference.se == 0.0
        assert r.difference.ci is None and r.difference.pvalue is None
        assert r.noninferiority_pvalue is None and "ZERO_VARIANCE" in codes(r)
        assert r.auc_live.ci is not None
        assert_json_safe(r.to_dict())


@pytest.mark.parametrize("y,code", [([], "NO_LABELLED_PAIRS"), ([1], "ONE_CLASS"),
                                    ([0, 0, 0], "ONE_CLASS"), ([1, 0], "TOO_FEW_PER_CLASS"),
                                    ([1, 1, 1, 0], "TOO_FEW_PER_CLASS")])
def test_delong_small_and_one_class(y, code):
    n = len(y)
    r = delong_test(y, np.linspace(0, 1, n), np.linspace(1, 0, n))
    assert code in codes(r)
    assert r.difference.ci is None and r.difference.pvalue is None
    assert r.noninferiority_pvalue is None
    assert_json_safe(r.to_dict())


def test_delong_constant_scores():
    y = [0, 1, 0, 1, 1, 0]
    r = delong_test(y, [0.5] * 6, [0.1, 0.9, 0.2, 0.8, 0.7, 0.3])
    assert r.auc_live.estimate == 0.5 and r.auc_live.ci is None
    assert r.auc_candidate.estimate == 1.0
    assert "AUC_ZERO_VARIANCE" in codes(r)
    assert_json_safe(r.to_dict())


def test_delong_argument_errors():
    with pytest.raises(ValueError, match="margin"):
        delong_test([0, 1], [0.1, 0.2], [0.2, 0.3], margin=-0.01)
    with pytest.raises(ValueError, match="elements"):
        delong_test([0, 1, 1], [0.1, 0.2], [0.2, 0.3])


def test_delong_coverage_simulation():
    """1,000 seeded binormal data sets (m = 80 positives, n = 120 negatives, correlation 0.7,
    AUCs Phi(0.9 / sqrt 2) = 0.738 and Phi(1.2 / sqrt 2) = 0.802): the 95 % intervals of the
    difference and of each AUC cover the true values within MC error."""
    rng = np.random.default_rng(2024)
    true_l, true_c = stats.norm.cdf(0.9 / math.sqrt(2)), stats.norm.cdf(1.2 / math.sqrt(2))
    hit_d = hit_l = hit_c = 0
    runs = 1000
    for _ in range(runs):
        y, a, b = binormal(rng, 80, 120, 0.9, 1.2, 0.7)
        r = delong_test(y, a, b)
        hit_d += r.difference.ci.low <= true_c - true_l <= r.difference.ci.high
        hit_l += r.auc_live.ci.low <= true_l <= r.auc_live.ci.high
        hit_c += r.auc_candidate.ci.low <= true_c <= r.auc_candidate.ci.high
    for hits in (hit_d, hit_l, hit_c):
        assert abs(hits / runs - 0.95) <= 0.021, hits


def test_delong_paired_vs_unpaired_negative_control():
    """On highly correlated scores (rho = 0.9) a two-sample comparison that ignores the
    covariance of the two AUCs (var = var_l + var_c) is far too conservative: it almost never
    rejects, neither under H0 nor under a real improvement, while the paired DeLong test holds
    its level and detects the improvement. Measured (seed 7, 400 runs each): paired 5.8 % / 68 %,
    unpaired 0 % / 0 %."""
    rng = np.random.default_rng(7)
    rates = {}
    for label, mu_c in (("h0", 1.0), ("h1", 1.15)):
        paired = unpaired = 0
        for _ in range(400):
            y, a, b = binormal(rng, 150, 150, 1.0, mu_c, 0.9)
            r = delong_test(y, a, b)
            paired += r.difference.pvalue < 0.05
            se_u = math.hypot(r.auc_live.se, r.auc_candidate.se)
            unpaired += 2 * stats.norm.sf(abs(r.difference.estimate) / se_u) < 0.05
        rates[label] = (paired / 400, unpaired / 400)
    assert abs(rates["h0"][0] - 0.05) <= 0.033  # 3 MC se at 400 runs
    assert rates["h0"][1] < 0.01
    assert rates["h1"][0] > 0.5
    assert rates["h1"][1] < 0.1
    assert rates["h1"][0] - rates["h1"][1] > 0.4


@pytest.mark.slow
def test_delong_noninferiority_level_at_the_margin():
    """At the null boundary (true AUC difference exactly -margin) the non-inferiority test
    rejects at about its nominal 5 %; with the candidate truly equal it rejects far more.
    2,000 seeded runs, m = n = 150, correlation 0.8, margin 0.02."""
    rng = np.random.default_rng(99)
    margin = 0.02
    auc_l = stats.norm.cdf(1.0 / math.sqrt(2))
    mu_c = math.sqrt(2) * stats.norm.ppf(auc_l - margin)
    runs = 2000
    rej_null = rej_equal = 0
    for _ in range(runs):
        y, a, b = binormal(rng, 150, 150, 1.0, mu_c, 0.8)
        rej_null += delong_test(y, a, b, margin=margin).noninferiority_pvalue < 0.05
    for _ in range(500):
        y, a, b = binormal(rng, 150, 150, 1.0, 1.0, 0.8)
        rej_equal += delong_test(y, a, b, margin=margin).noninferiority_pvalue < 0.05
    assert abs(rej_null / runs - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / runs)
    assert rej_equal / 500 > 0.2  # measured 0.31


# --------------------------------------------------------------------------- paired loss test


@pytest.mark.parametrize("loss", ["log_loss", "squared_error", "absolute_error"])
def test_loss_test_against_scipy(loss):
    rng = np.random.default_rng(31)
    y = (rng.random(500) < 0.3).astype(float)
    z = rng.normal(size=500) + 1.2 * y
    live = 1 / (1 + np.exp(-(z - 1 + rng.normal(0, 0.6, 500))))
    cand = 1 / (1 + np.exp(-(z - 1 + rng.normal(0, 0.5, 500))))
    r = paired_loss_test(y, live, cand, loss=loss, margin=0.01, confidence_level=0.9)
    if loss == "log_loss":
        ll = -(y * np.log(live) + (1 - y) * np.log(1 - live))
        lc = -(y * np.log(cand) + (1 - y) * np.log(1 - cand))
    elif loss == "squared_error":
        ll, lc = (live - y) ** 2, (cand - y) ** 2
    else:
        ll, lc = np.abs(live - y), np.abs(cand - y)
    tt = stats.ttest_rel(lc, ll)  # scipy.stats.ttest_rel(loss_cand, loss_live)
    ci = tt.confidence_interval(confidence_level=0.9)
    assert r.mean_live == pytest.approx(ll.mean(), rel=REL)
    assert r.mean_candidate == pytest.approx(lc.mean(), rel=REL)
    assert r.difference.estimate == pytest.approx((lc - ll).mean(), rel=1e-8)
    assert r.difference.pvalue == pytest.approx(tt.pvalue, rel=1e-7)
    assert (r.difference.ci.low, r.difference.ci.high) == pytest.approx((ci.low, ci.high),
                                                                         rel=1e-8)
    # scipy.stats.ttest_1samp(lc - ll, 0.01, alternative="less")
    ni = stats.ttest_1samp(lc - ll, 0.01, alternative="less").pvalue
    assert r.noninferiority_pvalue == pytest.approx(ni, rel=1e-7)
    assert r.log_loss_clip == (LOG_LOSS_EPS if loss == "log_loss" else None)
    assert_json_safe(r.to_dict())


def test_loss_test_regression_target():
    rng = np.random.default_rng(32)
    y = rng.normal(50, 10, 200)
    live = y + rng.normal(0, 3, 200)
    cand = y + rng.normal(0, 2.5, 200)
    r = paired_loss_test(y, live, cand, loss="squared_error")
    tt = stats.ttest_rel((cand - y) ** 2, (live - y) ** 2)
    assert r.difference.pvalue == pytest.approx(tt.pvalue, rel=1e-7)
    with pytest.raises(ValueError, match="0 / 1"):
        paired_loss_test(y, live, cand, loss="log_loss")
    with pytest.raises(ValueError, match="loss must be"):
        paired_loss_test(y, live, cand, loss="hinge")


def test_loss_test_edge_cases():
    same = paired_loss_test([0, 1, 1, 0], [0.2, 0.7, 0.6, 0.4], [0.2, 0.7, 0.6, 0.4])
    assert same.difference.estimate == 0.0 and same.difference.ci is None
    assert same.noninferiority_pvalue is None and "ZERO_VARIANCE" in codes(same)
    one = paired_loss_test([1], [0.3], [0.4])
    assert one.difference.estimate is not None and one.difference.ci is None
    assert "TOO_FEW_PAIRS" in codes(one)
    empty = paired_loss_test([], [], [])
    assert empty.difference.estimate is None and "NO_LABELLED_PAIRS" in codes(empty)
    notp = paired_loss_test([0, 1], [1.5, 0.2], [0.3, 0.4])
    assert notp.mean_live is None and "NOT_PROBABILITIES" in codes(notp)
    clipped = paired_loss_test([0, 1, 0], [1.0, 0.5, 0.2], [0.1, 0.5, 0.3])
    assert "LOG_LOSS_CLIPPED" in codes(clipped) and clipped.difference.ci is not None
    for r in (same, one, empty, notp, clipped):
        assert_json_safe(r.to_dict())


def test_loss_test_noninferiority_level():
    """At the null boundary the non-inferiority p-value rejects at about its nominal 5 %.

    A finite population of 200,000 per-request log losses of two realistic models (skewed
    differences) is shifted so that the mean difference equals the margin exactly; 2,000
    seeded samples of 400 requests are drawn with replacement. The losses are passed as
    absolute errors against ``y = 0`` so that the shift can be applied exactly.
    """
    rng = np.random.default_rng(77)
    margin, n, runs = 0.01, 400, 2000
    y = (rng.random(200_000) < 0.3).astype(float)
    z = rng.normal(size=y.size) + 1.2 * y
    pl = 1 / (1 + np.exp(-(z - 1 + rng.normal(0, 0.6, y.size))))
    pc = 1 / (1 + np.exp(-(z - 1 + rng.normal(0, 0.6, y.size))))
    ll = -(y * np.log(pl) + (1 - y) * np.log(1 - pl))
    lc = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    shift = margin - (lc - ll).mean()
    if shift >= 0:
        lc = lc + shift
    else:
        ll = ll - shift
    assert (lc - ll).mean() == pytest.approx(margin, abs=1e-12)
    rej = 0
    for _ in range(runs):
        i = rng.integers(0, y.size, n)
        r = paired_loss_test(np.zeros(n), ll[i], lc[i], loss="absolute_error", margin=margin)
        rej += r.noninferiority_pvalue < 0.05
    assert abs(rej / runs - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / runs)


# --------------------------------------------------------------------------- bundle


def test_paired_comparison_bundle():
    rng = np.random.default_rng(41)
    y = (rng.random(800) < 0.35).astype(float)
    y[rng.random(800) < 0.2] = np.nan  # labels missing for ~20 %
    z = rng.normal(size=800) + 1.3 * np.nan_to_num(y)
    live = 1 / (1 + np.exp(-(z - 1 + rng.normal(0, 0.5, 800))))
    cand = 1 / (1 + np.exp(-(z - 1 + rng.normal(0, 0.4, 800))))
    r = paired_comparison(live, cand, y, auc_margin=0.005, log_loss_margin=0.01)
    d = r.to_dict()
    assert d["pairs"] == 800 and d["labelled_pairs"] == int((~np.isnan(y)).sum())
    assert set(d["quality"]) == {"auc", "accuracy", "brier", "log_loss"}
    for row in d["quality"].values():
        assert {"live", "candidate", "diff", "ci", "pvalue"} <= set(row)
    lab = ~np.isnan(y)
    dl = delong_test(y[lab], live[lab], cand[lab], margin=0.005)
    assert d["quality"]["auc"]["diff"] == pytest.approx(dl.difference.estimate, rel=REL)
    assert d["quality"]["auc"]["noninferiority_pvalue"] == pytest.approx(
        dl.noninferiority_pvalue, rel=REL)
    assert d["mcnemar"]["b"] + d["mcnemar"]["c"] > 0
    assert_json_safe(d)
    nolab = paired_comparison(live, cand)
    assert nolab.live is None and nolab.to_dict()["quality"] == {}
    assert_json_safe(nolab.to_dict())
    reg = paired_comparison(live * 100, cand * 100, y)
    assert reg.log_loss is None and reg.has("NOT_PROBABILITIES")
    assert_json_safe(reg.to_dict())


@pytest.mark.parametrize("case", ["empty", "one", "one_class", "identical", "constant"])
def test_bundle_edge_cases_never_nan(case):
    y, a, b = {
        "empty": ([], [], []),
        "one": ([1], [0.7], [0.6]),
        "one_class": ([0, 0, 0, 0], [0.1, 0.5, 0.7, 0.2], [0.2, 0.4, 0.9, 0.1]),
        "identical": ([0, 1, 0, 1, 1], [0.1, 0.8, 0.3, 0.6, 0.4], [0.1, 0.8, 0.3, 0.6, 0.4]),
        "constant": ([0, 1, 0, 1, 1], [0.5] * 5, [0.5] * 5),
    }[case]
    r = paired_comparison(a, b, y)
    d = r.to_dict()
    assert_json_safe(d)
    if case == "identical":
        assert r.delong.difference.pvalue is None and r.mcnemar.pvalue is None
        assert r.log_loss.difference.ci is None and r.scores.mean.ci is None
    if case == "constant":
        assert r.scores.spearman.estimate is None and r.scores.has("CONSTANT_SCORES")
