"""Blue/green deployment analysis: is green, after the switch, at least as good as blue was?

In a blue/green deployment all traffic moves from blue (the current model) to green (the
candidate) at once, and rollback is instant. There is no concurrent control after the switch,
so the question is answered by comparing green's window *after* the switch with blue's window
*before* it, which compares different times. This module does that comparison, the checks
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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from .spec import MetricSpec
from .stats.compare import Comparison, Estimand, compare
from .stats.moments import MomentStats
from .stats.results import ConfidenceInterval, Diagnostic, EffectEstimate, HasDiagnostics
from .stats.sequential import cs_radius, rho_for

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

#: green's share of the rows after the detected switch below which the switch is called
#: gradual (diagnostic ``NO_CLEAR_SWITCH``)
SWITCH_SHARE = 0.9
#: share of green's after-window rows that must fall in hour bins where blue has >= 2 rows
#: before the matched-hours comparison is reported as available
MATCHED_MIN_SHARE = 0.8
#: blue history (seconds before the switch) from which hour-of-week matching is tried
WEEK = 7 * 86400.0
#: at most this many early looks (the look interval is widened beyond it: ``LOOKS_CAPPED``)
MAX_LOOKS = 5000
SUPPORTED_KINDS = ("mean", "proportion", "count")
MATCH_MODES = ("auto", "hour-of-day", "hour-of-week")
EARLY_REFERENCES = ("auto", "matched-hours", "before-window")

_MEAN = Estimand("mean", (0,))
_ROUNDING = 1e-13  # a per-row sd below this fraction of the values is rounding noise

TIME_CONFOUNDING_WARNING = (
    "Blue/green compares green after the switch with blue before it: different times. "
    "Traffic mix, hour of day, day of week, marketing events and upstream changes all differ "
    "between the two windows, and any of them can look like a regression or hide one. "
    "Only a smoke-test window, where both ran at the same time, is free of this. The "
    "matched-hours comparison removes a daily (or weekly) pattern, not a trend; the placebo "
    "checks show how much blue moves against itself over the same span."
)


# =========================================================================== small helpers


def _iso(t: float | None) -> str | None:
    if t is None or not math.isfinite(t):
        return None
    try:
        return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def _hm(t: float) -> str:
    s = _iso(t)
    return s[11:19] + " UTC" if s else f"{t:.0f}"


def _f(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _clean(obj: Any) -> Any:
    """Recursively replace non-finite floats by ``None`` (JSON-safe)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (np.floating,)):
        return _clean(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _g(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _p(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1e}" if x < 0.001 else f"{x:.3f}"


def _t_interval(est: float, se: float, df: float | None, level: float) -> EffectEstimate:
    """Two-sided t (``df``) or normal (``df=None``) interval and p-value; se == 0 is a point."""
    from scipy import special as sp

    if se == 0.0:
        return EffectEstimate(est, 0.0, ConfidenceInterval(est, est), 1.0 if est == 0 else 0.0,
                              df, None)
    stat = est / se
    q = 0.5 + level / 2
    if df is None:
        crit, p = float(sp.ndtri(q)), float(2 * sp.ndtr(-abs(stat)))
    else:
        crit, p = float(sp.stdtrit(df, q)), float(2 * sp.stdtr(df, -abs(stat)))
    return EffectEstimate(est, se, ConfidenceInterval(est - crit * se, est + crit * se),
                          min(max(p, 0.0), 1.0), df, stat)


def _one_sided_p(excess: float, se: float | None, df: float | None) -> float | None:
    """P(T >= excess / se) for the harm's excess over a margin: small when harm > margin."""
    from scipy import special as sp

    if se is None:
        return None
    if se == 0.0:
        return 0.0 if excess > 0 else 1.0
    z = excess / se
    p = sp.ndtr(-z) if df is None else sp.stdtr(df, -z)
    return float(min(max(p, 0.0), 1.0))


# =========================================================================== results


@dataclass(frozen=True)
class TimeWindow:
    """A time window ``[start, end]`` (epoch seconds, UTC) and its rows per variant.

    ``end`` is exclusive for blue's windows (they stop at the switch) and inclusive for
    green's after-window (its last row is in it); ``closed`` says which.
    """

    label: str
    start: float | None
    end: float | None
    rows: Mapping[str, int]
    closed: str = "left"  # "left": [start, end); "both": [start, end]

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "start": _f(self.start), "end": _f(self.end),
                "start_iso": _iso(self.start), "end_iso": _iso(self.end),
                "seconds": _f(self.seconds), "closed": self.closed,
                "rows": {str(k): int(v) for k, v in self.rows.items()}}


@dataclass(frozen=True)
class SwitchPoint:
    """The switch time and how clean the switch is.

    Attributes
    ----------
    time : float or None
        Epoch seconds; ``None`` when there is no green row (and no ``switch_at`` given).
    method : str
        ``"given"`` (the caller's ``switch_at``) or ``"detected"`` (:func:`detect_switch`).
    green_share_before, green_share_after : float or None
        Green's share of the blue + green rows before / at-or-after the switch.
    misrouted : int
        Rows on the wrong side of the step: green rows before + blue rows after.
    """

    time: float | None
    method: str
    green_share_before: float | None
    green_share_after: float | None
    misrouted: int
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"time": _f(self.time), "time_iso": _iso(self.time), "method": self.method,
                "green_share_before": _f(self.green_share_before),
                "green_share_after": _f(self.green_share_after), "misrouted": self.misrouted,
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


@dataclass(frozen=True)
class MetricComparison(HasDiagnostics):
    """Green versus blue (or, in a placebo, blue versus itself) for one metric.

    ``result`` is the underlying :class:`~abkit.stats.compare.Comparison` (control = blue or
    the reference, treatment = green). For guardrails, with ``harm`` the effect signed so that
    positive is bad: ``regressed`` when the one-sided test of ``harm <= margin_abs`` rejects
    at ``alpha`` (``regressed_pvalue < alpha``, as :func:`abkit.stats.compare.
    noninferiority_pvalue`); ``noninferior`` when the one-sided test of ``harm >= margin_abs``
    rejects (``noninferior_pvalue < alpha``). ``margin_abs = margin x |blue value|``.
    ``verdict`` is ``better`` / ``worse`` (two-sided p < alpha, in the metric's good
    direction) or ``neutral``.
    """

    metric: str
    kind: str
    role: str
    good: str
    result: Comparison
    verdict: str
    margin: float
    margin_abs: float | None
    regressed_pvalue: float | None
    regressed: bool | None
    noninferior_pvalue: float | None
    noninferior: bool | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def estimate(self) -> float | None:
        return self.result.absolute.estimate

    @property
    def harm_sign(self) -> float:
        return 1.0 if self.good == "decrease" else -1.0

    def text(self) -> str:
        ab, rel = self.result.absolute, self.result.relative
        s = "n/a" if ab.estimate is None else f"{ab.estimate:+.4g}"
        if ab.ci is not None:
            s += f" [{ab.ci.low:+.4g}, {ab.ci.high:+.4g}]"
        if rel.estimate is not None:
            s += f" ({rel.estimate * 100:+.2f}%)"
        return s

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        ab, rel = r.absolute, r.relative
        return {
            "metric": self.metric, "kind": self.kind, "role": self.role, "good": self.good,
            "n_blue": r.n_control, "n_green": r.n_treatment,
            "blue_value": r.control_value, "green_value": r.treatment_value,
            "effect": ab.estimate, "se": ab.se, "df": ab.df,
            "ci": ab.ci.to_dict() if ab.ci else None, "pvalue": ab.pvalue,
            "rel_effect": rel.estimate, "rel_ci": rel.ci.to_dict() if rel.ci else None,
            "rel_pvalue": rel.pvalue, "method": r.method, "alternative": r.alternative,
            "confidence_level": r.confidence_level, "verdict": self.verdict,
            "guardrail": ({"margin": self.margin, "margin_abs": self.margin_abs,
                           "pvalue": self.regressed_pvalue, "regressed": self.regressed,
                           "noninferior_pvalue": self.noninferior_pvalue,
                           "noninferior": self.noninferior}
                          if self.role == "guardrail" else None),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class ComparisonBlock(HasDiagnostics):
    """One family of comparisons (smoke test, matched hours, a placebo) over all metrics.

    ``available`` is False when the data do not allow it (the reason is in
    ``diagnostics``); ``comparisons`` is then empty.
    """

    kind: str
    available: bool
    description: str
    windows: tuple[TimeWindow, ...] = ()
    comparisons: tuple[MetricComparison, ...] = ()
    match: str | None = None
    matched_share: float | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    def get(self, metric: str) -> MetricComparison | None:
        for c in self.comparisons:
            if c.metric == metric:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "available": self.available,
                "description": self.description,
                "windows": [w.to_dict() for w in self.windows],
                "comparisons": [c.to_dict() for c in self.comparisons],
                "match": self.match, "matched_share": _f(self.matched_share),
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


@dataclass(frozen=True)
class PlaceboCheck:
    """Blue against itself over the same span: did it move by more than the margin?

    ``flagged`` lists the guardrails for which blue's before-window differs from the
    reference by more than ``margin_abs`` in either direction (two one-sided tests at
    ``alpha / 2`` each; for a zero margin this is the two-sided test at ``alpha``): a drift
    of that size by itself is what the before/after comparison cannot tell from a
    regression (or that would hide one). Other metrics are reported in ``block`` but not
    flagged: without a margin, any detectable drift of a large sample would flag them.
    ``trustworthy`` is ``None`` when the check is unavailable.
    """

    block: ComparisonBlock
    flagged: tuple[str, ...]
    directions: Mapping[str, str]

    @property
    def trustworthy(self) -> bool | None:
        if not self.block.available:
            return None
        return not self.flagged

    def to_dict(self) -> dict[str, Any]:
        return {**self.block.to_dict(), "flagged": list(self.flagged),
                "directions": dict(self.directions), "trustworthy": self.trustworthy}


@dataclass(frozen=True)
class TimeConfounding:
    """The warning, the matched-hours comparison, its agreement, and the placebo checks.

    ``agreement[metric]`` is True when the plain and the matched comparisons reach the same
    conclusion for the metric (guardrails: same ``regressed`` and same ``noninferior``;
    other metrics: same ``verdict``), ``None`` when either is missing. ``basis`` is the
    comparison the decision rests on: ``"matched-hours"`` when it is available for every
    gating metric and its placebo check did not flag; else the plain comparison when its
    placebo did not flag; else (both flagged) the matched one when available.
    """

    warning: str
    matched: ComparisonBlock
    agreement: Mapping[str, bool | None]
    placebo_adjacent: PlaceboCheck
    placebo_matched: PlaceboCheck
    basis: str

    @property
    def agrees(self) -> bool | None:
        vals = [v for v in self.agreement.values() if v is not None]
        return None if not vals else all(vals)

    def to_dict(self) -> dict[str, Any]:
        return {"warning": self.warning, "matched": self.matched.to_dict(),
                "agreement": dict(self.agreement), "agrees": self.agrees,
                "placebo": {"adjacent": self.placebo_adjacent.to_dict(),
                            "matched": self.placebo_matched.to_dict()},
                "basis": self.basis}


@dataclass(frozen=True)
class EarlyMetricLook:
    """One guardrail at one look: green's running mean against blue's fixed reference.

    ``estimate`` = green's running mean minus the reference mean over the same rows;
    ``harm_lower`` the anytime-valid lower bound of the harm (see :func:`analyze_bluegreen`);
    ``regressed`` when ``harm_lower > margin_abs`` (``None`` bounds: not evaluated yet).
    """

    metric: str
    n: int
    green_mean: float | None
    reference_mean: float | None
    estimate: float | None
    harm_lower: float | None
    margin_abs: float | None
    regressed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "n": self.n, "green_mean": _f(self.green_mean),
                "reference_mean": _f(self.reference_mean), "estimate": _f(self.estimate),
                "harm_lower": _f(self.harm_lower), "margin_abs": _f(self.margin_abs),
                "regressed": self.regressed}


@dataclass(frozen=True)
class EarlyLook:
    """The state of every guardrail at one look time (cumulative green rows up to it)."""

    number: int
    time: float
    elapsed: float  # seconds since the switch
    n_green: int
    metrics: tuple[EarlyMetricLook, ...]

    @property
    def regressed(self) -> tuple[str, ...]:
        return tuple(m.metric for m in self.metrics if m.regressed)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "time": _f(self.time), "time_iso": _iso(self.time),
                "elapsed": _f(self.elapsed), "n_green": self.n_green,
                "metrics": [m.to_dict() for m in self.metrics],
                "regressed": list(self.regressed)}


