"""Distribution drift of one feature (or one model output) between two samples.

Each measure compares a *reference* sample (a baseline window, or the live variant) with a
*current* sample (a later window, or the candidate) and returns a :class:`DriftResult`. Numeric
features are 1-D float arrays; categorical features are 1-D arrays of strings or other objects,
compared by ``str(value)`` (integral floats written as integers, so that a column read as
``1.0`` in one window and ``1`` in another keeps its categories). Missing values (``NaN``,
``None``) and, for numeric features, infinities are left out and counted in a
``MISSING_VALUES`` diagnostic.

Measures
--------
``ks``
    Two-sample Kolmogorov-Smirnov statistic ``D = sup |F_ref - F_cur|`` and its p-value,
    computed by :func:`scipy.stats.ks_2samp` (exact for small samples, asymptotic otherwise).
    Numeric only.
``chi2``
    Pearson chi-square test of homogeneity of the 2 x K table of category counts (no Yates
    correction; ``scipy.stats.chi2_contingency(table, correction=False)``). Categorical only.
``psi``
    Population stability index ``sum_i (c_i - r_i) ln(c_i / r_i)`` over bins (Siddiqi 2006,
    *Credit Risk Scorecards*, Wiley; its sampling distribution is studied in Yurdakul 2018,
    PhD thesis, Western Michigan University). Numeric bins are cut at the reference
    quantiles; categorical bins are the categories.
``js``
    Jensen-Shannon *distance* (square root of the divergence, base 2, in ``[0, 1]``; Lin 1991,
    IEEE Trans. Inf. Theory 37(1)) between the same binned distributions as ``psi``;
    ``scipy.spatial.distance.jensenshannon(r, c, base=2)``.
``wasserstein``
    Wasserstein-1 (earth mover's) distance between the two empirical distributions,
    :func:`scipy.stats.wasserstein_distance`, divided by the reference sample's standard
    deviation. Numeric only.

Binning (``psi``, ``js``)
    Numeric: ``bins`` (default 10) bins with edges at the reference's ``k / bins`` quantiles
    (``numpy.quantile``, linear interpolation), closed on the right: ``(-inf, e_1], (e_1, e_2],
    ..., (e_{B-1}, inf)``; the outer bins are open, so current values outside the reference's
    range are counted. Repeated edges (features with ties, e.g. a count that is 0 for half the
    requests) are merged, with a ``BINS_MERGED`` diagnostic. Categorical: one bin per category
    seen in either sample.

PSI epsilon
    An empty bin would make ``ln(c_i / r_i)`` infinite. Each bin's proportion is floored at
    ``epsilon = 1e-4`` (``max(count / n, epsilon)``, no renormalisation) before PSI is computed;
    a bin empty in both samples contributes 0. A bin holding a share ``s`` of one sample and
    none of the other contributes about ``s * ln(s / 1e-4)`` (0.31 for ``s = 0.05``). JS needs
    no epsilon (``0 log 0 = 0``).

Normalisation of the Wasserstein distance: standard deviation, not IQR
    For a location shift of a normal distribution by ``delta`` standard deviations, ``W1 / sd``
    is exactly ``delta``, so the statistic reads as "shift in reference standard deviations".
    The IQR would be more robust to heavy tails, but it is 0 for any feature with more than
    half of its mass on one value (counts such as ``num_support_tickets``, zero-inflated
    amounts, binary flags coded 0/1), which would leave the measure undefined on common ML
    features; the standard deviation is 0 only for a constant reference. The sample standard
    deviation (``ddof=1``) is used. A reference with zero spread gives ``statistic = None``
    and ``ZERO_SPREAD``.

Default thresholds (:class:`DriftThresholds`) and their provenance
    ================  ======================================  ==================================
    method            ``drifted`` when                        provenance / meaning
    ================  ======================================  ==================================
    ``ks``            ``pvalue < 0.01`` and ``D >= 0.1``      p-value at 1 %; the floor on ``D``
                                                              (abkit's choice) means the CDFs
                                                              differ by at least 10 points
                                                              somewhere; a normal location
                                                              shift of 0.25 sd gives D = 0.099
    ``chi2``          ``pvalue < 0.01`` and ``TV >= 0.1``     TV = total variation distance
                                                              ``0.5 sum |r_k - c_k|`` of the
                                                              (pooled) category shares: at
                                                              least 10 points of probability
                                                              moved between categories (the
                                                              categorical analogue of KS's D)
    ``psi``           ``PSI >= 0.1``                          Siddiqi (2006) rule of thumb:
                                                              < 0.1 stable, 0.1-0.25 moderate
                                                              shift, >= 0.25 major shift
                                                              (``MAJOR_SHIFT`` diagnostic);
                                                              with deciles a normal shift of
                                                              0.32 sd gives 0.1, 0.51 sd 0.25
    ``js``            ``distance >= 0.1``                     Evidently's default for JS
                                                              distance (docs.evidentlyai.com,
                                                              "Data drift algorithm"); 0.25 sd
                                                              normal shift gives 0.10
    ``wasserstein``   ``W1 / sd >= 0.1``                      Evidently's default for the
                                                              normed Wasserstein distance; a
                                                              0.1 sd location shift
    ================  ======================================  ==================================

    The effect-size floors on ``ks`` and ``chi2`` keep huge samples (10^6 requests) from
    flagging shifts too small to matter: with ``n = 10^6`` a 0.005 sd shift already has
    ``p < 0.01``. The floors are measures of effect that do not depend on the sample sizes or
    on their ratio (unlike Cramer's V, which for a 2 x K table shrinks by ``sqrt(4 r (1 - r))``
    when a fraction ``r`` of the units is in the current sample, so that a small current window
    against a large reference could never reach a fixed V). Significant shifts below the floor
    get a ``BELOW_EFFECT_FLOOR`` diagnostic.

    The distance measures (``psi``, ``js``, ``wasserstein``) have no p-value and are biased
    upwards in small samples. Each result carries ``expected_under_no_drift``, the large-sample
    expectation of the statistic when both samples come from the same distribution::

        PSI:          (B - 1) (1/n_ref + 1/n_cur)
        JS distance:  sqrt( (B - 1) (1/n_ref + 1/n_cur) / (8 ln 2) )
        W1 / sd:      sqrt(2 / pi) sqrt(1/n_ref + 1/n_cur) * integral sqrt(F (1 - F)) dx / sd

    (second-order expansions of the divergences around equal multinomial shares, and the
    expected absolute value of the Gaussian limit of ``F_ref - F_cur`` integrated over ``x``,
    with ``F`` the reference's empirical CDF). When it reaches half the threshold the result
    gets ``SMALL_SAMPLE``: at 10 bins and 1,000 values per sample PSI averages 0.018 and the JS
    distance about 0.057 without any drift; at 200 values the JS distance exceeds 0.1 by chance
    alone.

Sparse categories (``chi2``)
    Every expected count of the 2 x K table must be at least ``min_expected`` (default 5,
    Cochran 1954, *Biometrics* 10(4)). Categories whose smaller expected count is below it are
    pooled into one ``"<other>"`` column, smallest first; if that column is itself still too
    small it absorbs the next smallest category, and so on. A category seen in only one sample
    is an ordinary column (a zero in one row). The diagnostic ``SPARSE_CATEGORIES_POOLED`` says
    how many categories were pooled; TV is computed on the pooled table.

Paired samples
    The p-values of ``ks`` and ``chi2`` assume two independent samples. When the two samples
    are the outputs of the live and the candidate model on the *same* requests (a shadow
    test), they are positively dependent, the null distribution of the statistic is narrower,
    and the p-values are conservative; the distances are unaffected.

Edge cases give ``statistic = None``, ``pvalue = None`` and ``drifted = None`` with a diagnostic:
``EMPTY_SAMPLE`` (a sample has no values), ``ALL_MISSING`` (all values missing),
``CONSTANT_FEATURE`` (numeric: one and the same value in both samples), ``ONE_CATEGORY``
(categorical: one and the same category in both samples), ``ZERO_SPREAD`` (Wasserstein with a
constant reference), ``TOO_FEW_CATEGORIES`` (chi-square with fewer than 2 columns after
pooling).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from .results import Diagnostic, HasDiagnostics

__all__ = [
    "CATEGORICAL_METHODS",
    "NUMERIC_METHODS",
    "DriftOnset",
    "DriftResult",
    "DriftThresholds",
    "chi2_drift",
    "drift",
    "drift_onset",
    "drift_table",
    "js_drift",
    "ks_drift",
    "psi_drift",
    "wasserstein_drift",
]

Method = Literal["ks", "chi2", "psi", "js", "wasserstein"]
NUMERIC_METHODS: tuple[str, ...] = ("ks", "psi", "js", "wasserstein")
CATEGORICAL_METHODS: tuple[str, ...] = ("chi2", "psi", "js")
_ALL_METHODS = ("ks", "chi2", "psi", "js", "wasserstein")

PSI_EPSILON = 1e-4
OTHER = "<other>"
# thresholds are inclusive; a statistic within this of its threshold counts as reaching it, so
# that rounding (0.09999999999999999 for a total variation of exactly 0.1) does not decide
_TOL = 1e-12


@dataclass(frozen=True)
class DriftThresholds:
    """Thresholds that decide ``drifted`` (see the module docstring for their provenance).

    Attributes
    ----------
    alpha : float
        p-value threshold of ``ks`` and ``chi2`` (default 0.01).
    ks_min_statistic : float
        Effect floor on the KS statistic ``D`` (default 0.1).
    chi2_min_tv : float
        Effect floor on the total variation distance of the category shares (default 0.1).
    psi, psi_major : float
        PSI above which a feature drifted (0.1) and above which the shift is "major" (0.25,
        diagnostic only).
    js : float
        Jensen-Shannon distance threshold (0.1).
    wasserstein : float
        Threshold on ``W1 / sd(reference)`` (0.1).
    """

    alpha: float = 0.01
    ks_min_statistic: float = 0.1
    chi2_min_tv: float = 0.1
    psi: float = 0.1
    psi_major: float = 0.25
    js: float = 0.1
    wasserstein: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        for name in ("ks_min_statistic", "chi2_min_tv", "psi", "psi_major", "js", "wasserstein"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")

    def threshold(self, method: str) -> float:
        """The threshold that the method's ``threshold`` field reports."""
        return {
            "ks": self.alpha, "chi2": self.alpha, "psi": self.psi, "js": self.js,
            "wasserstein": self.wasserstein,
        }[method]


