"""The running statistics of the rollout gate, one object per metric: the IPW confidence
sequence (or group sequential rollback test) of mean / proportion / quantile metrics, the
rate-ratio mixture of count metrics, and the sequential SRM check. Each reads the current
look's cells from its :class:`~abkit.rollout.gate.SequentialGate`."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from ..engine.rollout_reduce import CellKey
from ..spec import MetricSpec
from ..stats.log_buckets import quantile_from_counts
from ..stats.results import Diagnostic
from ..stats.sequential import SequentialDiffStats, rho_for
from .looks import MetricLook, _f

if TYPE_CHECKING:
    from .gate import SequentialGate

_ROLLBACK, _PROMOTE = "greater", "less"  # alternatives on the harm scale


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

    def _quantiles(self) -> tuple[float | None, float | None] | None:
        """A quantile metric's (control, candidate) quantile of the rows so far, in the
        metric's units, from the log-bucket counts (to within 0.5 %); None for others."""
        if self.m.kind != "quantile":
            return None
        g, col, q = self.g, self.m.column, float(self.m.quantile)  # type: ignore[arg-type]
        return (quantile_from_counts(g.sketch.get(g.control, {}).get(col, {}), q),  # type: ignore[arg-type]
                quantile_from_counts(g.sketch.get(g.candidate, {}).get(col, {}), q))  # type: ignore[arg-type]

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
                              threshold, tuple(diags) + tuple(undefined), margin_rel=m.margin,
                              quantiles=self._quantiles())
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
                          noninf, self.min_p, threshold, tuple(diags), margin_rel=m.margin,
                          quantiles=self._quantiles())

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
    """Sequential sample-ratio check against the schedule's share, one e-process per step.

    Each schedule step gets its own :class:`~abkit.stats.mixture.SequentialSRM` (started at
    1 when the step starts), and the evidence is their product: with the step boundaries
    fixed in advance by the schedule, the product is a test supermartingale under the null
    (only the running step's factor moves at a bucket), so ``1 / max product`` is an
    anytime-valid p-value. A share change is then judged on the new step's rows alone,
    not pooled with (and pinned by) the on-schedule rows of earlier steps."""

    def __init__(self, gate: SequentialGate) -> None:
        self.g = gate
        self.steps: dict[int, object] = {}
        self.log_e: dict[int, float | None] = {}  # None: infinite (UNEXPECTED_UNITS)
        self.dirty: set[int] = set()
        self.min_p = 1.0

    def add(self, key: CellKey, share: float) -> None:
        from ..stats.mixture import SequentialSRM

        g = self.g
        if not 0.0 < share < 1.0:
            return  # the schedule sends everything one way: no split to check
        per = g.cells_now.get(key, {})
        counts = {v: int(per[v][0]) if v in per else 0 for v in (g.control, g.candidate)}
        step = key[1]
        state = self.steps.get(step) or SequentialSRM((g.control, g.candidate))
        self.steps[step] = state.update(counts, {g.control: 1.0 - share, g.candidate: share})
        self.dirty.add(step)

    def pvalue(self) -> float | None:
        if not self.steps:
            return None
        for step in self.dirty:
            self.log_e[step] = self.steps[step].test(  # type: ignore[attr-defined]
                self.g.spec.srm_threshold).log_evalue
        self.dirty.clear()
        if any(v is None for v in self.log_e.values()):
            p = 0.0
        else:
            p = math.exp(min(-sum(self.log_e.values()), 0.0))  # type: ignore[arg-type]
        self.min_p = min(self.min_p, p)
        return self.min_p
