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
    passed = sorted({x.step + 1 for x in gate.looks if x.signal == "step-passed"})
    steps = (f"; step{'s' if len(passed) > 1 else ''} {', '.join(map(str, passed))} passed"
             if passed else "")
    return (f"no decision yet after {len(gate.looks)} look{'s' if len(gate.looks) != 1 else ''}"
            f"{steps}; last {where}")


def rollout_verdict(spec: ExperimentSpec, gate: SequentialGate) -> Verdict:
    """The replay's verdict (see the module docstring): NO-GO if any look rolled back, GO if
    a look promoted, else INCONCLUSIVE with what would settle it."""
    from .settle import what_would_settle

    k = reporting_look(gate)
    if k is None:
        return Verdict("inconclusive", ("no look has data",))
    decision = "no-go" if gate.rolled_back else "go" if gate.promoted else "inconclusive"
    ro = spec.rollout
    assert ro is not None
    rows = tuple(m.to_row(str(spec.control), ro.candidate, 1.0 - spec.alpha)
                 for m in k.metrics)
    reasons = (summary(spec, gate, decision),) + tuple(k.reasons)
    if decision == "inconclusive":
        reasons += tuple("to promote: " + r for r in what_would_settle(gate, k))
    return Verdict(decision, reasons, rows)