@dataclass(frozen=True)
class EarlyCheck:
    """Look-by-look anytime-valid regression check of the guardrails after the switch.

    ``references[metric]`` says what green was compared with (``"matched-hours"``: blue's
    mean at the same hour bin before the switch; ``"before-window"``: blue's before-window
    mean) and how many reference means ``K`` the Bonferroni split covers.
    ``first_regression`` is the first look at which any guardrail had regressed.
    """

    alpha: float
    tightest_at: int
    look_every: float
    min_rows: int
    method: str
    references: Mapping[str, Mapping[str, Any]]
    looks: tuple[EarlyLook, ...]
    first_regression: EarlyLook | None
    diagnostics: tuple[Diagnostic, ...] = ()

    def first_look_of(self, metric: str) -> EarlyLook | None:
        for lk in self.looks:
            if metric in lk.regressed:
                return lk
        return None

    def to_dict(self) -> dict[str, Any]:
        fr = self.first_regression
        return {"alpha": self.alpha, "tightest_at": self.tightest_at,
                "look_every": self.look_every, "min_rows": self.min_rows,
                "method": self.method, "references": {k: dict(v) for k, v in
                                                      self.references.items()},
                "looks": [lk.to_dict() for lk in self.looks],
                "first_regression": None if fr is None else {
                    "number": fr.number, "time": _f(fr.time), "time_iso": _iso(fr.time),
                    "elapsed": _f(fr.elapsed), "metrics": list(fr.regressed)},
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


@dataclass(frozen=True)
class Rollback:
    """The rollback recommendation: ``recommended`` iff the decision is ``no-go``.

    ``at`` is the first early look that showed a regression (roll back from then on), or
    ``None`` when the regression shows only in the whole-window comparison (roll back now).
    """

    recommended: bool
    reason: str
    at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"recommended": self.recommended, "reason": self.reason, "at": _f(self.at),
                "at_iso": _iso(self.at)}


