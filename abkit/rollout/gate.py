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

The per-metric running statistics are in :mod:`abkit.rollout.gate_metrics`, the
:class:`Look` / :class:`MetricLook` records in :mod:`abkit.rollout.looks` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.rollout_reduce import RolloutPlan
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
