"""What would settle an undecided canary / linear rollout: for each promotion criterion not
met at the last look, how much more data it needs at the rates observed so far.

* the schedule's final shift: the time left until it;
* ``min_samples``: the candidate rows missing, and the time they take at the candidate's
  observed row rate;
* ``min_duration``: the time covered by data in both variants still missing;
* a gating metric not yet shown non-inferior: the candidate rows at which its promotion
  bound would fall below the margin if the estimate stayed where it is and the bound's
  half-width shrank as ``1 / sqrt(n)``. A confidence sequence shrinks a little slower (its
  radius has a ``log n`` term), so this is a lower bound, and said so. A metric whose
  estimate itself is past the margin cannot be settled by more data at the observed effect.

Times are at the observed rate of rows per second covered, so a rollout that ran with gaps
is not credited with the gaps.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .gate import SequentialGate
    from .looks import Look, MetricLook

__all__ = ["what_would_settle"]


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _rate(n: int, covered: float) -> float | None:
    return n / covered if covered > 0 and n > 0 else None


def _harm_scale(m: MetricLook) -> tuple[float, float, float] | None:
    """(harm estimate, harm upper bound, margin) of ``m`` on one scale, or None."""
    if m.estimate is None or m.harm_upper is None or m.margin_abs is None:
        return None
    if m.kind == "count":  # the ratio scale, as the gate tests it
        if m.good == "decrease":
            return m.estimate, m.harm_upper, m.margin_abs
        return 1.0 - 1.0 / (1.0 + m.estimate), m.harm_upper, 1.0 - 1.0 / (1.0 + m.margin_abs)
    sign = 1.0 if m.good == "decrease" else -1.0
    return sign * m.estimate, m.harm_upper, m.margin_abs


def _metric_need(m: MetricLook, rate: float | None) -> str:
    scale = _harm_scale(m)
    if scale is None:
        return f"{m.metric}: not yet shown non-inferior (no bound yet: more data)"
    harm, upper, margin = scale
    if harm >= margin:
        return (f"{m.metric}: not shown non-inferior, and its estimate is past the margin "
                f"(harm {harm:+.4g} against {margin:.4g}); more data settle it only if the "
                "effect is smaller than observed")
    if m.n_candidate == 0:
        return f"{m.metric}: not yet shown non-inferior (no candidate rows yet)"
    factor = ((upper - harm) / (margin - harm)) ** 2
    more = max(1, math.ceil(m.n_candidate * (factor - 1.0)))
    when = f" (at least {_duration(more / rate)} at the observed rate)" if rate else ""
    return (f"{m.metric}: not yet shown non-inferior (harm upper bound {upper:.4g} against a "
            f"margin of {margin:.4g}); at the observed effect that needs at least "
            f"{more:,} more candidate rows{when}")


def what_would_settle(gate: SequentialGate, look: Look) -> list[str]:
    """One line per unmet promotion criterion at ``look`` (see the module docstring)."""
    ro = gate.spec.rollout
    assert ro is not None
    cand = gate.candidate
    n_cand = look.n.get(cand, 0)
    rate = _rate(n_cand, look.covered)
    out: list[str] = []
    final = gate.final_shift
    if final is not None and look.elapsed < final:
        out.append(f"the schedule reaches its final shift to 100 % after "
                   f"{_duration(final)}: {_duration(final - look.elapsed)} more of the rollout")
    if n_cand < ro.min_samples:
        short = ro.min_samples - n_cand
        when = f", about {_duration(short / rate)} at the observed rate" if rate else ""
        out.append(f"min_samples: {short:,} more {cand} rows ({n_cand:,} of "
                   f"{ro.min_samples:,}{when})")
    if look.covered < ro.min_duration:
        out.append(f"min_duration: {_duration(ro.min_duration - look.covered)} more covered by "
                   "data in both variants")
    for m in look.metrics:
        if m.role != "secondary" and not m.noninferior:
            out.append(_metric_need(m, rate))
    return out