@dataclass(frozen=True)
class BlueGreenResult(HasDiagnostics):
    """Everything :func:`analyze_bluegreen` found; ``to_dict()`` is JSON-safe (no NaN)."""

    blue: str
    green: str
    alpha: float
    switch: SwitchPoint
    window: float | None
    exclude: float
    windows: Mapping[str, TimeWindow]
    comparisons: tuple[MetricComparison, ...]
    smoke_test: ComparisonBlock | None
    smoke_usable: bool
    time_confounding: TimeConfounding
    early: EarlyCheck
    decision: str
    reasons: tuple[str, ...]
    rollback: Rollback
    diagnostics: tuple[Diagnostic, ...] = ()

    def comparison(self, metric: str) -> MetricComparison | None:
        for c in self.comparisons:
            if c.metric == metric:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return _clean({
            "strategy": "bluegreen", "blue": self.blue, "green": self.green,
            "alpha": self.alpha, "switch": self.switch.to_dict(), "window": self.window,
            "exclude": self.exclude,
            "windows": {k: w.to_dict() for k, w in self.windows.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
            "smoke_test": None if self.smoke_test is None else {
                **self.smoke_test.to_dict(), "usable": self.smoke_usable},
            "time_confounding": self.time_confounding.to_dict(),
            "early": self.early.to_dict(),
            "basis": self.time_confounding.basis,
            "decision": self.decision, "reasons": list(self.reasons),
            "rollback": self.rollback.to_dict(),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        })


# =========================================================================== the switch


def detect_switch(times: Any, is_green: Any, *, min_share: float = SWITCH_SHARE
                  ) -> SwitchPoint:
    """The switch time: the step from blue to green that misroutes the fewest rows.

    Over the blue and green rows sorted by time, a candidate switch at time ``s`` (the time
    of a green row) calls every row before ``s`` blue and every row at or after ``s`` green;
    its cost is the number of rows on the wrong side (green rows before ``s`` plus blue rows
    at or after it). The switch is the earliest candidate of least cost. This is the maximum
    likelihood change point of a two-segment model in which each row carries the other
    label with a common probability below 1/2, so a smoke test at a small green share before
    the switch and a few blue requests draining after it do not move it.

    A clean switch has green carrying most traffic after it: when green's share of the rows
    at or after ``s`` is below ``min_share`` (default 0.9) the diagnostic
    ``NO_CLEAR_SWITCH`` says the traffic moved gradually (a linear rollout, not a blue/green
    switch) and the before/after windows are not well defined.

    Parameters
    ----------
    times : array of float
        Epoch seconds of the blue and green rows (any order).
    is_green : array of bool
        True for green rows, False for blue rows.
    min_share : float
        Share of green after the switch below which ``NO_CLEAR_SWITCH`` is raised.
    """
    t = np.asarray(times, dtype=float)
    g = np.asarray(is_green, dtype=bool)
    if t.ndim != 1 or g.shape != t.shape:
        raise ValueError("times and is_green must be 1-D arrays of the same length")
    if not 0.0 < float(min_share) <= 1.0:
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    keep = np.isfinite(t)
    t, g = t[keep], g[keep]
    if not g.any():
        return SwitchPoint(None, "detected", None, None, 0, (Diagnostic(
            "NO_GREEN_ROWS", "green has no rows, so there is no switch"),))
    order = np.argsort(t, kind="stable")
    t, g = t[order], g[order]
    n = t.size
    # candidates: the first row of each distinct time that holds a green row
    first = np.r_[True, t[1:] != t[:-1]]
    idx = np.flatnonzero(first)
    grp = np.cumsum(first) - 1
    has_green = np.bincount(grp, weights=g.astype(float), minlength=idx.size) > 0
    cand = idx[has_green]
    green_before = np.r_[0, np.cumsum(g)][cand]
    blue_total = int(n - g.sum())
    blue_before = cand - green_before
    cost = green_before + (blue_total - blue_before)
    best = int(cand[int(np.argmin(cost))])  # argmin returns the earliest minimiser
    s = float(t[best])
    n_after = n - best
    green_after = int(g[best:].sum())
    share_after = green_after / n_after
    share_before = float(g[:best].mean()) if best > 0 else None
    diags: list[Diagnostic] = []
    if share_after < min_share:
        diags.append(Diagnostic(
            "NO_CLEAR_SWITCH",
            f"after the best switch point ({_iso(s)}) green carries only {share_after:.1%} "
            f"of the traffic (< {min_share:.0%}): the traffic moved gradually, and the "
            "before/after windows are not a clean blue/green comparison"))
    return SwitchPoint(s, "detected", share_before, share_after,
                       int(cost.min()), tuple(diags))


def _switch_given(t: np.ndarray, g: np.ndarray, s: float) -> SwitchPoint:
    before, after = t < s, t >= s
    nb, na = int(before.sum()), int(after.sum())
    sb = float(g[before].mean()) if nb else None
    sa = float(g[after].mean()) if na else None
    mis = int(g[before].sum() + (~g[after]).sum())
    diags = []
    if sa is not None and sa < SWITCH_SHARE:
        diags.append(Diagnostic(
            "NO_CLEAR_SWITCH", f"after switch_at green carries only {sa:.1%} of the traffic "
                               f"(< {SWITCH_SHARE:.0%})"))
    return SwitchPoint(s, "given", sb, sa, mis, tuple(diags))


# =========================================================================== comparisons


def _values(v: np.ndarray) -> tuple[np.ndarray, int]:
    ok = np.isfinite(v)
    return v[ok], int(v.size - ok.sum())


def _assess(m: MetricSpec, res: Comparison, alpha: float,
            extra: Sequence[Diagnostic] = ()) -> MetricComparison:
    """Verdict and guardrail tests of one comparison (the A/B gate's conventions)."""
    ab = res.absolute
    diags = list(res.diagnostics) + list(extra)
    verdict = "neutral"
    if ab.pvalue is not None and ab.pvalue < alpha and ab.estimate:
        verdict = "better" if (ab.estimate > 0) == (m.good == "increase") else "worse"
    margin_abs = p_reg = reg = p_ni = ni = None
    if m.role == "guardrail":
        cv = res.control_value if m.baseline is None else float(m.baseline)
        if m.margin and not cv:
            diags.append(Diagnostic(
                "MARGIN_UNDEFINED", "the margin is relative to blue's value, which is 0 or "
                                    "undefined; tested with margin 0"))
        margin_abs = m.margin * abs(cv) if cv else 0.0
        if ab.estimate is not None:
            harm = ab.estimate if m.good == "decrease" else -ab.estimate
            p_reg = _one_sided_p(harm - margin_abs, ab.se, ab.df)
            p_ni = _one_sided_p(margin_abs - harm, ab.se, ab.df)
            reg = None if p_reg is None else p_reg < alpha
            ni = None if p_ni is None else p_ni < alpha
    return MetricComparison(m.name, m.kind, m.role, m.good, res, verdict, float(m.margin),
                            margin_abs, p_reg, reg, p_ni, ni, tuple(diags))


def _welch(m: MetricSpec, blue: np.ndarray, green: np.ndarray, alpha: float
           ) -> MetricComparison:
    b, nb = _values(blue)
    g, ng = _values(green)
    extra = []
    if nb or ng:
        extra.append(Diagnostic("NON_FINITE_VALUES", f"{nb + ng} rows with a missing or "
                                f"non-finite {m.column} were left out (blue {nb}, green {ng})"))
    res = compare(MomentStats.from_array(b), MomentStats.from_array(g), _MEAN, test="welch",
                  confidence_level=1.0 - alpha)
    return _assess(m, res, alpha, extra)


def _bin_moments(bins: np.ndarray, y: np.ndarray, nbins: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin count, mean and centred sum of squares (two-pass, no cancellation)."""
    n = np.bincount(bins, minlength=nbins).astype(float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = np.bincount(bins, weights=y, minlength=nbins)
        mean = np.where(n > 0, s / np.maximum(n, 1.0), 0.0)
        dev = y - mean[bins]
        ss = np.bincount(bins, weights=dev * dev, minlength=nbins)
    return n, mean, ss


def stratified_welch(
    target: Any,
    target_bins: Any,
    reference: Any,
    reference_bins: Any,
    *,
    confidence_level: float = 0.95,
    min_share: float = MATCHED_MIN_SHARE,
    label: str = "hour-of-day",
) -> tuple[Comparison | None, float | None, tuple[Diagnostic, ...]]:
    """Post-stratified difference ``target - reference``, standardised to the target's bins.

    With target rows in bins ``h`` (hours of the day, say) with counts ``n_h`` and shares
    ``w_h = n_h / N`` (``N`` = matched target rows), and reference means ``b_h``::

        effect = sum_h w_h (t_h - b_h) = mean(target) - sum_h w_h b_h

    so the reference is re-weighted to the target's mix of bins (direct standardisation;
    Cochran 1977, section 5A.9: the post-stratified mean, its variance conditional on the
    stratum counts). Variance, conditional on the target's counts::

        var = S_w^2 / N  +  sum_h w_h^2 s_h^2 / m_h

    with ``S_w^2`` the target's pooled within-bin variance (``N - H`` degrees of freedom for
    ``H`` target bins; it equals ``sum_h w_h^2 s_{t,h}^2 / n_h`` up to the ``n_h`` vs
    ``n_h - 1`` weights, and is defined for bins holding one target row) and ``s_h^2 / m_h``
    the reference bin's variance of the mean. The interval is Student t with
    Satterthwaite's (1946) degrees of freedom ``(sum c_i)^2 / sum(c_i^2 / df_i)`` over those
    components. With a single bin this is exactly Welch's t-test.

    Only bins where the reference has at least 2 values are used; target rows elsewhere are
    left out and ``matched_share`` (the share of target rows kept) is returned. Below
    ``min_share`` (default 0.8) no comparison is made (diagnostic ``INSUFFICIENT_MATCH``).

    The relative effect ``effect / B`` (``B = sum_h w_h b_h``) gets a delta-method normal
    interval, ``var = S_w^2 / (N B^2) + (G / B^2)^2 sum_h w_h^2 s_h^2 / m_h``.

    Returns
    -------
    (Comparison or None, matched_share or None, diagnostics)
        The Comparison has ``control`` = the standardised reference, ``treatment`` = target,
        ``method = "post-stratified welch (<label>)"``.
    """
    level = float(confidence_level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    yt = np.asarray(target, dtype=float)
    bt = np.asarray(target_bins, dtype=np.int64)
    yr = np.asarray(reference, dtype=float)
    br = np.asarray(reference_bins, dtype=np.int64)
    if yt.shape != bt.shape or yr.shape != br.shape or yt.ndim != 1 or yr.ndim != 1:
        raise ValueError("values and bins must be 1-D arrays of equal length")
    if (bt.size and bt.min() < 0) or (br.size and br.min() < 0):
        raise ValueError("bins must be non-negative integers")
    ok_t, ok_r = np.isfinite(yt), np.isfinite(yr)
    yt, bt, yr, br = yt[ok_t], bt[ok_t], yr[ok_r], br[ok_r]
    diags: list[Diagnostic] = []
    if yt.size == 0 or yr.size == 0:
        which = "target" if yt.size == 0 else "reference"
        return None, None, (Diagnostic("EMPTY_ARM", f"the {which} has no rows"),)
    nbins = int(max(bt.max(), br.max())) + 1
    n_r, m_r, ss_r = _bin_moments(br, yr, nbins)
    usable = n_r >= 2
    keep = usable[bt]
    share = float(keep.mean())
    if share < min_share:
        return None, share, (Diagnostic(
            "INSUFFICIENT_MATCH",
            f"only {share:.1%} of the target rows fall in {label} bins where the reference "
            f"has at least 2 rows (need {min_share:.0%})"),)
    if share < 1.0:
        diags.append(Diagnostic(
            "PARTIAL_MATCH", f"{(1 - share):.1%} of the target rows fall in {label} bins "
                             "without reference rows and were left out"))
    yt, bt = yt[keep], bt[keep]
    n_t, m_t, ss_t = _bin_moments(bt, yt, nbins)
    used = n_t > 0
    N = float(yt.size)
    H = int(used.sum())
    n_ref_used = int(n_r[used].sum())
    w = n_t[used] / N
    G = float(np.sum(w * m_t[used]))
    B = float(np.sum(w * m_r[used]))

    def out(ab: EffectEstimate, rel: EffectEstimate) -> tuple[Comparison, float, tuple]:
        return (Comparison(n_ref_used, int(N), _f(B), _f(G), ab, rel,
                           f"post-stratified welch ({label})", level, "two-sided", None, None,
                           tuple(diags)), share, tuple(diags))

    none = EffectEstimate(None, None, None, None)
    if not (math.isfinite(G) and math.isfinite(B)) or not (
            np.isfinite(ss_t).all() and np.isfinite(ss_r).all()):
        diags.append(Diagnostic("NUMERIC_OVERFLOW", "the values are out of double-precision "
                                                    "range; rescale the metric"))
        return out(none, none)
    D = G - B
    if N - H < 1:
        diags.append(Diagnostic("TOO_FEW_UNITS", f"{int(N)} target rows in {H} bins leave no "
                                                 "degrees of freedom for the variance"))
        return out(EffectEstimate(D, None, None, None), none)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        var_t = float(ss_t[used].sum()) / (N - H)
        var_rh = ss_r[used] / (n_r[used] - 1.0)
        c_t = var_t / N
        c_r = w * w * var_rh / n_r[used]
    scale = max(abs(G), abs(B), float(np.max(np.abs(m_r[used]))))
    if math.sqrt(var_t) <= _ROUNDING * scale:
        c_t = 0.0
    c_r = np.where(np.sqrt(var_rh) <= _ROUNDING * scale, 0.0, c_r)
    total = c_t + float(c_r.sum())
    se = math.sqrt(total)
    if total > 0:
        den = (c_t * c_t) / (N - H) + float(np.sum(c_r * c_r / (n_r[used] - 1.0)))
        df = total * total / den if den > 0 else None
    else:
        df = None
        if abs(D) <= _ROUNDING * scale:
            D = 0.0
        diags.append(Diagnostic(
            "ZERO_VARIANCE", "the metric has zero variance in every bin of both sides; the "
                             "p-value is 1 if they are equal and 0 otherwise"))
    ab = _t_interval(D, se, df, level)
    if B <= 0.0:
        diags.append(Diagnostic(
            "ZERO_CONTROL_MEAN" if B == 0.0 else "NEGATIVE_CONTROL_MEAN",
            f"the reference value is {B:g}; a relative effect is undefined"))
        rel = none
    else:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            b = np.float64(B)
            rel_se = float(np.sqrt(np.float64(c_t) / (b * b)
                                   + (np.float64(G) / b / b) ** 2 * float(c_r.sum())))
            rel_est = float(np.float64(D) / b)
        if math.isfinite(rel_se) and math.isfinite(rel_est):
            rel = _t_interval(rel_est, rel_se, None, level)
        else:
            diags.append(Diagnostic("NUMERIC_OVERFLOW", "the relative effect is out of "
                                                        "floating-point range"))
            rel = none
    return out(ab, rel)


def _hour_bins(t: np.ndarray, mode: str) -> np.ndarray:
    period = 24 if mode == "hour-of-day" else 168
    return np.mod(np.floor_divide(t, 3600.0), period).astype(np.int64)


def _matched(m: MetricSpec, y_t, t_t, y_r, t_r, mode: str, alpha: float
             ) -> tuple[MetricComparison | None, float | None, tuple[Diagnostic, ...]]:
    res, share, diags = stratified_welch(y_t, _hour_bins(t_t, mode), y_r, _hour_bins(t_r, mode),
                                         confidence_level=1.0 - alpha, label=mode)
    if res is None:
        return None, share, diags
    return _assess(m, res, alpha), share, diags


def _moved(mc: MetricComparison, alpha: float) -> str | None:
    """Placebo: 'worse' / 'better' when |effect| exceeds the margin (alpha/2 each side)."""
    ab = mc.result.absolute
    if ab.estimate is None or ab.se is None:
        return None
    m = mc.margin_abs or 0.0
    harm = mc.harm_sign * ab.estimate
    p_worse = _one_sided_p(harm - m, ab.se, ab.df)
    p_better = _one_sided_p(-harm - m, ab.se, ab.df)
    if p_worse is not None and p_worse < alpha / 2:
        return "worse"
    if p_better is not None and p_better < alpha / 2:
        return "better"
    return None


def _placebo(block: ComparisonBlock, alpha: float) -> PlaceboCheck:
    flagged, dirs = [], {}
    for c in block.comparisons:
        if c.role != "guardrail":
            continue
        d = _moved(c, alpha)
        if d is not None:
            flagged.append(c.metric)
            dirs[c.metric] = d
    return PlaceboCheck(block, tuple(flagged), dirs)


def _agree(a: MetricComparison | None, b: MetricComparison | None) -> bool | None:
    if a is None or b is None:
        return None
    if a.role == "guardrail":
        if a.regressed is None or b.regressed is None:
            return None
        return a.regressed == b.regressed and a.noninferior == b.noninferior
    return a.verdict == b.verdict


# =========================================================================== early check


@dataclass(frozen=True)
class _Reference:
    mode: str
    bins: np.ndarray  # per-bin mean, se and df of blue's mean; n < 2 bins are unusable
    mean: np.ndarray
    half: np.ndarray  # one-sided Bonferroni half-width per bin
    usable: np.ndarray
    var: float  # pooled within-bin variance (the variance floor)
    k: int


def _reference(y: np.ndarray, bins: np.ndarray, nbins: int, alpha: float, mode: str
               ) -> _Reference | None:
    from scipy import special as sp

    ok = np.isfinite(y)
    y, bins = y[ok], bins[ok]
    if y.size == 0:
        return None
    n, mean, ss = _bin_moments(bins, y, nbins)
    usable = n >= 2
    k = int(usable.sum())
    if k == 0:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        var = np.where(usable, ss / np.maximum(n - 1.0, 1.0), 0.0)
        se = np.sqrt(var / np.maximum(n, 1.0))
        crit = np.where(usable, sp.stdtrit(np.maximum(n - 1.0, 1.0), 1.0 - alpha / (2.0 * k)),
                        0.0)
        half = np.where(usable, crit * se, 0.0)
        pooled = float(ss[usable].sum() / (n[usable] - 1.0).sum())
    if not (np.isfinite(half).all() and math.isfinite(pooled)):
        return None
    return _Reference(mode, bins, mean, half, usable, pooled, k)


def early_bounds(
    y: np.ndarray, ref_mean: np.ndarray, ref_half: np.ndarray, look_n: np.ndarray, *,
    harmful: str, alpha: float, tightest_at: int, var_floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Anytime-valid lower bound of the harm at each look (vectorised core of ``early``).

    ``y[i]`` is green's value of the i-th row after the switch (in time order),
    ``ref_mean[i]`` the fixed reference mean for that row (blue's before-window mean, or
    blue's mean at the row's hour bin) and ``ref_half[i]`` that reference's one-sided
    half-width at level ``alpha / (2 K)``. ``look_n`` are the cumulative row counts at the
    looks (each >= 1). Returns ``(estimate, harm_lower, green_mean, reference_mean)`` per
    look, with ``estimate = mean(y - ref_mean)`` over the first ``n`` rows and::

        harm_lower = s * estimate - radius_n - mean(ref_half)     (s = +1 if an increase
                                                                   is harmful, else -1)

    where ``radius_n`` is the one-sided asymptotic CS radius (:func:`abkit.stats.sequential.
    cs_radius`, level ``alpha / 2``, ``rho = rho_for(tightest_at, alpha / 2, "greater")``)
    with variance ``max(sample variance of y - ref_mean, var_floor)``.
    """
    look_n = np.asarray(look_n, dtype=np.int64)
    idx = look_n - 1
    n = look_n.astype(float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        d = y - ref_mean
        cs1 = np.cumsum(d)
        cs2 = np.cumsum(d * d)
        ch = np.cumsum(ref_half)
        cy = np.cumsum(y)
        cr = np.cumsum(ref_mean)
        mean_d = cs1[idx] / n
        var = np.where(n > 1, (cs2[idx] - cs1[idx] * mean_d) / np.maximum(n - 1, 1.0), 0.0)
        var = np.maximum(np.maximum(var, 0.0), var_floor)
        bad = ~(np.isfinite(var) & np.isfinite(mean_d))  # overflow: no bound (NaN -> None)
        a = alpha / 2.0
        rho = rho_for(tightest_at, a, "greater")
        radius = np.asarray(cs_radius(look_n, np.where(bad, 0.0, var), a, rho, "greater"),
                            dtype=float)
        s = 1.0 if harmful == "increase" else -1.0
        harm_lower = np.where(bad, np.nan, s * mean_d - radius - ch[idx] / n)
    return mean_d, harm_lower, cy[idx] / n, cr[idx] / n


# =========================================================================== the analysis


def _check_args(frame, time, variant, blue, green, metrics, alpha, switch_at, window, exclude,
                look_every, tightest_at, min_rows, match, early_reference) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if blue == green:
        raise ValueError(f"blue and green must be different labels, got {blue!r} twice")
    for name, col in (("time", time), ("variant", variant)):
        if col not in frame.columns:
            raise ValueError(f"{name} column {col!r} is not in the frame (columns: "
                             f"{', '.join(map(str, frame.columns))})")
    names = set()
    for m in metrics:
        if not isinstance(m, MetricSpec):
            raise TypeError(f"metrics must be MetricSpec objects, got {type(m).__name__}")
        if m.name in names:
            raise ValueError(f"metric name {m.name!r} appears twice")
        names.add(m.name)
        if m.kind not in SUPPORTED_KINDS:
            raise ValueError(f"metric {m.name!r}: kind {m.kind!r} is not supported for "
                             f"blue/green (supported: {', '.join(SUPPORTED_KINDS)})")
        if m.column is None or m.column not in frame.columns:
            raise ValueError(f"metric {m.name!r}: column {m.column!r} is not in the frame")
        if m.good not in ("increase", "decrease"):
            raise ValueError(f"metric {m.name!r}: good must be increase or decrease")
    for name, v, lo_open in (("exclude", exclude, False), ("look_every", look_every, True)):
        fv = float(v)
        if not math.isfinite(fv) or fv < 0 or (lo_open and fv == 0):
            raise ValueError(f"{name} must be a finite number {'>' if lo_open else '>='} 0, "
                             f"got {v}")
    if window is not None and not (math.isfinite(float(window)) and float(window) > 0):
        raise ValueError(f"window must be a positive finite number of seconds, got {window}")
    if switch_at is not None and not math.isfinite(float(switch_at)):
        raise ValueError(f"switch_at must be finite epoch seconds, got {switch_at}")
    for name, v, lo in (("tightest_at", tightest_at, 1), ("min_rows", min_rows, 2)):
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if match not in MATCH_MODES:
        raise ValueError(f"match must be one of {', '.join(MATCH_MODES)}, got {match!r}")
    if early_reference not in EARLY_REFERENCES:
        raise ValueError(f"early_reference must be one of {', '.join(EARLY_REFERENCES)}, "
                         f"got {early_reference!r}")


def analyze_bluegreen(
    frame: pd.DataFrame,
    *,
    time: str = "ts",
    variant: str = "variant",
    blue: str,
    green: str,
    metrics: Sequence[MetricSpec],
    alpha: float = 0.05,
    switch_at: float | None = None,
    window: float | None = None,
    exclude: float = 0.0,
    look_every: float = 60.0,
    tightest_at: int = 10000,
    min_rows: int = 30,
    match: str = "auto",
    early_reference: str = "auto",
) -> BlueGreenResult:
    """Analyse a blue/green switch: green after the switch against blue before it.

    Windows
        ``switch``: ``switch_at`` or :func:`detect_switch`. Blue's before-window is
        ``[switch - window, switch)``; the warm-up ``[switch, switch + exclude)`` is left
        out; green's after-window is ``[switch + exclude, switch + exclude + window]``.
        ``window`` defaults to the shorter of the two spans the data offer: from blue's
        first row before the switch to the switch, and from ``switch + exclude`` to green's
        last row. Rows of other variants, blue rows after the switch and green rows before
        it are not in these windows (counted in ``diagnostics``).

    Comparisons (``comparisons``)
        Welch's t-test on the per-request values of each metric (mean, proportion or
        count), blue before vs green after, via :func:`abkit.stats.compare.compare`.
        Guardrails: ``regressed`` when the one-sided test of ``harm <= margin x |blue|``
        rejects at ``alpha``; ``noninferior`` when the one-sided test of ``harm >= margin x
        |blue|`` rejects at ``alpha`` (harm = the effect signed so that positive is bad;
        ``|blue|`` is the metric's ``baseline`` instead when the spec sets one). Covariates
        (CUPED) are not used (diagnostic ``COVARIATE_IGNORED``).
        ``verdict`` better / worse / neutral at two-sided ``alpha``. No multiplicity
        adjustment (as the A/B gate does for guardrails; here also for primaries, since a
        false rollback is cheap in blue/green and a missed regression is not).

    Smoke test (``smoke_test``)
        When green has rows before the switch: blue and green rows of ``[first green row +
        exclude, switch)`` compared the same way. ``smoke_usable`` when both have at least
        ``min_rows`` rows there. A usable smoke test that shows a guardrail regression
        makes the decision ``no-go``; a primary metric significantly worse there is noted in
        the reasons (a smoke test is small, and a no-margin test at ``alpha`` on it would
        add another ``alpha / 2`` of false rollbacks per primary).

    Time confounding (``time_confounding``)
        ``matched``: green's after-window against all of blue's rows before the switch in
        the same hour bins, post-stratified to green's mix of hours
        (:func:`stratified_welch`). Bins are UTC hour of the day (``floor(t / 3600) mod
        24``) or hour of the week (``mod 168``); ``match="auto"`` tries hour-of-week when
        blue has at least 7 days of history, falling back to hour-of-day when fewer than
        80 % of green's rows find a bin. (A fixed UTC offset only relabels bins, so the
        matching does not depend on the time zone; a DST change shifts it by an hour.)
        ``placebo_adjacent``: blue ``[switch - window, switch)`` vs blue ``[switch - 2
        window, switch - window)`` (the premise of the plain comparison: blue does not move
        by itself over one window). ``placebo_matched``: blue's before-window against blue's
        own earlier rows at the same hour bins (the premise of the matched comparison).
        ``basis`` (what the decision rests on): the matched comparison when it is
        available for every gating metric and its placebo did not flag; otherwise the plain
        comparison if its placebo did not flag; otherwise (both flagged) the matched one
        when available, else the plain one.

    Early check (``early``)
        For each guardrail, looks at ``switch + exclude + k look_every`` (and at the
        window's end). Green's rows after the switch, ``y_i``, are compared with a fixed
        reference built from blue's data before the switch: ``b(h)``, blue's mean in the
        row's hour bin (``early_reference="matched-hours"``; the default ``"auto"`` uses it
        when the matched comparison is the basis, see above) or blue's before-window mean
        (``K = 1`` bin; ``"before-window"``). The choice depends on blue's data and green's
        timestamps only, never on green's outcomes. The guarantee is a union bound of two
        events, each of probability at most ``alpha / 2``:

        * a one-sample one-sided asymptotic confidence sequence (Waudby-Smith et al. 2024;
          :func:`abkit.stats.sequential.cs_radius`, ``rho = rho_for(tightest_at, alpha/2)``)
          for the running mean of ``d_i = y_i - b_hat(h_i)``. Given blue's data the ``b_hat``
          are constants fixed before green's rows arrive (the bin depends only on the
          time), so the ``d_i`` are independent and the sequence covers their mean at every
          look simultaneously. The variance is ``max(sample variance of d, blue's pooled
          within-bin variance)`` (with matched hours the sample variance of ``d`` also
          holds the spread of green's hourly means, which only widens the sequence). As
          with the robust variance of :class:`abkit.stats.sequential.SequentialDiffStats`,
          the floor keeps the first looks (few rows, rare errors not yet seen) from
          collapsing the radius; it is green's own variance when green is like blue;
        * fixed-sample one-sided t intervals for every reference mean ``b(h)``, each at
          level ``alpha / (2 K)`` (Bonferroni over the ``K`` bins of the reference). On this
          event ``b(h) - b_hat(h) <= r_h`` for all bins at once, so for any look's mix of
          bins ``sum_h w_h (b(h) - b_hat(h)) <= sum_h w_h r_h``.

        On both events ``harm_lower_n = s mean(d) - radius_n - mean_i(r_{h_i}) <=`` the true
        harm of green's rows so far relative to blue at the same hours, at every look. A
        look *regressed* when ``harm_lower > margin x |reference mean|``; looks with fewer
        than ``min_rows`` green rows are shown but cannot flag. The chance that a green as
        good as blue (harm <= margin) is ever flagged is at most ``alpha`` per guardrail
        (asymptotically; simulated A/A with a zero margin and 100 looks: 0.2 %, the split of
        ``alpha`` makes it conservative). The whole-window comparison is a second chance
        to flag, so a green exactly at the margin can be rolled back with probability up
        to ``2 alpha`` (simulated: 6 % at ``alpha = 0.05``, all from the whole-window test).

    Decision
        ``no-go`` (rollback recommended) when, in the basis comparison, a guardrail regressed
        or a primary metric is significantly worse; when a guardrail regressed at an early
        look; or when a usable smoke test shows a guardrail regression. ``go`` when none of
        that holds, there is at least one guardrail, every guardrail is shown non-inferior
        and every primary could be tested, both windows hold ``min_rows`` rows, and the
        placebo check of the basis did not flag a guardrail. ``inconclusive`` otherwise.

    Parameters
    ----------
    frame : DataFrame
        One row per request.
    time : str
        Column of epoch seconds (float, UTC).
    variant : str
        Column of variant labels.
    blue, green : str
        The labels of the current model and the candidate.
    metrics : sequence of MetricSpec
        Kinds ``mean``, ``proportion`` or ``count`` (read from ``column``); ``role`` and
        ``good`` and ``margin`` (relative to blue's value) as in the A/B gate.
    alpha : float
        Level of every test (default 0.05).
    switch_at : float, optional
        Epoch seconds of the switch; default :func:`detect_switch`.
    window : float, optional
        Seconds compared on each side of the switch; default: the shorter available span.
    exclude : float
        Seconds after the switch (and after green's first smoke-test row) left out as
        warm-up; default 0.
    look_every : float
        Seconds between early looks; default 60. At most ``MAX_LOOKS`` (5,000) looks: for a
        longer window the interval is widened (diagnostic ``LOOKS_CAPPED`` in ``early``).
    tightest_at : int
        Green rows at which the early sequence is tightest (sets ``rho``); default 10,000.
    min_rows : int
        Rows a window needs to be decisive, a smoke test to be usable and an early look to
        flag; default 30.
    match : {"auto", "hour-of-day", "hour-of-week"}
        Bins of the matched-hours comparison.
    early_reference : {"auto", "matched-hours", "before-window"}
        Reference of the early check.

    Raises
    ------
    ValueError
        For invalid arguments only (alpha outside (0, 1), missing columns, unsupported
        metric kinds, non-positive ``look_every`` ...). Data problems (no green rows, no
        blue rows before the switch, one row, zero variance, everything in the warm-up)
        give ``inconclusive`` with diagnostics.
    """
    _check_args(frame, time, variant, blue, green, metrics, alpha, switch_at, window, exclude,
                look_every, tightest_at, min_rows, match, early_reference)
    alpha = float(alpha)
    exclude = float(exclude)
    look_every = float(look_every)
    metrics = tuple(metrics)
    diags: list[Diagnostic] = []

    t_all = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float)
    lab = frame[variant].astype(object).to_numpy()
    is_b = lab == blue
    is_g = lab == green
    n_other = int((~(is_b | is_g)).sum())
    if n_other:
        diags.append(Diagnostic("OTHER_VARIANT_ROWS", f"{n_other} rows belong to neither "
                                                      f"{blue!r} nor {green!r}; not used"))
    bad_t = ~np.isfinite(t_all)
    if (bad_t & (is_b | is_g)).any():
        diags.append(Diagnostic("NON_FINITE_TIME", f"{int((bad_t & (is_b | is_g)).sum())} "
                                                   "rows have no finite time; not used"))
    sel = (is_b | is_g) & ~bad_t
    t = t_all[sel]
    g = is_g[sel]
    order = np.argsort(t, kind="stable")
    t, g = t[order], g[order]
    vals: dict[str, np.ndarray] = {}
    for m in metrics:
        try:
            v = pd.to_numeric(frame[m.column], errors="coerce").to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:  # pragma: no cover - to_numeric coerces
            raise ValueError(f"metric {m.name!r}: column {m.column!r} is not numeric") from exc
        vals[m.name] = v[sel][order]
        if m.covariate:
            diags.append(Diagnostic("COVARIATE_IGNORED", f"{m.name}: the covariate "
                                    f"{m.covariate!r} is not used in blue/green (no CUPED)"))

    if switch_at is not None:
        sw = _switch_given(t, g, float(switch_at))
    else:
        sw = detect_switch(t, g)
    diags += list(sw.diagnostics)

    empty_block = ComparisonBlock("matched-hours", False, "not computed")
    if sw.time is None:
        return _empty_result(blue, green, alpha, sw, exclude, metrics, diags, look_every,
                             tightest_at, min_rows, "no green rows: there is nothing to "
                                                    "analyse", empty_block)
    s = sw.time
    g0 = s + exclude
    blue_pre = ~g & (t < s)
    green_post = g & (t >= g0)
    warm = g & (t >= s) & (t < g0)
    blue_post = ~g & (t >= s)
    if blue_post.any():
        diags.append(Diagnostic("BLUE_AFTER_SWITCH", f"{int(blue_post.sum())} blue rows "
                                "after the switch (draining or misrouted); not used"))
    before_span = float(s - t[blue_pre].min()) if blue_pre.any() else 0.0
    after_span = float(t[green_post].max() - g0) if green_post.any() else 0.0
    W = float(window) if window is not None else min(before_span, after_span)

    in_bb = blue_pre & (t >= s - W)
    in_ga = green_post & (t <= g0 + W)
    windows: dict[str, TimeWindow] = {
        "blue_before": TimeWindow("blue before the switch", s - W, s, {blue: int(in_bb.sum())}),
        "warmup": TimeWindow("warm-up (excluded)", s, g0, {green: int(warm.sum())}),
        "green_after": TimeWindow("green after the switch", g0, g0 + W,
                                  {green: int(in_ga.sum())}, "both"),
    }
    if not blue_pre.any():
        diags.append(Diagnostic("NO_BLUE_BEFORE_SWITCH", "blue has no rows before the "
                                                         "switch; nothing to compare with"))
    if not (g & (t >= s)).any():
        diags.append(Diagnostic("NO_GREEN_AFTER_SWITCH", "green has no rows after the switch"))
    elif not green_post.any():
        diags.append(Diagnostic("ALL_GREEN_IN_WARMUP", f"all {int(warm.sum())} green rows after "
                                f"the switch fall in the {exclude:g} s warm-up"))
    if W <= 0 and blue_pre.any() and green_post.any():
        diags.append(Diagnostic("EMPTY_WINDOW", "the comparison window has zero length (one "
                                                "side spans no time); pass window="))
    for m in metrics:
        v = vals[m.name]
        bad = int((~np.isfinite(v) & (in_bb | in_ga)).sum())
        if bad:
            diags.append(Diagnostic("NON_FINITE_VALUES", f"{m.name}: {bad} rows of the two "
                                    f"windows have a missing or non-finite {m.column}; left out"))

    # --- plain before/after
    plain = tuple(_welch(m, vals[m.name][in_bb], vals[m.name][in_ga], alpha) for m in metrics)

    # --- smoke test
    smoke = None
    smoke_usable = False
    green_pre = g & (t < s)
    n_gpre = int(green_pre.sum())
    if 0 < n_gpre < min_rows:
        diags.append(Diagnostic("GREEN_BEFORE_SWITCH", f"{n_gpre} green rows before the switch "
                                f"(fewer than {min_rows}: no smoke test); not used"))
    if n_gpre >= min_rows:
        s0 = float(t[green_pre].min()) + exclude
        in_sm = (t >= s0) & (t < s)
        nb_s, ng_s = int((in_sm & ~g).sum()), int((in_sm & g).sum())
        sm_w = TimeWindow("smoke test (both variants)", s0, s, {blue: nb_s, green: ng_s})
        sm_diags = []
        smoke_usable = nb_s >= min_rows and ng_s >= min_rows
        if not smoke_usable:
            sm_diags.append(Diagnostic("SMOKE_TOO_SMALL", f"the smoke test has {nb_s} blue and "
                                       f"{ng_s} green rows (usable from {min_rows} each)"))
        comps = tuple(_welch(m, vals[m.name][in_sm & ~g], vals[m.name][in_sm & g], alpha)
                      for m in metrics)
        smoke = ComparisonBlock("smoke-test", True, "blue and green served traffic at the same "
                                "time before the switch; free of time confounding", (sm_w,),
                                comps, diagnostics=tuple(sm_diags))
        windows["smoke"] = sm_w

    # --- matched hours
    pool_t = t[blue_pre]
    history = before_span
    modes = ["hour-of-day"] if match == "hour-of-day" else (
        ["hour-of-week"] if match == "hour-of-week" else
        (["hour-of-week", "hour-of-day"] if history >= WEEK else ["hour-of-day"]))
    matched_block = None
    for mode in modes:
        comps_m, mdiags, shares = [], [], []
        for m in metrics:
            mc, share, md = _matched(m, vals[m.name][in_ga], t[in_ga], vals[m.name][blue_pre],
                                     pool_t, mode, alpha)
            if share is not None:
                shares.append(share)
            if mc is None:
                mdiags += [Diagnostic(d.code, f"{m.name}: {d.message}") for d in md]
            else:
                comps_m.append(mc)
        ok = len(comps_m) == len(metrics) and len(metrics) > 0
        matched_block = ComparisonBlock(
            "matched-hours", bool(comps_m),
            f"green after the switch against blue's rows before it at the same "
            f"{mode.replace('-', ' ')}, standardised to green's mix of hours",
            (windows["green_after"], TimeWindow("blue before the switch (matched hours)",
                                                float(pool_t.min()) if pool_t.size else None,
                                                s, {blue: int(blue_pre.sum())})),
            tuple(comps_m), mode, min(shares) if shares else None, tuple(mdiags))
        if ok:
            break
    assert matched_block is not None
    gating = [m for m in metrics if m.role in ("guardrail", "primary")]
    matched_ok = bool(gating) and all(matched_block.get(m.name) is not None for m in gating)
    agreement = {m.name: _agree(next(c for c in plain if c.metric == m.name),
                                matched_block.get(m.name)) for m in metrics}

    # --- placebos
    e0, e1 = s - 2 * W, s - W
    in_pe = blue_pre & (t >= e0) & (t < e1)
    pa_w = TimeWindow("blue, the window before the before-window", e0, e1,
                      {blue: int(in_pe.sum())})
    if W > 0 and int(in_pe.sum()) >= min_rows and int(in_bb.sum()) >= min_rows:
        pa = ComparisonBlock("placebo-adjacent", True, "blue's before-window against the blue "
                             "window of the same length just before it",
                             (pa_w, windows["blue_before"]),
                             tuple(_welch(m, vals[m.name][in_pe], vals[m.name][in_bb], alpha)
                                   for m in metrics))
    else:
        pa = ComparisonBlock("placebo-adjacent", False, "blue's before-window against the blue "
                             "window of the same length just before it", (pa_w,),
                             diagnostics=(Diagnostic(
                                 "PLACEBO_UNAVAILABLE", f"blue has {int(in_pe.sum())} rows in "
                                 f"the earlier window and {int(in_bb.sum())} in the "
                                 f"before-window (need {min_rows} each)"),))
    placebo_adjacent = _placebo(pa, alpha)
    early_pool = blue_pre & (t < s - W)
    pm_comps, pm_diags = [], []
    mode = matched_block.match or "hour-of-day"
    if int(in_bb.sum()) >= min_rows:
        for m in metrics:
            mc, _, md = _matched(m, vals[m.name][in_bb], t[in_bb], vals[m.name][early_pool],
                                 t[early_pool], mode, alpha)
            if mc is None:
                pm_diags += [Diagnostic(d.code, f"{m.name}: {d.message}") for d in md]
            else:
                pm_comps.append(mc)
    else:
        pm_diags.append(Diagnostic("PLACEBO_UNAVAILABLE", "too few blue rows in the "
                                                          "before-window"))
    pm = ComparisonBlock("placebo-matched", bool(pm_comps), "blue's before-window against "
                         f"blue's earlier rows at the same {mode.replace('-', ' ')}",
                         (windows["blue_before"],), tuple(pm_comps), mode,
                         diagnostics=tuple(pm_diags))
    placebo_matched = _placebo(pm, alpha)
    # the basis: the comparison whose premise (its placebo) holds, matched hours first
    if matched_ok and not placebo_matched.flagged:
        basis = "matched-hours"
    elif not placebo_adjacent.flagged:
        basis = "before-after"
    else:
        basis = "matched-hours" if matched_ok else "before-after"
    tc = TimeConfounding(TIME_CONFOUNDING_WARNING, matched_block, agreement, placebo_adjacent,
                         placebo_matched, basis)

    # --- early check
    early = _early_check(metrics, t, vals, in_bb, blue_pre, in_ga, g0, W, s, alpha,
                         look_every, int(tightest_at), int(min_rows), matched_block,
                         early_reference, basis)

    # --- decision
    basis_comps = matched_block.comparisons if basis == "matched-hours" else plain
    decision, reasons, rollback = _decide(
        metrics, plain, basis_comps, basis, tc, smoke if smoke_usable else None, early,
        int(in_bb.sum()), int(in_ga.sum()), min_rows, alpha, diags)
    return BlueGreenResult(blue, green, alpha, sw, W, exclude, windows, plain, smoke,
                           smoke_usable, tc, early, decision, tuple(reasons), rollback,
                           tuple(diags))


