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
* ``step-passed`` when every gating metric is shown *non-inferior* (one-sided upper bound
  of the harm below ``margin x |baseline|``, level ``alpha`` each: an intersection-union
  test needs no adjustment), the candidate has ``min_samples`` rows and ``min_duration``
  (time covered by data in both variants) has passed, but the schedule has not yet reached
  its final shift to 100 % (the end of the last step that still has both variants; for a
  CANARY schedule the end of its wait). A passed step is reported, and does not promote;
* ``go`` (promote) for the same evidence at or after the final shift, or, with a fixed split
  (no schedule), as soon as it holds;
* ``inconclusive`` (keep going) otherwise.

The standing decision after a look is NO-GO if any look so far signalled ``no-go`` (a
rollback at any look is the decision, whether a step passed or a promotion came before it:
the rollback tests run over every look), else GO if any look signalled ``go``, else
INCONCLUSIVE. :attr:`SequentialGate.decided` is the look that decided: the first rollback,
or else the first promotion.

The per-metric running statistics are in :mod:`abkit.rollout.gate_metrics`, the
:class:`Look` / :class:`MetricLook` records in :mod:`abkit.rollout.looks` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.rollout_reduce import RolloutPlan
from ..stats.log_buckets import merge_counts
from ..spec import ExperimentSpec
from .gate_metrics import (  # noqa: F401  (re-exported)
    _PROMOTE,
    _ROLLBACK,
    _SRM,
    _CountMetric,
    _DiffMetric,
    _rho,
)
from .looks import Look, MetricLook, _f  # noqa: F401  (re-exported)

__all__ = ["MetricLook", "Look", "SequentialGate"]


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
        #: variant -> column -> {bucket key: rows}, cumulative (quantile metrics' values)
        self.sketch: dict[str, dict[str, dict[int, int]]] = {}
        self.no_split = 0
        self.covered_windows = 0  # look windows with rows of both variants (comparative)
        self.rolled_back: Look | None = None
        self.promoted: Look | None = None

    @property
    def decided(self) -> Look | None:
        """The look that decided: the first rollback, else the first promotion."""
        return self.rolled_back or self.promoted

    @property
    def final_shift(self) -> float | None:
        """Seconds after the start at which the schedule moves all traffic to the candidate
        (None for a fixed split: no schedule to complete)."""
        steps = self.plan.schedule.steps
        if len(steps) == 1 and steps[0][1] < 1.0:
            return None
        return next((s for s, share in steps if share >= 1.0), steps[-1][0])

    @property
    def covered(self) -> float:
        """Seconds covered by data in both variants (look windows with rows of each)."""
        return self.covered_windows * self.spec.rollout.look_every  # type: ignore[union-attr]

    def _share(self, step: int) -> float:
        return self.plan.schedule.steps[step][1]

    def _add_cells(self, cells: dict, exceed: dict, sketch: dict | None = None) -> int:
        self.cells_now, self.exceed_now = cells, exceed
        for v, per in (sketch or {}).items():
            for column, counts in per.items():
                merge_counts(self.sketch.setdefault(v, {}).setdefault(column, {}), counts)
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

    def add_late(self, cells: dict, exceed: dict, sketch: dict | None = None) -> None:
        """Rows of windows already looked at (out-of-order batches): they join the running
        statistics for later looks; past looks stand as they were."""
        self._add_cells(cells, exceed, sketch)

    def add_look(self, window: int, cells: dict, exceed: dict,
                 thresholds: dict[str, tuple[float, int]] | None = None,
                 sketch: dict | None = None) -> Look:
        """Fold in one look window's cells (and the log-bucket counts of its quantile
        columns, ``sketch[variant][column]``) and evaluate the cumulative data."""
        if thresholds:
            self.thresholds.update(thresholds)
        step = self._add_cells(cells, exceed, sketch)
        both = {v for key, per in cells.items() if 0.0 < self._share(key[1]) < 1.0
                for v, vec in per.items() if vec[0] > 0}
        if {self.control, self.candidate} <= both:
            self.covered_windows += 1
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
            if self.covered < ro.min_duration:  # type: ignore[union-attr]
                short.append(f"{self.covered:.0f} s covered by data in both variants of "
                             f"min_duration {ro.min_duration:.0f} s")  # type: ignore[union-attr]
            final = self.final_shift
            if not missing and not short:
                reasons = [f"{r.metric} non-inferior: harm upper bound {r.harm_upper:.4g} < "
                           f"margin {r.margin_abs:.4g}" for r in gating]
                if final is not None and elapsed < final - 1e-9:
                    signal = "step-passed"
                    reasons.insert(0, f"step {step + 1} passed; promotion waits for the "
                                      f"schedule's final shift, {final - elapsed:.0f} s on")
                else:
                    signal = "go"
            else:
                signal = "inconclusive"
                if missing:
                    reasons.append("not yet shown non-inferior: " + ", ".join(missing))
                reasons += short
        rolled_back = self.rolled_back is not None or signal == "no-go"
        promoted = self.promoted is not None or signal == "go"
        decision = "no-go" if rolled_back else "go" if promoted else "inconclusive"
        look = Look(len(self.looks) + 1, window, end, elapsed, step, share, dict(self.n),
                    signal, decision, tuple(reasons), tuple(results), srm_p, self.no_split,
                    self.covered)
        if signal == "no-go" and self.rolled_back is None:
            self.rolled_back = look
        if signal == "go" and self.promoted is None:
            self.promoted = look
        return look
