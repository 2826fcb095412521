"""The canary / linear verdict: the standing decision of the replay, its reasons (a one-line
summary of where the rollout stands, then the reporting look's reasons) and one verdict row
per metric at that look."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.verdict import Verdict
from ..engine.rollout_reduce import to_iso

if TYPE_CHECKING:
    from ..spec import ExperimentSpec
    from .gate import SequentialGate
    from .looks import Look

__all__ = ["reporting_look", "rollout_verdict", "summary"]


def reporting_look(gate: SequentialGate) -> Look | None:
    """The look that decided, or the last look when none did."""
    return gate.decided or (gate.looks[-1] if gate.looks else None)


def summary(spec: ExperimentSpec, gate: SequentialGate, decision: str) -> str:
    """Where the rollout stands, in one line."""
    k = reporting_look(gate)
    assert k is not None
    ro = spec.rollout
    assert ro is not None
    where = (f"look {k.number} ({to_iso(k.end)}, step {k.step + 1} of "
             f"{len(ro.schedule.steps)}, {ro.candidate} share {k.share:.0%})")
    if decision == "no-go":
        return f"roll back: the rollout would have stopped at {where}"
    if decision == "go":
        return f"promote: every gating metric shown non-inferior at {where}"
    return f"keep going: no decision after {len(gate.looks)} looks; last {where}"


def rollout_verdict(spec: ExperimentSpec, gate: SequentialGate) -> Verdict:
    """The replay's verdict (see the module docstring)."""
    k = reporting_look(gate)
    if k is None:
        return Verdict("inconclusive", ("no look has data",))
    decision = gate.decided.decision if gate.decided else "inconclusive"
    ro = spec.rollout
    assert ro is not None
    rows = tuple(m.to_row(str(spec.control), ro.candidate, 1.0 - spec.alpha)
                 for m in k.metrics)
    return Verdict(decision, (summary(spec, gate, decision),) + tuple(k.reasons), rows)