def _early_check(metrics, t, vals, in_bb, blue_pre, in_ga, g0, W, s, alpha, look_every,
                 tightest_at, min_rows, matched_block, early_reference, basis) -> EarlyCheck:
    guards = [m for m in metrics if m.role == "guardrail"]
    method = ("one-sided asymptotic confidence sequence (Waudby-Smith et al. 2024) for green's "
              "running mean minus a fixed blue reference, at alpha/2, plus Bonferroni "
              "one-sided t bounds for the reference means at alpha/(2K); union bound")
    diags: list[Diagnostic] = []
    if W <= 0 or not in_ga.any():
        diags.append(Diagnostic("NO_LOOKS", "green has no rows after the switch (and warm-up); "
                                            "no early looks"))
        return EarlyCheck(alpha, tightest_at, look_every, min_rows, method, {}, (), None,
                          tuple(diags))
    k_last = math.ceil(W / look_every)
    if k_last > MAX_LOOKS:
        diags.append(Diagnostic("LOOKS_CAPPED", f"{k_last} looks of {look_every:g} s would "
                                f"cover the window; the interval is widened to "
                                f"{W / MAX_LOOKS:g} s ({MAX_LOOKS} looks)"))
        look_every = W / MAX_LOOKS
        k_last = MAX_LOOKS
    times = g0 + look_every * np.arange(1, k_last + 1, dtype=float)
    times[-1] = min(times[-1], g0 + W)
    tg = t[in_ga]
    counts = np.searchsorted(tg, times, side="left")
    counts[-1] = tg.size  # the last look includes the window's closed end
    per_metric: dict[str, list[EarlyMetricLook]] = {}
    refs: dict[str, dict[str, Any]] = {}
    for m in guards:
        y_all = vals[m.name][in_ga]
        want = early_reference
        if want == "auto":
            want = ("matched-hours" if basis == "matched-hours"
                    and matched_block.get(m.name) is not None else "before-window")
        ref = None
        if want == "matched-hours":
            mode = matched_block.match or "hour-of-day"
            nb = 24 if mode == "hour-of-day" else 168
            ref = _reference(vals[m.name][blue_pre], _hour_bins(t[blue_pre], mode), nb, alpha,
                             mode)
            bins_g = _hour_bins(tg, mode)
            if ref is None:
                diags.append(Diagnostic("REFERENCE_FALLBACK", f"{m.name}: no matched-hours "
                                        "reference; the before-window mean is used"))
        if ref is None:
            yb = vals[m.name][in_bb]
            ref = _reference(yb, np.zeros(yb.size, dtype=np.int64), 1, alpha, "before-window")
            bins_g = np.zeros(tg.size, dtype=np.int64)
        if ref is None:
            diags.append(Diagnostic("NO_REFERENCE", f"{m.name}: blue has fewer than 2 values "
                                                    "before the switch; not checked"))
            continue
        refs[m.name] = {"reference": ref.mode, "k": ref.k, "variance_floor": _f(ref.var)}
        ok = np.isfinite(y_all) & ref.usable[bins_g]
        dropped = int(tg.size - ok.sum())
        if dropped:
            diags.append(Diagnostic("EARLY_ROWS_LEFT_OUT", f"{m.name}: {dropped} green rows "
                                    "have no value or no reference bin; left out of the looks"))
        y = y_all[ok]
        rm = ref.mean[bins_g[ok]]
        rh = ref.half[bins_g[ok]]
        cum_ok = np.r_[0, np.cumsum(ok)]
        n_look = cum_ok[counts]
        harmful = "increase" if m.good == "decrease" else "decrease"
        looks: list[EarlyMetricLook] = []
        has = n_look >= 1
        if has.any():
            est, hl, gm, rmean = early_bounds(y, rm, rh, n_look[has], harmful=harmful,
                                              alpha=alpha, tightest_at=tightest_at,
                                              var_floor=ref.var)
        j = 0
        for i, n in enumerate(n_look):
            if n < 1:
                looks.append(EarlyMetricLook(m.name, 0, None, None, None, None, None, False))
                continue
            ma = m.margin * abs(float(rmean[j]) if m.baseline is None else float(m.baseline))
            lower = _f(hl[j]) if n >= min_rows else None
            looks.append(EarlyMetricLook(m.name, int(n), _f(gm[j]), _f(rmean[j]), _f(est[j]),
                                         lower, ma, lower is not None and lower > ma))
            j += 1
        per_metric[m.name] = looks
    out = []
    for i, tm in enumerate(times):
        out.append(EarlyLook(i + 1, float(tm), float(tm - s), int(counts[i]),
                             tuple(per_metric[name][i] for name in per_metric)))
    first = next((lk for lk in out if lk.regressed), None)
    if not guards:
        diags.append(Diagnostic("NO_GUARDRAILS", "no guardrail metric; the early check has "
                                                 "nothing to watch"))
    return EarlyCheck(alpha, tightest_at, look_every, min_rows, method, refs, tuple(out), first,
                      tuple(diags))


