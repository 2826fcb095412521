"""The canary / linear gate: cumulative statistics look by look, and the decision rule.

Cells (:mod:`abkit.engine.rollout_reduce`) are fed look by look to :class:`SequentialGate`, which
keeps only mergeable running statistics, so a look costs O(cells of that look), whatever the
number of rows behind it. Replay and the incremental monitor both drive this one object;
that is why they agree.

Decision at each look (documented in the README):

* ``no-go`` (roll back) when the traffic split departs from the schedule (sequential SRM,
  anytime-valid p-value below ``srm_threshold``), or when any gating metric (role
  ``guardrail`` or ``primary``) has *regressed*: its one-sided anytime-valid lower bound of
  the harm is above 0, at level ``alpha / m`` for ``m`` gating metrics (Bonferroni, so the
  chance of ever rolling back a candidate that is not worse is at most ``alpha``);
* ``go`` (promote) when every gating metric is shown *non-inferior* (one-sided upper bound
  of the harm below ``margin x |baseline|``, level ``alpha`` each: an intersection-union
  test needs no adjustment), the candidate has ``min_samples`` rows and ``min_duration``
  has passed;
* ``inconclusive`` (keep going) otherwise. The first look that is not inconclusive decides;
  the decision stands for the rest of the replay.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from ..spec import ExperimentSpec, MetricSpec
from ..stats.results import Diagnostic
from ..stats.sequential import SequentialDiffStats, rho_for
from ..engine.rollout_reduce import CellKey, RolloutPlan

__all__ = ["MetricLook", "Look", "SequentialGate"]

_ROLLBACK, _PROMOTE = "greater", "less"  # alternatives on the harm scale


@dataclass(frozen=True)
class MetricLook:
    """One gating (or reported) metric at one look."""

    metric: str
    kind: str
    role: str
    good: str
    method: str
    n_control: int
    n_candidate: int
    control_value: float | None
    candidate_value: float | None
    estimate: float | None  # candidate - control (count: rate ratio - 1)
    ci: tuple[float, float] | None  # two-sided anytime-valid interval at level 1 - alpha
    harm_lower: float | None  # rollback bound (level alpha / m), harm = effect signed bad > 0
    harm_upper: float | None  # promotion bound (level alpha)
    margin_abs: float | None
    regressed: bool
    noninferior: bool
    pvalue: float | None  # anytime-valid p-value of "no harm" (running minimum)
    threshold: float | None = None  # quantile metrics: the frozen control quantile
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "kind": self.kind, "role": self.role, "good": self.good,
            "method": self.method, "n_control": self.n_control,
            "n_candidate": self.n_candidate, "control_value": self.control_value,
            "candidate_value": self.candidate_value, "estimate": self.estimate,
            "ci": None if self.ci is None else {"low": self.ci[0], "high": self.ci[1]},
            "harm_lower": self.harm_lower, "harm_upper": self.harm_upper,
            "margin": self.margin_abs, "regressed": self.regressed,
            "noninferior": self.noninferior, "pvalue": self.pvalue,
            "threshold": self.threshold,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class Look:
    """The gate's state after one look (cumulative data up to the look's window end)."""

    number: int  # 1-based, in order of looks with data
    window: int  # 0-based look window index (gaps = windows without data)
    end: float  # epoch seconds of the window's end
    elapsed: float  # seconds since the rollout start
    step: int  # 0-based schedule step in force at the window's end (last data)
    share: float  # the candidate's intended share then
    n: dict[str, int]
    signal: str  # this look's own verdict
    decision: str  # the standing decision (first decisive signal, kept)
    reasons: tuple[str, ...]
    metrics: tuple[MetricLook, ...]
    srm_pvalue: float | None
    no_split_rows: int = 0  # rows in cells where the schedule sends all traffic one way


def _f(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


class _DiffMetric:
    """mean / proportion / quantile: the IPW pseudo-outcome confidence sequence."""

    def __init__(self, m: MetricSpec, gate: SequentialGate) -> None:
        self.m, self.g = m, gate
        self.stats = SequentialDiffStats()
        self.pool_n = 0.0  # pooled rows of earlier looks (for the predictable centre)
        self.pool_s = 0.0
        self.look_n = 0.0
        self.look_s = 0.0
        self.min_p = 1.0
        self.gst_r = None
        self.last_t = 0.0
        if gate.method == "gst":
            from ..stats.gst import GroupSequentialDesign

            self.gst_r = GroupSequentialDesign(gate.alpha_rollback, gate.spec.rollout.spending)

    @property
    def center(self) -> float:
        if self.m.kind == "quantile":
            return 1.0 - float(self.m.quantile)  # type: ignore[arg-type]
        if self.m.baseline is not None:
            return float(self.m.baseline)
        return self.pool_s / self.pool_n if self.pool_n else 0.0

    def _arm(self, key: CellKey, variant: str) -> tuple[int, float, float] | None:
        g = self.g
        vec = g.cells_now.get(key, {}).get(variant)
        if self.m.kind == "quantile":
            if vec is None:
                return (0, 0.0, 0.0)
            k = g.exceed_now.get(key, {}).get(variant, {}).get(self.m.name)
            if k is None:
                return None  # still the baseline period
            return int(vec[0]), float(k), float(k)
        if vec is None:
            return (0, 0.0, 0.0)
        si, qi = g.plan.sums(self.m.column)  # type: ignore[arg-type]
        return int(vec[0]), float(vec[si]), float(vec[qi])

    def add(self, key: CellKey, share: float) -> None:
        c = self._arm(key, self.g.control)
        t = self._arm(key, self.g.candidate)
        if c is None or t is None:
            return
        self.look_n += c[0] + t[0]
        self.look_s += c[1] + t[1]
        if not 0.0 < share < 1.0 or c[0] + t[0] == 0:
            return
        self.stats = self.stats + SequentialDiffStats.from_arm_sums(
            share, t[0], t[1], t[2], c[0], c[1], c[2], center=self.center)

    def close_look(self) -> None:
        self.pool_n += self.look_n
        self.pool_s += self.look_s
        self.look_n = self.look_s = 0.0

    def _values(self) -> tuple[float | None, float | None]:
        st = self.stats
        return st.control_mean, st.treated_mean

    def evaluate(self) -> MetricLook:
        m, g, st = self.m, self.g, self.stats
        sign = 1.0 if m.good == "decrease" else -1.0  # harm = sign * effect
        cval, tval = self._values()
        diags: list[Diagnostic] = []
        threshold = None
        if m.kind == "quantile":
            thr = g.thresholds.get(m.name)
            threshold = thr[0] if thr else None
            if thr is None:
                diags.append(Diagnostic(
                    "BASELINE_PERIOD", f"collecting the control's p{m.quantile * 100:g} "
                    "baseline; the tail test starts at the next look after it"))
        base = m.baseline if m.baseline is not None else (
            1.0 - m.quantile if m.kind == "quantile" else cval)  # type: ignore[operator]
        margin = None if base is None else m.margin * abs(base)
        method = ("rollback: group sequential z-test, Lan-DeMets " + g.spec.rollout.spending
                  + "; promotion: asymptotic confidence sequence (IPW)"
                  if g.method == "gst" else "asymptotic confidence sequence (IPW)")
        if st.estimate is None or st.n < 2:
            undefined = list(st._undefined()) or [
                Diagnostic("TOO_FEW_UNITS", "fewer than two rows so far")]
            return MetricLook(m.name, m.kind, m.role, m.good, method, st.n_control,
                              st.n_treated, cval, tval, st.estimate, None, None, None, margin,
                              False, False, _f(self.min_p) if self.min_p < 1 else None,
                              threshold, tuple(diags) + tuple(undefined))
        est = st.estimate
        n = g.spec.rollout.tightest_at
        # promotion and the displayed interval: confidence sequences, whatever the method
        prom = st.interval(g.alpha, _rho(n, g.alpha, _PROMOTE),
                           _PROMOTE if sign > 0 else "greater")
        two = st.interval(g.alpha, _rho(n, g.alpha, "two-sided"), "two-sided")
        hi_b = prom.upper if sign > 0 else prom.lower
        harm_hi = None if hi_b is None else sign * hi_b
        noninf = harm_hi is not None and margin is not None and harm_hi < margin
        diags += list(two.diagnostics)
        ci = (two.lower, two.upper) if two.ci is not None else None
        if g.method == "gst":
            harm_lo, p = self._gst_rollback(sign * est, diags)
        else:
            roll = st.interval(g.alpha_rollback, _rho(n, g.alpha_rollback, _ROLLBACK),
                               _ROLLBACK if sign > 0 else "less")
            lo_b = roll.lower if sign > 0 else roll.upper
            harm_lo = None if lo_b is None else sign * lo_b
            p = roll.pvalue
        if p is not None:
            self.min_p = min(self.min_p, p)
        regressed = harm_lo is not None and harm_lo > 0
        return MetricLook(m.name, m.kind, m.role, m.good, method, st.n_control, st.n_treated,
                          cval, tval, est, ci, _f(harm_lo), _f(harm_hi), margin, regressed,
                          noninf, self.min_p, threshold, tuple(diags))

    def _gst_rollback(self, harm: float, diags: list) -> tuple[float | None, float | None]:
        """The group sequential rollback test at this look: (lower bound of the harm from
        the look's efficacy boundary, nominal one-sided p-value), or (None, None) without a
        boundary. The information fraction is rows so far / ``max_samples``."""
        from scipy.stats import norm

        g, st = self.g, self.stats
        var = st.variance("robust")
        frac = st.n / g.spec.rollout.max_samples
        se = math.sqrt(var / st.n) if var else 0.0
        if frac > self.last_t:
            self.gst_r, look = self.gst_r.add_look(frac)
            self.last_t = frac
            self.c_r, self.gst_diags = look.boundary, look.diagnostics
        c_r = getattr(self, "c_r", None)
        if c_r is None or se == 0.0:
            diags += list(getattr(self, "gst_diags", ())) or [Diagnostic(
                "ZERO_VARIANCE" if se == 0.0 else "NO_BOUNDARY",
                "zero variance so far" if se == 0.0 else "no boundary at this look")]
            return None, None
        return harm - c_r * se, float(norm.sf(harm / se))


@functools.lru_cache(maxsize=64)
def _rho(n_opt: int, alpha: float, alternative: str) -> float:
    """:func:`rho_for`, computed once per setting (a golden-section search)."""
    return rho_for(n_opt, alpha, alternative)


class _CountMetric:
    """count: events per row (request), anytime-valid rate-ratio test (exact mixture)."""

    def __init__(self, m: MetricSpec, gate: SequentialGate) -> None:
        from ..stats.mixture import RateRatioSequence

        self.m, self.g = m, gate
        self.seq = RateRatioSequence()
        self.ev = {"c": 0.0, "t": 0.0}
        self.rows = {"c": 0, "t": 0}
        self.min_p = 1.0

    def add(self, key: CellKey, share: float) -> None:
        g = self.g
        si, _ = g.plan.sums(self.m.column)  # type: ignore[arg-type]
        c = g.cells_now.get(key, {}).get(g.control)
        t = g.cells_now.get(key, {}).get(g.candidate)
        nc, ec = (int(c[0]), float(c[si])) if c is not None else (0, 0.0)
        nt, et = (int(t[0]), float(t[si])) if t is not None else (0, 0.0)
        self.ev["c"] += ec
        self.ev["t"] += et
        self.rows["c"] += nc
        self.rows["t"] += nt
        if nc and nt:
            self.seq = self.seq.update(et, nt, ec, nc)

    def close_look(self) -> None:
        pass

    def evaluate(self) -> MetricLook:
        m, g, seq = self.m, self.g, self.seq
        rate_c = self.ev["c"] / self.rows["c"] if self.rows["c"] else None
        rate_t = self.ev["t"] / self.rows["t"] if self.rows["t"] else None
        method = "rate-ratio mixture e-process (Lindon & Malek 2022)"
        ratio = seq.estimate
        est = None if ratio is None else ratio - 1.0
        # harm on the ratio scale: candidate rate / control rate above 1 (good = decrease)
        up = m.good == "decrease"
        roll = seq.test(1.0, "greater" if up else "less", alpha=g.alpha_rollback)
        bound = 1.0 + m.margin if up else 1.0 / (1.0 + m.margin)
        prom = seq.test(bound, "less" if up else "greater", alpha=g.alpha)
        two = seq.test(1.0, "two-sided", alpha=g.alpha)
        self.min_p = min(self.min_p, roll.pvalue)
        if up:
            harm_lo = None if roll.lower is None else roll.lower - 1.0
            harm_hi = None if prom.upper is None else prom.upper - 1.0
        else:
            harm_lo = None if roll.upper is None else 1.0 - roll.upper
            harm_hi = None if prom.lower is None else 1.0 - prom.lower
        ci = None if two.ci is None else (two.ci.low - 1.0, two.ci.high - 1.0)
        return MetricLook(m.name, m.kind, m.role, m.good, method, self.rows["c"],
                          self.rows["t"], rate_c, rate_t, est, ci, _f(harm_lo), _f(harm_hi),
                          m.margin, roll.rejects, prom.rejects, self.min_p, None,
                          tuple(two.diagnostics))


class _SRM:
    """Sequential sample-ratio check against the schedule's share in each cell."""

    def __init__(self, gate: SequentialGate) -> None:
        from ..stats.mixture import SequentialSRM

        self.g = gate
        self.state = SequentialSRM((gate.control, gate.candidate))
        self.min_p = 1.0

    def add(self, key: CellKey, share: float) -> None:
        g = self.g
        if not 0.0 < share < 1.0:
            return  # the schedule sends everything one way: no split to check
        per = g.cells_now.get(key, {})
        counts = {v: int(per[v][0]) if v in per else 0 for v in (g.control, g.candidate)}
        self.state = self.state.update(counts, {g.control: 1.0 - share, g.candidate: share})

    def pvalue(self) -> float | None:
        if not self.state.buckets:
            return None
        p = self.state.test(self.g.spec.srm_threshold).pvalue
        self.min_p = min(self.min_p, p)
        return self.min_p


@dataclass
class SequentialGate:
    """Running statistics of a canary/linear rollout; feed it looks in time order."""

    spec: ExperimentSpec
    plan: RolloutPlan
    control: str
    candidate: str
    origin: float
    looks: list[Look] = field(default_factory=list)
    thresholds: dict[str, tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.alpha = self.spec.alpha
        self.gating = [m for m in self.spec.metrics if m.role != "secondary"]
        self.alpha_rollback = self.alpha / len(self.gating)
        self.method = self.spec.rollout.method  # type: ignore[union-attr]
        self.metrics = [(_CountMetric if m.kind == "count" else _DiffMetric)(m, self)
                        for m in self.spec.metrics]
        self.srm = _SRM(self)
        self.n: dict[str, int] = {self.control: 0, self.candidate: 0}
        self.cells_now: dict = {}
        self.exceed_now: dict = {}
        self.no_split = 0
        self.decided: Look | None = None

    def _share(self, step: int) -> float:
        return self.plan.schedule.steps[step][1]

    def _add_cells(self, cells: dict, exceed: dict) -> int:
        self.cells_now, self.exceed_now = cells, exceed
        last_step = 0
        for key in sorted(cells):
            share = self._share(key[1])
            last_step = max(last_step, key[1])
            per = cells[key]
            for v in (self.control, self.candidate):
                if v in per:
                    self.n[v] += int(per[v][0])
            if not 0.0 < share < 1.0:
                self.no_split += int(sum(vec[0] for vec in per.values()))
            self.srm.add(key, share)
            for mt in self.metrics:
                mt.add(key, share)
        return last_step

    def add_late(self, cells: dict, exceed: dict) -> None:
        """Rows of windows already looked at (out-of-order batches): they join the running
        statistics for later looks; past looks stand as they were."""
        self._add_cells(cells, exceed)

    def add_look(self, window: int, cells: dict, exceed: dict,
                 thresholds: dict[str, tuple[float, int]] | None = None) -> Look:
        """Fold in one look window's cells and evaluate the cumulative data."""
        if thresholds:
            self.thresholds.update(thresholds)
        step = self._add_cells(cells, exceed)
        for mt in self.metrics:
            mt.close_look()
        look = self._evaluate(window, step)
        self.looks.append(look)
        return look

    def _evaluate(self, window: int, step: int) -> Look:
        ro = self.spec.rollout
        end = self.origin + (window + 1) * ro.look_every  # type: ignore[union-attr]
        elapsed = end - self.origin
        results = [mt.evaluate() for mt in self.metrics]
        srm_p = self.srm.pvalue()
        gating = [r for r in results if r.role != "secondary"]
        reasons: list[str] = []
        share = self._share(step)
        if srm_p is not None and srm_p < self.spec.srm_threshold:
            reasons.append(
                f"traffic split departs from the schedule (sequential SRM p = {srm_p:.2g} < "
                f"{self.spec.srm_threshold:g}): {self.candidate} {self.n[self.candidate]:,} "
                f"rows, {self.control} {self.n[self.control]:,}")
        for r in gating:
            if r.regressed:
                reasons.append(
                    f"{r.metric} regressed: harm lower bound {r.harm_lower:.4g} > 0 "
                    f"(anytime-valid, alpha {self.alpha_rollback:.3g})")
        if reasons:
            signal = "no-go"
        else:
            missing = [r.metric for r in gating if not r.noninferior]
            short = []
            if self.n[self.candidate] < ro.min_samples:  # type: ignore[union-attr]
                short.append(f"{self.candidate} has {self.n[self.candidate]:,} of "
                             f"min_samples {ro.min_samples:,} rows")  # type: ignore[union-attr]
            if elapsed < ro.min_duration:  # type: ignore[union-attr]
                short.append(f"{elapsed:.0f} s of min_duration {ro.min_duration:.0f} s")  # type: ignore[union-attr]
            if not missing and not short:
                signal = "go"
                reasons = [f"{r.metric} non-inferior: harm upper bound {r.harm_upper:.4g} < "
                           f"margin {r.margin_abs:.4g}" for r in gating]
            else:
                signal = "inconclusive"
                if missing:
                    reasons.append("not yet shown non-inferior: " + ", ".join(missing))
                reasons += short
        if self.decided is None and signal != "inconclusive":
            decision = signal
        else:
            decision = self.decided.decision if self.decided else "inconclusive"
        look = Look(len(self.looks) + 1, window, end, elapsed, step, share, dict(self.n),
                    signal, decision, tuple(reasons), tuple(results), srm_p, self.no_split)
        if self.decided is None and signal != "inconclusive":
            self.decided = look
        return look