DEFAULT_THRESHOLDS = DriftThresholds()


@dataclass(frozen=True)
class DriftResult(HasDiagnostics):
    """One drift measure for one feature.

    Attributes
    ----------
    method : str
        ``"ks"``, ``"chi2"``, ``"psi"``, ``"js"`` or ``"wasserstein"``.
    statistic : float or None
        KS ``D``; the chi-square statistic; PSI; JS distance; ``W1 / sd(reference)``.
    pvalue : float or None
        For ``ks`` and ``chi2``; ``None`` for the distance measures.
    threshold : float
        For ``ks``/``chi2`` the p-value threshold (``alpha``); otherwise the threshold on
        ``statistic``.
    drifted : bool or None
        ``ks``/``chi2``: ``pvalue < threshold and effect_size >= effect_floor``; others:
        ``statistic >= threshold``. ``None`` when the statistic is undefined (see diagnostics).
    n_reference, n_current : int
        Values used (after leaving out missing values).
    effect_size, effect_floor : float or None
        ``ks``: ``D`` and its floor; ``chi2``: the total variation distance and its floor.
    expected_under_no_drift : float or None
        Large-sample expectation of the distance measures with no drift at these sample sizes.
    feature : str or None
        Feature name when the result comes from :func:`drift_table`.
    """

    method: str
    statistic: float | None
    pvalue: float | None
    threshold: float
    drifted: bool | None
    n_reference: int
    n_current: int
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)
    effect_size: float | None = None
    effect_floor: float | None = None
    expected_under_no_drift: float | None = None
    feature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "method": self.method,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "effect_size": self.effect_size,
            "effect_floor": self.effect_floor,
            "expected_under_no_drift": self.expected_under_no_drift,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