def _empty_result(blue, green, alpha, sw, exclude, metrics, diags, look_every, tightest_at,
                  min_rows, reason, empty_block) -> BlueGreenResult:
    ph = ComparisonBlock("placebo", False, "not computed")
    tc = TimeConfounding(TIME_CONFOUNDING_WARNING, empty_block, {m.name: None for m in metrics},
                         PlaceboCheck(ph, (), {}), PlaceboCheck(ph, (), {}), "before-after")
    early = EarlyCheck(alpha, tightest_at, look_every, min_rows, "not computed", {}, (), None,
                       (Diagnostic("NO_LOOKS", reason),))
    return BlueGreenResult(blue, green, alpha, sw, None, exclude, {}, (), None, False, tc, early,
                           "inconclusive", (reason,),
                           Rollback(False, "inconclusive: " + reason), tuple(diags))


def _decide(metrics, plain, basis_comps, basis, tc: TimeConfounding, smoke, early: EarlyCheck,
            n_blue, n_green, min_rows, alpha, diags) -> tuple[str, list[str], Rollback]:
    nogo: list[str] = []
    blockers: list[str] = []
    notes: list[str] = []
    label = ("matched-hours comparison" if basis == "matched-hours"
             else "before/after comparison")
    by_name = {c.metric: c for c in basis_comps}
    codes = {d.code for d in diags}
    if "NO_BLUE_BEFORE_SWITCH" in codes:
        blockers.append("blue has no rows before the switch: nothing to compare green with")
    if "NO_GREEN_AFTER_SWITCH" in codes or "ALL_GREEN_IN_WARMUP" in codes:
        blockers.append("green has no rows after the switch (outside the warm-up)")
    if not blockers and (n_blue < min_rows or n_green < min_rows):
        blockers.append(f"too little data: {n_blue} blue rows before and {n_green} green rows "
                        f"after the switch (need {min_rows} each)")
    for m in metrics:
        if m.role not in ("guardrail", "primary"):
            continue
        c = by_name.get(m.name)
        if c is None:
            blockers.append(f"{m.name} could not be compared")
            continue
        if m.role == "guardrail":
            marg = f"{m.margin:.1%} margin" if m.margin else "zero margin"
            if c.regressed:
                nogo.append(f"guardrail {m.name} regressed in the {label}: {c.text()} green vs "
                            f"blue, worse than its {marg} (one-sided p = "
                            f"{_p(c.regressed_pvalue)} < {alpha:g})")
            elif c.regressed is None:
                blockers.append(f"guardrail {m.name} could not be evaluated "
                                f"({', '.join(d.code for d in c.diagnostics) or 'no variance'})")
            elif not c.noninferior:
                blockers.append(f"guardrail {m.name} is not shown non-inferior within its "
                                f"{marg}: {c.text()} (one-sided p = "
                                f"{_p(c.noninferior_pvalue)} >= {alpha:g})")
        else:
            if c.verdict == "worse":
                nogo.append(f"primary metric {m.name} is significantly worse in the {label}: "
                            f"{c.text()} (p = {_p(c.result.absolute.pvalue)})")
            elif c.result.absolute.pvalue is None:
                blockers.append(f"primary metric {m.name} could not be tested "
                                f"({', '.join(d.code for d in c.diagnostics) or 'no variance'})")
    if basis == "matched-hours":
        for c in plain:
            mc = by_name.get(c.metric)
            if c.role == "guardrail" and c.regressed and mc is not None and not mc.regressed:
                notes.append(f"{c.metric}: the plain before/after comparison shows a regression "
                             f"({c.text()}) that the matched-hours comparison does not "
                             f"({mc.text()}): attributed to the time of day")
    fr = early.first_regression
    if fr is not None:
        names = ", ".join(fr.regressed)
        nogo.append(f"early check: {names} regressed at look {fr.number}, {_hm(fr.time)} "
                    f"({fr.elapsed / 60:.1f} min after the switch, {fr.n_green} green rows): "
                    f"roll back from {_hm(fr.time)}")
    if smoke is not None:
        for c in smoke.comparisons:
            if c.role == "guardrail" and c.regressed:
                nogo.append(f"smoke test: guardrail {c.metric} regressed while both ran: "
                            f"{c.text()} (one-sided p = {_p(c.regressed_pvalue)})")
            elif c.role == "primary" and c.verdict == "worse":
                notes.append(f"smoke test: primary metric {c.metric} is significantly worse "
                             f"while both ran: {c.text()} (noted; the smoke test is small, "
                             "only a guardrail regression there rolls back)")
    placebo = tc.placebo_matched if basis == "matched-hours" else tc.placebo_adjacent
    if placebo.flagged:
        txt = ", ".join(f"{k} ({placebo.directions[k]})" for k in placebo.flagged)
        msg = (f"placebo check: blue moved against itself ({txt}) in the "
               f"{placebo.block.kind} check, so the {label} is not trustworthy")
        if nogo:
            notes.append(msg + "; the regression may be time confounding, but rollback is "
                               "cheap")
        else:
            blockers.append(msg)
    if not any(m.role == "guardrail" for m in metrics):
        blockers.append("there is no guardrail metric, so nothing shows green is non-inferior")
    if nogo:
        reasons = nogo + notes
        rb = Rollback(True, nogo[0], fr.time if fr is not None else None)
        return "no-go", reasons, rb
    if blockers:
        return "inconclusive", blockers + notes, Rollback(
            False, "inconclusive: no regression shown, but green is not shown to be as good "
                   "either; keep watching")
    guards = [m.name for m in metrics if m.role == "guardrail"]
    reasons = [f"every guardrail is non-inferior in the {label} ({', '.join(guards)})"]
    prim = [m.name for m in metrics if m.role == "primary"]
    if prim:
        reasons.append(f"no primary metric is significantly worse ({', '.join(prim)})")
    if early.looks:
        reasons.append(f"no guardrail regressed at any of the {len(early.looks)} early looks")
    if smoke is not None:
        reasons.append("the smoke test shows no regression")
    reasons += notes
    return "go", reasons, Rollback(False, "go: green is at least as good as blue was")


