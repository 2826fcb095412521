"""``strategy = "canary" | "linear"``: replay a rollout from its logs, every look present in
the data, in order, through the anytime-valid :class:`~abkit.rollout.gate.SequentialGate`."""

from __future__ import annotations

from typing import Any

from ..core.columns import metric_columns, require_columns
from ..core.verdict import Verdict
from ..rollout.gate import SequentialGate
from ..engine.rollout_reduce import Reduction, RolloutPlan, build_rollout_plan
from ..spec import ExperimentSpec
from .base import Strategy

__all__ = ["RolloutStrategy", "replay_looks"]


def replay_looks(red: Reduction, spec: ExperimentSpec) -> SequentialGate:
    """Feed every look of ``red`` to a new gate, in window order."""
    ro = spec.rollout
    assert ro is not None and spec.control is not None
    gate = SequentialGate(spec, build_rollout_plan(spec), spec.control, ro.candidate,
                          float(red.origin or 0.0))
    gate.thresholds.update(red.thresholds)
    by_window: dict[int, dict] = {}
    for key, per in red.cells.items():
        by_window.setdefault(key[0], {})[key] = per
    for w in sorted(by_window):
        exceed = {k: v for k, v in red.exceed.items() if k[0] == w}
        gate.add_look(w, by_window[w], exceed, sketch=red.sketch.get(w))
    return gate


class RolloutStrategy(Strategy):
    names = ("canary", "linear")
    accepts = frozenset({"variant_column", "control", "on_rejected", "engine",
                         "deterministic", "memory_limit", "delimiter", "decimal"})
    check_hint = "the spec's column names, split and timestamp column"

    def plan(self, spec: ExperimentSpec, source: Any) -> RolloutPlan:
        wanted = [("variant column", "experiment.variant_column", spec.variant_column),
                  ("timestamp column", "experiment.timestamp_column",
                   spec.rollout.timestamp_column)]  # type: ignore[union-attr]
        wanted += metric_columns(spec.metrics, all_inputs=False)
        require_columns(source.label, source.columns(), wanted)
        from ..engine.timestamps import time_rules

        ts = spec.rollout.timestamp_column  # type: ignore[union-attr]
        return build_rollout_plan(spec, time_rules(source.sample()[ts]))

    def labels(self, spec: ExperimentSpec) -> dict[str, str]:
        return {"experiment.control": spec.control,  # type: ignore[dict-item]
                "experiment.candidate": spec.rollout.candidate}  # type: ignore[union-attr]

    def label_rows(self, reduced: Reduction) -> dict[str, int]:
        out: dict[str, int] = {}
        for per in reduced.cells.values():
            for v, vec in per.items():
                out[v] = out.get(v, 0) + int(vec[0])
        return out

    def test(self, spec: ExperimentSpec, source: Any, plan: RolloutPlan,
             reduced: Reduction) -> SequentialGate:
        return replay_looks(reduced, spec)

    def decide(self, spec: ExperimentSpec, results: SequentialGate) -> Verdict:
        from ..rollout.verdict import rollout_verdict

        return rollout_verdict(spec, results)

    def report(self, spec: ExperimentSpec, source: Any, reduced: Reduction,
               results: SequentialGate, verdict: Verdict, notes: list[str]):
        from ..report.rollout import RolloutReport

        return RolloutReport.build(spec, reduced, results, notes, source.description, verdict)
