"""Replay a canary / linear rollout from its logs: every look present in the data, in order."""

from __future__ import annotations

from typing import Any

from ..core.accounting import check_rows
from ..core.columns import require_columns
from ..spec import ExperimentSpec
from .gate import SequentialGate
from .reduce import Reduction, build_rollout_plan, reduce_frame

__all__ = ["replay", "run_gate"]


def check_rollout_columns(inp: Any, spec: ExperimentSpec) -> None:
    wanted = [("variant column", "experiment.variant_column", spec.variant_column),
              ("timestamp column", "experiment.timestamp_column",
               spec.rollout.timestamp_column)]  # type: ignore[union-attr]
    wanted += [(f"column of metric {m.name!r}", f"metric {m.name!r}", m.column)
               for m in spec.metrics]
    require_columns(inp.label, inp.columns(), wanted)


def run_gate(red: Reduction, spec: ExperimentSpec) -> SequentialGate:
    """Feed every look of ``red`` to a new gate, in window order."""
    ro = spec.rollout
    assert ro is not None and spec.control is not None
    gate = SequentialGate(spec, build_rollout_plan(spec), spec.control, ro.candidate,
                          float(red.origin or 0.0))
    gate.thresholds.update(red.thresholds)
    by_window: dict[int, dict] = {}
    for key, per in red.cells.items():
        by_window.setdefault(key[0], {})[key] = per
    windows = sorted(by_window)
    for w in windows:
        exceed = {k: v for k, v in red.exceed.items() if k[0] == w}
        gate.add_look(w, by_window[w], exceed)
    return gate


def replay(inp: Any, spec: ExperimentSpec, notes: list[str]):
    """Read, account, reduce and replay; returns a RolloutReport."""
    from ..report.rollout import RolloutReport

    check_rollout_columns(inp, spec)
    plan = build_rollout_plan(spec)
    control = spec.control
    assert control is not None
    if inp.frame is not None and inp.engine == "pandas":
        red = reduce_frame(inp.frame, plan, control)
    else:
        from ..engine.duckdb_rollout import reduce_rollout

        red = reduce_rollout(inp.logs, plan, control)
    check_rows(inp.label, red.rows_read, red.rows_used, red.rejected, spec.on_rejected,
               "the spec's column names, split and timestamp column")
    gate = run_gate(red, spec)
    return RolloutReport.build(
        spec, red, gate, notes,
        {"label": inp.label, "format": inp.format, "files": inp.files, "engine": inp.engine},
    )
