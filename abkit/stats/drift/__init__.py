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

Submodules
    ``thresholds`` -- method names, ``PSI_EPSILON``, :class:`DriftThresholds` and
    :class:`DriftResult`; ``significance`` -- :func:`ks_drift`, :func:`chi2_drift` (tests with a
    p-value, sparse-category pooling); ``distances`` -- :func:`psi_drift`, :func:`js_drift`,
    :func:`wasserstein_drift`; ``dispatch`` -- :func:`drift`, :func:`drift_table`; ``onset`` --
    :func:`drift_onset`, :class:`DriftOnset`; ``_common`` -- input cleaning, edge-case checks and
    category counts shared by the measures.
"""

from __future__ import annotations

from .dispatch import drift, drift_table
from .distances import js_drift, psi_drift, wasserstein_drift
from .onset import DriftOnset, drift_onset
from .significance import chi2_drift, ks_drift
from .thresholds import (  # noqa: F401  (re-exported)
    CATEGORICAL_METHODS,
    DEFAULT_THRESHOLDS,
    NUMERIC_METHODS,
    OTHER,
    PSI_EPSILON,
    DriftResult,
    DriftThresholds,
    Method,
)

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