# =========================================================================== example data


def bluegreen_example_metrics() -> tuple[MetricSpec, ...]:
    """The metrics of :func:`make_bluegreen_log`: latency and error guardrails, a primary."""
    return (
        MetricSpec("latency_ms", "mean", column="latency_ms", role="guardrail",
                   good="decrease", margin=0.05),
        MetricSpec("error_rate", "proportion", column="error", role="guardrail",
                   good="decrease", margin=0.5),
        MetricSpec("conversion", "proportion", column="converted", role="primary",
                   good="increase"),
    )


SCENARIOS = ("healthy", "regression", "diurnal", "smoke")


def make_bluegreen_log(
    scenario: str = "healthy",
    seed: int = 0,
    *,
    rate: float = 1.0,
    history_hours: float = 60.0,
    after_hours: float = 4.0,
    start: float = 1_714_521_600.0,
) -> pd.DataFrame:
    """A seeded per-request log of a blue/green switch (for tests and README samples).

    Requests arrive as a Poisson process (``rate`` per second) from ``start`` (default
    2024-05-01 00:00 UTC); blue serves ``history_hours`` (default 60: the switch is at
    12:00 UTC on the third day), then green serves ``after_hours``. During the first 30 s
    after the switch half the requests still reach blue (connection draining). Columns:
    ``ts`` (epoch seconds), ``variant`` (``blue`` / ``green``), ``latency_ms`` (lognormal,
    median 100 ms, sigma 0.35), ``error`` (0/1, 1 %) and ``converted`` (0/1, 10 %).

    Scenarios
        ``healthy``: green is blue. ``regression``: green's latency x 1.25 and error rate
        2.5 %. ``diurnal``: green is blue, but latency follows the day (x ``1 + 0.4 (1 +
        cos(2 pi (hour - 15) / 24)) / 2``, slowest at 15:00 UTC) and traffic is up to 1.5x
        busier in the afternoon, so the after-window (12:00-16:00) is naturally slower than
        the before-window (08:00-12:00). ``smoke``: healthy, with green at a 10 % share for
        the two hours before the switch.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    rng = np.random.default_rng(seed)
    switch = start + history_hours * 3600.0
    end = switch + after_hours * 3600.0
    diurnal = scenario == "diurnal"

    def phase(t: np.ndarray) -> np.ndarray:
        h = np.mod(t / 3600.0, 24.0)
        return (1.0 + np.cos(2 * np.pi * (h - 15.0) / 24.0)) / 2.0

    lam_max = rate * (1.5 if diurnal else 1.0)
    n = rng.poisson(lam_max * (end - start))
    ts = np.sort(rng.uniform(start, end, n))
    if diurnal:
        ts = ts[rng.uniform(size=ts.size) < (1.0 + 0.5 * phase(ts)) / 1.5]
    green = ts >= switch
    drain = (ts >= switch) & (ts < switch + 30.0)
    green[drain] = rng.uniform(size=int(drain.sum())) < 0.5
    if scenario == "smoke":
        sm = (ts >= switch - 7200.0) & (ts < switch)
        green[sm] = rng.uniform(size=int(sm.sum())) < 0.10
    lat = 100.0 * np.exp(0.35 * rng.standard_normal(ts.size))
    if diurnal:
        lat *= 1.0 + 0.4 * phase(ts)
    err_p = np.full(ts.size, 0.01)
    if scenario == "regression":
        lat = np.where(green, lat * 1.25, lat)
        err_p = np.where(green, 0.025, err_p)
    err = (rng.uniform(size=ts.size) < err_p).astype(int)
    conv = (rng.uniform(size=ts.size) < 0.10).astype(int)
    return pd.DataFrame({"ts": ts, "variant": np.where(green, "green", "blue"),
                         "latency_ms": np.round(lat, 3), "error": err, "converted": conv})