# --------------------------------------------------------------------------- input cleaning


@dataclass(frozen=True)
class _Clean:
    values: np.ndarray
    n_raw: int
    n_missing: int


def _check_1d(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {a.shape}")
    return a


def _clean_numeric(x: Any, name: str) -> _Clean:
    a = _check_1d(x, name)
    if a.dtype.kind not in "biuf":
        try:
            a = np.array([np.nan if v is None else v for v in a], dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} holds non-numeric values; pass the feature as categorical"
            ) from None
    a = a.astype(float, copy=False)
    keep = np.isfinite(a)
    return _Clean(a[keep], int(a.size), int(a.size - keep.sum()))


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")


def _float_labels(v: np.ndarray) -> np.ndarray:
    """Labels of float categories; integral values as integers, so that 1.0 and 1 agree."""
    if v.size and np.all(np.isfinite(v)) and np.all(v == np.round(v)) and \
            np.all(np.abs(v) < 2.0**53):
        return v.astype(np.int64).astype(str)
    return v.astype(str)


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _clean_categorical(x: Any, name: str) -> _Clean:
    a = _check_1d(x, name)
    if a.dtype.kind in "US":
        return _Clean(a.astype(str), int(a.size), 0)
    if a.dtype.kind == "f":
        keep = ~np.isnan(a)
        return _Clean(_float_labels(a[keep]), int(a.size), int(a.size - keep.sum()))
    if a.dtype.kind in "biu":
        return _Clean(a.astype(str), int(a.size), 0)
    keep = np.fromiter((not _is_missing(v) for v in a), dtype=bool, count=a.size)
    labels = np.array([_label(v) for v in a[keep]], dtype=str) if keep.any() else \
        np.array([], dtype=str)
    return _Clean(labels, int(a.size), int(a.size - keep.sum()))


def _missing_note(ref: _Clean, cur: _Clean) -> list[Diagnostic]:
    if ref.n_missing == 0 and cur.n_missing == 0:
        return []
    return [Diagnostic(
        "MISSING_VALUES",
        f"{ref.n_missing} of {ref.n_raw} reference and {cur.n_missing} of {cur.n_raw} current "
        "values are missing or non-finite and were left out",
    )]


