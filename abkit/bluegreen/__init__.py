"""Blue/green deployment analysis: is green, after the switch, at least as good as blue was?

In a blue/green deployment all traffic moves from blue (the current model) to green (the
candidate) at once, and rollback is instant. There is no concurrent control after the switch,
so the question is answered by comparing green's window *after* the switch with blue's window
*before* it, which compares different times. This package does that comparison, the checks
that say how far it can be trusted, and a look-by-look check of the first minutes after the
switch. It works on a pandas DataFrame of per-request rows that the caller has already read
and validated; everything else (spec, files, report, CLI) lives elsewhere. No I/O.

Pieces (all in :func:`analyze_bluegreen`):

* **The switch** (:func:`detect_switch`): the step change in the variant labels that best
  fits the log (fewest rows on the wrong side), and the share of green after it.
* **Before/after** (``comparisons``): per metric, green's rows in ``[switch + exclude,
  switch + exclude + window]`` against blue's rows in ``[switch - window, switch)``, by
  Welch's t-test (:func:`abkit.stats.compare.compare`), with the A/B gate's conventions:
  guardrails are tested one-sided at ``alpha`` for a regression beyond ``margin x |blue|``
  and for non-inferiority within it; primary metrics two-sided at ``alpha``.
* **Smoke test** (``smoke_test``): when green served a share of the traffic before the
  switch, blue and green rows of that overlap compared the same way. Both ran at the same
  time on the same kind of traffic, so this comparison is free of time confounding.
* **Time confounding** (``time_confounding``): a warning (always); a *matched-hours*
  comparison, green's after-window against blue's rows from the same hours of the day (or of
  the week) before the switch, post-stratified by hour (:func:`stratified_welch`); whether it
  agrees with the plain comparison; and *placebo* checks of blue against itself (its
  before-window against the window of the same length just before it, and against its own
  earlier days at the same hours).
* **Early check** (``early``): an anytime-valid lower confidence bound of each guardrail's
  harm at every look (every ``look_every`` seconds) after the switch, and the first look, if
  any, at which a guardrail had regressed: the time to roll back.
* **Decision**: ``no-go`` (roll back), ``go`` or ``inconclusive``, with reasons.

Independence. Every test here treats requests as independent. Requests of one user are
correlated; with many users each sending few requests in a window this matters little, but
a handful of heavy clients can make the intervals too narrow.

Sources: Welch (1947), "The generalization of Student's problem when several different
population variances are involved", Biometrika 34, and Satterthwaite (1946), "An approximate
distribution of estimates of variance components", Biometrics Bulletin 2(6) (the degrees of
freedom of a linear combination of independent variance estimates, used by
:func:`stratified_welch`); Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2024),
"Time-uniform central limit theory and asymptotic confidence sequences", Annals of
Statistics 52(6) (the one-sided asymptotic confidence sequence of
:mod:`abkit.stats.sequential`); post-stratification / direct standardisation as in Cochran
(1977), *Sampling Techniques*, 3rd ed., section 5A.9 (post-stratified mean and its variance
conditional on the stratum counts).

Submodules:

* ``_common``: constants, small formatting and test helpers, :class:`TimeWindow`.
* ``switch``: :class:`SwitchPoint` and :func:`detect_switch`.
* ``comparisons``: Welch comparisons and guardrail tests of one metric,
  :class:`MetricComparison`, :class:`ComparisonBlock`.
* ``time_confounding``: :func:`stratified_welch` (matched hours), the placebo checks,
  :class:`PlaceboCheck`, :class:`TimeConfounding`.
* ``early``: the early anytime-valid check, :func:`early_bounds`, :class:`EarlyCheck`,
  :class:`EarlyLook`, :class:`EarlyMetricLook`.
* ``decision``: the go / no-go decision, :class:`Rollback`, :class:`BlueGreenResult`.
* ``arguments``: validation of the arguments of :func:`analyze_bluegreen`.
* ``cells``: :class:`~abkit.bluegreen.cells.Cells`, the analysis' view of the engines' time
  cells (per second and variant: rows, first/last time, per-metric count, mean and centred
  sum of squares) and their merges.
* ``layout``: the cuts of time (switch, windows, looks, plot bins) computed from cells, and
  :class:`~abkit.bluegreen.layout.Refiner`, the ``refine`` callback of the ``rows`` plan:
  the seconds a cut falls inside come back per distinct time, so every window, hour bin and
  look is a set of whole cells and the cells give the numbers of the rows (to rounding).
* ``cell_analysis``: :func:`~abkit.bluegreen.cell_analysis.analyze_cells`, the analysis on
  cells (what ``abkit report`` runs on the engines' reduction; no row reaches Python).
* ``analysis``: :func:`analyze_bluegreen`, on a pandas frame: builds the cells with pandas
  and calls :func:`~abkit.bluegreen.cell_analysis.analyze_cells`.
* :func:`bluegreen_example_metrics` and :func:`make_bluegreen_log` are re-exported from
  :mod:`abkit.datasets.bluegreen`.
"""

from __future__ import annotations

from ._common import (  # noqa: F401  (constants, re-exported)
    EARLY_REFERENCES,
    MATCH_MODES,
    MATCHED_MIN_SHARE,
    MAX_LOOKS,
    SUPPORTED_KINDS,
    SWITCH_SHARE,
    TIME_CONFOUNDING_WARNING,
    WEEK,
    TimeWindow,
)
from .analysis import analyze_bluegreen
from .comparisons import ComparisonBlock, MetricComparison
from .decision import BlueGreenResult, Rollback
from .early import EarlyCheck, EarlyLook, EarlyMetricLook, early_bounds
from ..datasets.bluegreen import (  # noqa: F401  (the generator lives in abkit.datasets)
    SCENARIOS, bluegreen_example_metrics, make_bluegreen_log,
)
from .switch import SwitchPoint, detect_switch
from .time_confounding import PlaceboCheck, TimeConfounding, stratified_welch

__all__ = [
    "BlueGreenResult",
    "ComparisonBlock",
    "EarlyCheck",
    "EarlyLook",
    "EarlyMetricLook",
    "MetricComparison",
    "PlaceboCheck",
    "Rollback",
    "SwitchPoint",
    "TimeConfounding",
    "TimeWindow",
    "analyze_bluegreen",
    "bluegreen_example_metrics",
    "detect_switch",
    "early_bounds",
    "make_bluegreen_log",
    "stratified_welch",
]
