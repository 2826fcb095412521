"""The line under a rollout's comparison table that says how a quantile guardrail is shown
and how it is tested (the table shows each variant's quantile in the metric's units and
their ratio; the test compares the shares of rows above the control's frozen baseline
quantile, which the effect column holds)."""

from __future__ import annotations

from typing import Any

from ..fmt import fmt_num

__all__ = ["quantile_notes"]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def quantile_notes(doc: dict[str, Any]) -> list[str]:
    """One line per quantile metric of the comparison table (none for other reports)."""
    units = {m["name"]: m.get("unit") for m in (doc.get("spec") or {}).get("metrics", ())
             if isinstance(m, dict)}
    q_of = {m["name"]: m.get("quantile") for m in (doc.get("spec") or {}).get("metrics", ())
            if isinstance(m, dict)}
    out = []
    for c in doc.get("comparisons") or ():
        tested = c.get("tested")
        if c.get("kind") != "quantile" or tested is None:
            continue
        q = q_of.get(c["metric"])
        name = f"p{q * 100:g}" if isinstance(q, (int, float)) else "the quantile"
        acc = c.get("relative_accuracy")
        line = (f"{c['metric']}: {name} of each variant (to within {acc:.1%}, from log-bucket "
                "counts) and their ratio - 1 (relative column)" if acc else
                f"{c['metric']}: {name} of each variant and their ratio - 1")
        unit = units.get(c["metric"])
        if c.get("threshold") is None:
            line += (f"; the test waits for {c['control']}'s baseline {name} (the effect "
                     "column is then the difference of the shares of rows above it)")
        else:
            line += (f"; tested as the share of rows above {c['control']}'s baseline {name} "
                     f"of {fmt_num(c['threshold'], unit=unit)}: {c['treatment']} "
                     f"{_pct(tested['candidate'])}, {c['control']} {_pct(tested['control'])} "
                     "(the effect column is their difference)")
        out.append(line)
    return out