def _empty_check(ref: _Clean, cur: _Clean) -> Diagnostic | None:
    for label, c in (("reference", ref), ("current", cur)):
        if c.values.size == 0:
            if c.n_raw == 0:
                return Diagnostic("EMPTY_SAMPLE",
                                  f"the {label} sample is empty; nothing to compare")
            return Diagnostic("ALL_MISSING", f"all {c.n_raw} {label} values are missing; "
                              "nothing to compare")
    return None


def _constant_check(ref: _Clean, cur: _Clean, categorical: bool) -> Diagnostic | None:
    r0 = ref.values[0]
    if np.all(ref.values == r0) and np.all(cur.values == r0):
        if categorical:
            return Diagnostic("ONE_CATEGORY", f"both samples hold the single category {r0!s}; "
                              "there is no distribution to compare")
        return Diagnostic("CONSTANT_FEATURE", f"the feature is constant ({float(r0):g}) in both "
                          "samples; there is no distribution to compare")
    return None


def _undefined(method: str, thr: DriftThresholds, ref: _Clean, cur: _Clean,
               diags: list[Diagnostic], feature: str | None) -> DriftResult:
    return DriftResult(method, None, None, thr.threshold(method), None, int(ref.values.size),
                       int(cur.values.size), tuple(diags), feature=feature)


def _prepare(method: str, reference: Any, current: Any, categorical: bool,
             thr: DriftThresholds, feature: str | None
             ) -> tuple[_Clean, _Clean, list[Diagnostic], DriftResult | None]:
    clean = _clean_categorical if categorical else _clean_numeric
    ref, cur = clean(reference, "reference"), clean(current, "current")
    diags = _missing_note(ref, cur)
    bad = _empty_check(ref, cur) or _constant_check(ref, cur, categorical)
    if bad is not None:
        diags.append(bad)
        return ref, cur, diags, _undefined(method, thr, ref, cur, diags, feature)
    return ref, cur, diags, None


def _thresholds(t: DriftThresholds | None) -> DriftThresholds:
    if t is None:
        return DEFAULT_THRESHOLDS
    if not isinstance(t, DriftThresholds):
        raise TypeError("thresholds must be a DriftThresholds instance")
    return t


def _check_bins(bins: int) -> int:
    if isinstance(bins, bool) or int(bins) != bins or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    return int(bins)


def _small_sample(method: str, expected: float, threshold: float, n_r: int, n_c: int
                  ) -> list[Diagnostic]:
    if threshold > 0 and expected >= 0.5 * threshold:
        return [Diagnostic(
            "SMALL_SAMPLE",
            f"with {n_r} reference and {n_c} current values the {method} statistic averages "
            f"about {expected:.3g} with no drift at all (threshold {threshold:g}); use larger "
            "windows or a test with a p-value (ks, chi2)",
        )]
    return []


# --------------------------------------------------------------------------- KS


def ks_drift(
    reference: Any, current: Any, *, thresholds: DriftThresholds | None = None,
    feature: str | None = None,
) -> DriftResult:
    """Two-sample Kolmogorov-Smirnov drift test of a numeric feature.

    ``statistic`` is ``D = sup_x |F_ref(x) - F_cur(x)|`` and ``pvalue`` its two-sided p-value,
    both from :func:`scipy.stats.ks_2samp` (``method="auto"``: exact distribution for small
    samples, Kolmogorov's asymptotic one otherwise; Hodges 1958). ``drifted`` when
    ``pvalue < thresholds.alpha`` (0.01) and ``D >= thresholds.ks_min_statistic`` (0.1).
    """
    from scipy import stats

    thr = _thresholds(thresholds)
    ref, cur, diags, bad = _prepare("ks", reference, current, False, thr, feature)
    if bad is not None:
        return bad
    res = stats.ks_2samp(ref.values, cur.values)
    d, p = float(res.statistic), float(min(max(res.pvalue, 0.0), 1.0))
    sig = p < thr.alpha
    big = d >= thr.ks_min_statistic - _TOL
    if sig and not big:
        diags.append(Diagnostic(
            "BELOW_EFFECT_FLOOR",
            f"the shift is significant (p = {p:.3g}) but D = {d:.3g} is below the floor "
            f"{thr.ks_min_statistic:g}; not flagged",
        ))
    return DriftResult("ks", d, p, thr.alpha, bool(sig and big), int(ref.values.size),
                       int(cur.values.size), tuple(diags), d, thr.ks_min_statistic, None, feature)


# --------------------------------------------------------------------------- chi-square


def _category_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Categories (sorted union) and a 2 x K count table."""
    cats, inv = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    k = cats.size
    table = np.zeros((2, k), dtype=float)
    table[0] = np.bincount(inv[: ref.size], minlength=k)
    table[1] = np.bincount(inv[ref.size:], minlength=k)
    return cats, table


def _pool_sparse(cats: np.ndarray, table: np.ndarray, min_expected: float
                 ) -> tuple[list[str], np.ndarray, int]:
    """Pool columns whose smaller expected count is below ``min_expected`` into ``<other>``."""
    rows = table.sum(axis=1)
    total = rows.sum()
    min_row_share = rows.min() / total
    col = table.sum(axis=0)
    # expected count of column j in the smaller row is col_j * min_row / total
    order = np.argsort(col, kind="stable")
    small = [j for j in order if col[j] * min_row_share < min_expected]
    if not small:
        return [str(c) for c in cats], table, 0
    pooled = set(small)
    other = table[:, small].sum(axis=1)
    keep = [j for j in order if j not in pooled]  # ascending column totals
    while keep and other.sum() * min_row_share < min_expected:
        j = keep.pop(0)
        pooled.add(j)
        other = other + table[:, j]
    keep_sorted = sorted(keep)
    names = [str(cats[j]) for j in keep_sorted] + [OTHER]
    new = np.column_stack([table[:, keep_sorted], other]) if keep_sorted else other[:, None]
    return names, new, len(pooled)


def chi2_drift(
    reference: Any, current: Any, *, min_expected: float = 5.0,
    thresholds: DriftThresholds | None = None, feature: str | None = None,
) -> DriftResult:
    """Pearson chi-square test of homogeneity of a categorical feature's shares.

    Builds the 2 x K table of counts (reference, current) over the categories seen in either
    sample, pools sparse categories (every expected count ``>= min_expected``, default 5,
    after Cochran 1954; see the module docstring), and computes
    ``X^2 = sum (O - E)^2 / E`` with ``(rows - 1)(K - 1) = K - 1`` degrees of freedom, without
    Yates' correction. Reference: ``scipy.stats.chi2_contingency(table, correction=False)``.
    ``drifted`` when ``pvalue < thresholds.alpha`` (0.01) and the total variation distance of
    the pooled shares is ``>= thresholds.chi2_min_tv`` (0.1).
    """
    from scipy import special as sp

    if not (math.isfinite(min_expected) and min_expected > 0):
        raise ValueError(f"min_expected must be a positive number, got {min_expected!r}")
    thr = _thresholds(thresholds)
    ref, cur, diags, bad = _prepare("chi2", reference, current, True, thr, feature)
    if bad is not None:
        return bad
    cats, table = _category_counts(ref.values, cur.values)
    names, table, n_pooled = _pool_sparse(cats, table, min_expected)
    if n_pooled:
        diags.append(Diagnostic(
            "SPARSE_CATEGORIES_POOLED",
            f"{n_pooled} of {cats.size} categories had an expected count below {min_expected:g} "
            f"and were pooled into '{OTHER}' ({len(names)} columns tested)",
        ))
    if table.shape[1] < 2:
        diags.append(Diagnostic(
            "TOO_FEW_CATEGORIES",
            f"after pooling sparse categories only one column is left ({cats.size} categories, "
            f"{int(table.sum())} values); the samples are too small for a chi-square test",
        ))
        return _undefined("chi2", thr, ref, cur, diags, feature)
    rows = table.sum(axis=1, keepdims=True)
    cols = table.sum(axis=0, keepdims=True)
    expected = rows * cols / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    df = table.shape[1] - 1
    p = float(min(max(sp.chdtrc(df, stat), 0.0), 1.0))
    shares = table / rows
    tv = float(0.5 * np.abs(shares[0] - shares[1]).sum())
    sig = p < thr.alpha
    big = tv >= thr.chi2_min_tv - _TOL
    if sig and not big:
        diags.append(Diagnostic(
            "BELOW_EFFECT_FLOOR",
            f"the shift is significant (p = {p:.3g}) but the total variation distance "
            f"{tv:.3g} is below the floor {thr.chi2_min_tv:g}; not flagged",
        ))
    return DriftResult("chi2", stat, p, thr.alpha, bool(sig and big), int(ref.values.size),
                       int(cur.values.size), tuple(diags), tv, thr.chi2_min_tv, None, feature)


# --------------------------------------------------------------------------- binned measures


def _binned(ref: _Clean, cur: _Clean, categorical: bool, bins: int
            ) -> tuple[np.ndarray, np.ndarray, list[Diagnostic]]:
    """Shares of the reference and current samples over the common bins."""
    if categorical:
        _, table = _category_counts(ref.values, cur.values)
        return table[0] / ref.values.size, table[1] / cur.values.size, []
    probs = np.arange(1, bins) / bins
    edges = np.unique(np.quantile(ref.values, probs))
    diags = []
    if edges.size < bins - 1:
        diags.append(Diagnostic(
            "BINS_MERGED",
            f"the reference has ties at its quantiles: {edges.size + 1} distinct bins instead "
            f"of {bins}",
        ))
    nb = edges.size + 1
    r = np.bincount(np.searchsorted(edges, ref.values, side="left"), minlength=nb)
    c = np.bincount(np.searchsorted(edges, cur.values, side="left"), minlength=nb)
    return r / ref.values.size, c / cur.values.size, diags


def _harmonic(n_r: int, n_c: int) -> float:
    return 1.0 / n_r + 1.0 / n_c


def psi_drift(
    reference: Any, current: Any, *, categorical: bool = False, bins: int = 10,
    epsilon: float = PSI_EPSILON, thresholds: DriftThresholds | None = None,
    feature: str | None = None,
) -> DriftResult:
    """Population stability index between the binned reference and current samples.

    ``PSI = sum_i (c_i - r_i) ln(c_i / r_i)`` with ``r_i``, ``c_i`` the shares of bin ``i``,
    each floored at ``epsilon`` (default 1e-4); bins at the reference's deciles for numeric
    features (``bins``, default 10), categories for categorical ones (module docstring).
    Siddiqi (2006). ``drifted`` when ``PSI >= thresholds.psi`` (0.1); ``MAJOR_SHIFT`` when
    ``PSI >= thresholds.psi_major`` (0.25).
    """
    thr = _thresholds(thresholds)
    bins = _check_bins(bins)
    if not (math.isfinite(epsilon) and 0.0 < epsilon < 1.0):
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon!r}")
    ref, cur, diags, bad = _prepare("psi", reference, current, categorical, thr, feature)
    if bad is not None:
        return bad
    r, c, d2 = _binned(ref, cur, categorical, bins)
    diags += d2
    rr, cc = np.maximum(r, epsilon), np.maximum(c, epsilon)
    psi = float(np.sum((cc - rr) * np.log(cc / rr)))
    n_r, n_c = int(ref.values.size), int(cur.values.size)
    expected = (r.size - 1) * _harmonic(n_r, n_c)
    diags += _small_sample("PSI", expected, thr.psi, n_r, n_c)
    if psi >= thr.psi_major - _TOL:
        diags.append(Diagnostic("MAJOR_SHIFT", f"PSI = {psi:.3g} >= {thr.psi_major:g}: a major "
                                "shift by the usual rule of thumb"))
    return DriftResult("psi", psi, None, thr.psi, bool(psi >= thr.psi - _TOL), n_r, n_c,
                       tuple(diags), None, None, expected, feature)


def js_drift(
    reference: Any, current: Any, *, categorical: bool = False, bins: int = 10,
    thresholds: DriftThresholds | None = None, feature: str | None = None,
) -> DriftResult:
    """Jensen-Shannon distance (base 2, in [0, 1]) between the binned samples.

    ``sqrt( KL(r || m) / 2 + KL(c || m) / 2 )`` with ``m = (r + c) / 2`` and logarithms in base
    2 (Lin 1991), over the same bins as :func:`psi_drift`. Reference:
    ``scipy.spatial.distance.jensenshannon(r, c, base=2)``. ``drifted`` when the distance is
    ``>= thresholds.js`` (0.1).
    """
    thr = _thresholds(thresholds)
    bins = _check_bins(bins)
    ref, cur, diags, bad = _prepare("js", reference, current, categorical, thr, feature)
    if bad is not None:
        return bad
    r, c, d2 = _binned(ref, cur, categorical, bins)
    diags += d2
    m = 0.5 * (r + c)

    def kl(p: np.ndarray) -> float:
        nz = p > 0
        return float(np.sum(p[nz] * np.log2(p[nz] / m[nz])))

    div = 0.5 * kl(r) + 0.5 * kl(c)
    dist = float(math.sqrt(min(max(div, 0.0), 1.0)))
    n_r, n_c = int(ref.values.size), int(cur.values.size)
    expected = math.sqrt((r.size - 1) * _harmonic(n_r, n_c) / (8.0 * math.log(2.0)))
    diags += _small_sample("JS distance", expected, thr.js, n_r, n_c)
    return DriftResult("js", dist, None, thr.js, bool(dist >= thr.js - _TOL), n_r, n_c,
                       tuple(diags), None, None, expected, feature)


def wasserstein_drift(
    reference: Any, current: Any, *, thresholds: DriftThresholds | None = None,
    feature: str | None = None,
) -> DriftResult:
    """Wasserstein-1 distance divided by the reference's standard deviation (numeric).

    ``W1 = integral |F_ref(x) - F_cur(x)| dx`` between the empirical CDFs,
    :func:`scipy.stats.wasserstein_distance`, over ``std(reference, ddof=1)`` (module
    docstring: why not the IQR). ``drifted`` when ``W1 / sd >= thresholds.wasserstein`` (0.1).
    A reference with zero spread (or a single value) gives ``None`` and ``ZERO_SPREAD``.
    """
    from scipy import stats

    thr = _thresholds(thresholds)
    ref, cur, diags, bad = _prepare("wasserstein", reference, current, False, thr, feature)
    if bad is not None:
        return bad
    n_r, n_c = int(ref.values.size), int(cur.values.size)
    with np.errstate(over="ignore", invalid="ignore"):
        sd = float(np.std(ref.values, ddof=1)) if n_r > 1 else 0.0
    if not math.isfinite(sd):
        diags.append(Diagnostic("NUMERIC_OVERFLOW", "the reference values are out of "
                                "double-precision range; rescale the feature"))
        return _undefined("wasserstein", thr, ref, cur, diags, feature)
    if sd == 0.0 or sd <= 1e-12 * float(np.max(np.abs(ref.values))):
        diags.append(Diagnostic(
            "ZERO_SPREAD",
            "the reference sample has no spread (a single value), so the distance cannot be "
            "expressed in reference standard deviations; use ks or psi",
        ))
        return _undefined("wasserstein", thr, ref, cur, diags, feature)
    w = float(stats.wasserstein_distance(ref.values, cur.values)) / sd
    xs = np.sort(ref.values)
    f = np.arange(1, n_r) / n_r
    integral = float(np.sum(np.diff(xs) * np.sqrt(f * (1.0 - f))))
    expected = math.sqrt(2.0 / math.pi) * math.sqrt(_harmonic(n_r, n_c)) * integral / sd
    diags += _small_sample("normalised Wasserstein", expected, thr.wasserstein, n_r, n_c)
    drifted = bool(w >= thr.wasserstein - _TOL)
    return DriftResult("wasserstein", w, None, thr.wasserstein, drifted, n_r, n_c, tuple(diags),
                       None, None, expected, feature)


# --------------------------------------------------------------------------- dispatch


def _check_method(method: str) -> str:
    if method not in _ALL_METHODS:
        raise ValueError(f"method must be one of {', '.join(_ALL_METHODS)}; got {method!r}")
    return method


def drift(
    reference: Any, current: Any, method: str, *, categorical: bool = False, bins: int = 10,
    thresholds: DriftThresholds | None = None, feature: str | None = None,
) -> DriftResult:
    """Run one drift ``method`` (``"ks"``, ``"chi2"``, ``"psi"``, ``"js"``, ``"wasserstein"``).

    ``ks`` and ``wasserstein`` need a numeric feature and ``chi2`` a categorical one; asking
    for them on the other kind raises ``ValueError``. ``bins`` applies to ``psi`` and ``js``.
    """
    _check_method(method)
    if categorical and method not in CATEGORICAL_METHODS:
        raise ValueError(f"{method} applies to numeric features only")
    if not categorical and method not in NUMERIC_METHODS:
        raise ValueError(f"{method} applies to categorical features only")
    if method == "ks":
        return ks_drift(reference, current, thresholds=thresholds, feature=feature)
    if method == "chi2":
        return chi2_drift(reference, current, thresholds=thresholds, feature=feature)
    if method == "psi":
        return psi_drift(reference, current, categorical=categorical, bins=bins,
                         thresholds=thresholds, feature=feature)
    if method == "js":
        return js_drift(reference, current, categorical=categorical, bins=bins,
                        thresholds=thresholds, feature=feature)
    return wasserstein_drift(reference, current, thresholds=thresholds, feature=feature)


def drift_table(
    reference: Mapping[str, Any],
    current: Mapping[str, Any],
    categorical: Iterable[str] = frozenset(),
    methods: Sequence[str] | None = None,
    *,
    bins: int = 10,
    thresholds: DriftThresholds | None = None,
) -> list[DriftResult]:
    """Every drift measure for every feature, for a report.

    Parameters
    ----------
    reference, current : mapping of feature name to 1-D array
        The two samples of each feature (they need not have the same length).
    categorical : set of str
        Names of the categorical features; the others are numeric.
    methods : sequence of str, optional
        Methods to run. Default: ``NUMERIC_METHODS`` (ks, psi, js, wasserstein) for numeric
        features and ``CATEGORICAL_METHODS`` (chi2, psi, js) for categorical ones. Methods that
        do not apply to a feature's kind are skipped for that feature.

    Returns
    -------
    list of DriftResult
        In feature order (reference's keys, then features present only in ``current``),
        methods in the order given, each with ``feature`` set. A feature present in only one
        mapping gets one ``None`` result per method with ``MISSING_FEATURE``.
    """
    cat = set(categorical)
    thr = _thresholds(thresholds)
    if methods is not None:
        for m in methods:
            _check_method(m)
    names = list(reference) + [k for k in current if k not in reference]
    out: list[DriftResult] = []
    for name in names:
        is_cat = name in cat
        default = CATEGORICAL_METHODS if is_cat else NUMERIC_METHODS
        ms = [m for m in (methods or default) if m in default]
        if name not in reference or name not in current:
            where = "current" if name not in current else "reference"
            diag = Diagnostic("MISSING_FEATURE", f"feature {name!r} is absent from the {where} "
                              "sample")
            n_r = int(np.size(reference[name])) if name in reference else 0
            n_c = int(np.size(current[name])) if name in current else 0
            out += [DriftResult(m, None, None, thr.threshold(m), None, n_r, n_c, (diag,),
                                feature=name) for m in ms]
            continue
        for m in ms:
            out.append(drift(reference[name], current[name], m, categorical=is_cat, bins=bins,
                             thresholds=thr, feature=name))
    return out


# --------------------------------------------------------------------------- onset


@dataclass(frozen=True)
class DriftOnset:
    """Where a drift began in a sequence of time windows.

    Attributes
    ----------
    method : str
        The drift measure.
    onset : hashable or None
        Label of the first window of the persistent drift (see ``persistence``), or ``None``.
    onset_index : int or None
        Its position in ``labels``.
    labels : tuple
        Window labels in time order.
    statistics, pvalues : tuple of float or None
        The per-window statistic (and p-value for ks/chi2) against the reference.
    drifted : tuple of bool or None
        Per-window ``drifted`` (``None`` for a window whose statistic is undefined).
    persistence : int or None
        ``None``: the drift must hold from the onset to the last window; ``k``: the onset is
        the first window of the first run of ``k`` consecutive drifted windows.
    threshold : float
        The method's threshold.
    results : tuple of DriftResult
        The per-window results.
    """

    method: str
    onset: Hashable | None
    onset_index: int | None
    labels: tuple[Hashable, ...]
    statistics: tuple[float | None, ...]
    pvalues: tuple[float | None, ...]
    drifted: tuple[bool | None, ...]
    persistence: int | None
    threshold: float
    results: tuple[DriftResult, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "onset": self.onset,
            "onset_index": self.onset_index,
            "persistence": self.persistence,
            "threshold": self.threshold,
            "windows": [
                {"label": lab, "statistic": s, "pvalue": p, "drifted": d}
                for lab, s, p, d in zip(self.labels, self.statistics, self.pvalues, self.drifted)
            ],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _onset_index(flags: Sequence[bool | None], persistence: int | None) -> int | None:
    """Onset under the persistence rule; ``None`` windows neither start nor break a run."""
    idx = [i for i, f in enumerate(flags) if f is not None]
    if persistence is None:
        onset = None
        for i in reversed(idx):
            if flags[i]:
                onset = i
            else:
                break
        return onset
    run_start, run = None, 0
    for i in idx:
        if flags[i]:
            if run == 0:
                run_start = i
            run += 1
            if run >= persistence:
                return run_start
        else:
            run = 0
    return None


def drift_onset(
    windows: Sequence[tuple[Hashable, Any]],
    reference: Any,
    method: str,
    *,
    categorical: bool = False,
    persistence: int | None = None,
    bins: int = 10,
    thresholds: DriftThresholds | None = None,
) -> DriftOnset:
    """Locate the onset of a drift in per-window samples (e.g. hourly) against a reference.

    Each window's sample is compared with ``reference`` by ``method`` (see :func:`drift`).
    Persistence rule: with ``persistence=None`` (default) the onset is the first window from
    which every later window is drifted (to the end of the sequence), so a drift that came and
    went has no onset (diagnostic ``TRANSIENT_DRIFT``); with ``persistence=k`` it is the first
    window of the first run of ``k`` consecutive drifted windows. Windows whose statistic is
    undefined (empty, all missing) are skipped: they neither start nor interrupt a run, and get
    ``WINDOW_UNDEFINED``.

    The windows are each tested against the same reference, without correction for
    multiplicity; with p-value methods the chance of at least one false flag grows with the
    number of windows, which the persistence rule (and the effect floor) is there to absorb.
    """
    _check_method(method)
    if persistence is not None and (isinstance(persistence, bool) or int(persistence) != persistence
                                    or persistence < 1):
        raise ValueError(f"persistence must be None or an integer >= 1, got {persistence!r}")
    thr = _thresholds(thresholds)
    labels: list[Hashable] = []
    results: list[DriftResult] = []
    for item in windows:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ValueError("windows must be a sequence of (label, sample) pairs")
        lab, sample = item
        labels.append(lab)
        res = drift(reference, sample, method, categorical=categorical, bins=bins, thresholds=thr)
        results.append(replace(res, feature=None))
    flags = tuple(r.drifted for r in results)
    k = None if persistence is None else int(persistence)
    i = _onset_index(flags, k)
    diags: list[Diagnostic] = []
    undefined = [str(labels[j]) for j, f in enumerate(flags) if f is None]
    if undefined:
        diags.append(Diagnostic("WINDOW_UNDEFINED", f"{len(undefined)} window(s) have no defined "
                                f"statistic and were skipped: {', '.join(undefined[:5])}"
                                + (" ..." if len(undefined) > 5 else "")))
    if not labels:
        diags.append(Diagnostic("NO_WINDOWS", "no windows were given"))
    elif i is None and any(flags):
        diags.append(Diagnostic("TRANSIENT_DRIFT", "some windows drifted but the drift did not "
                                "persist under the persistence rule; no onset"))
    return DriftOnset(
        method, labels[i] if i is not None else None, i, tuple(labels),
        tuple(r.statistic for r in results), tuple(r.pvalue for r in results), flags, k,
        thr.threshold(method), tuple(results), tuple(diags),
    )
