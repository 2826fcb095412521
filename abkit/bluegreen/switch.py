"""The switch: :class:`SwitchPoint`, its detection (:func:`detect_switch`) or a given time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats.results import Diagnostic
from ._common import SWITCH_SHARE, _f, _iso

@dataclass(frozen=True)
class SwitchPoint:
    """The switch time and how clean the switch is.

    Attributes
    ----------
    time : float or None
        Epoch seconds; ``None`` when there is no green row (and no ``switch_at`` given).
    method : str
        ``"given"`` (the caller's ``switch_at``) or ``"detected"`` (:func:`detect_switch`).
    green_share_before, green_share_after : float or None
        Green's share of the blue + green rows before / at-or-after the switch.
    misrouted : int
        Rows on the wrong side of the step: green rows before + blue rows after.
    """

    time: float | None
    method: str
    green_share_before: float | None
    green_share_after: float | None
    misrouted: int
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"time": _f(self.time), "time_iso": _iso(self.time), "method": self.method,
                "green_share_before": _f(self.green_share_before),
                "green_share_after": _f(self.green_share_after), "misrouted": self.misrouted,
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def detect_switch(times: Any, is_green: Any, *, min_share: float = SWITCH_SHARE
                  ) -> SwitchPoint:
    """The switch time: the step from blue to green that misroutes the fewest rows.

    Over the blue and green rows sorted by time, a candidate switch at time ``s`` (the time
    of a green row) calls every row before ``s`` blue and every row at or after ``s`` green;
    its cost is the number of rows on the wrong side (green rows before ``s`` plus blue rows
    at or after it). The switch is the earliest candidate of least cost. This is the maximum
    likelihood change point of a two-segment model in which each row carries the other
    label with a common probability below 1/2, so a smoke test at a small green share before
    the switch and a few blue requests draining after it do not move it.

    A clean switch has green carrying most traffic after it: when green's share of the rows
    at or after ``s`` is below ``min_share`` (default 0.9) the diagnostic
    ``NO_CLEAR_SWITCH`` says the traffic moved gradually (a linear rollout, not a blue/green
    switch) and the before/after windows are not well defined.

    Parameters
    ----------
    times : array of float
        Epoch seconds of the blue and green rows (any order).
    is_green : array of bool
        True for green rows, False for blue rows.
    min_share : float
        Share of green after the switch below which ``NO_CLEAR_SWITCH`` is raised.
    """
    t = np.asarray(times, dtype=float)
    g = np.asarray(is_green, dtype=bool)
    if t.ndim != 1 or g.shape != t.shape:
        raise ValueError("times and is_green must be 1-D arrays of the same length")
    if not 0.0 < float(min_share) <= 1.0:
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    keep = np.isfinite(t)
    t, g = t[keep], g[keep]
    times, first = np.unique(t, return_inverse=True)
    ng = np.bincount(first, weights=g.astype(float), minlength=times.size).astype(np.int64)
    nb = np.bincount(first, minlength=times.size).astype(np.int64) - ng
    sw, need = switch_from_counts(times, nb, ng, np.zeros(times.size, dtype=bool),
                                  min_share=min_share)
    assert sw is not None and need.size == 0
    return sw


def switch_from_counts(times: np.ndarray, n_blue: np.ndarray, n_green: np.ndarray,
                       coarse: np.ndarray, *, min_share: float = SWITCH_SHARE
                       ) -> tuple[SwitchPoint | None, np.ndarray]:
    """:func:`detect_switch` on time units: ``times`` sorted and distinct, the blue and
    green rows of each unit, ``coarse`` True for a unit that spans several times (a whole
    second of time cells).

    An exact unit's cost is exact (green rows before it plus blue rows at or after it); a
    coarse unit holding green only has bounds: every candidate inside it costs at least
    ``green before + blue after it`` and the best costs at most ``green before + blue from
    it``. Coarse units whose lower bound reaches the least upper bound could hold the best
    candidate (or tie with it): ``(None, their indices)``, to be refined. Otherwise the
    best candidate is an exact unit and the result is the one of :func:`detect_switch` on
    the rows: ``(SwitchPoint, [])``.
    """
    nb = np.asarray(n_blue, dtype=np.int64)
    ng = np.asarray(n_green, dtype=np.int64)
    if not ng.sum():
        return SwitchPoint(None, "detected", None, None, 0, (Diagnostic(
            "NO_GREEN_ROWS", "green has no rows, so there is no switch"),)), np.zeros(0, int)
    green_before = np.r_[0, np.cumsum(ng)[:-1]]
    blue_before = np.r_[0, np.cumsum(nb)[:-1]]
    blue_total = int(nb.sum())
    n = blue_total + int(ng.sum())
    cand = ng > 0
    upper = green_before + (blue_total - blue_before)  # exact for an exact unit
    least = int(upper[cand].min())
    lower = upper - nb
    need = np.flatnonzero(coarse & cand & (lower <= least))
    if need.size:
        return None, need
    cost = np.where(cand & ~coarse, upper, np.iinfo(np.int64).max)
    best = int(np.argmin(cost))  # argmin returns the earliest minimiser
    s = float(times[best])
    rows_before = int(green_before[best] + blue_before[best])
    n_after = n - rows_before
    share_after = (int(ng.sum()) - int(green_before[best])) / n_after
    share_before = float(green_before[best] / rows_before) if rows_before > 0 else None
    diags: list[Diagnostic] = []
    if share_after < min_share:
        diags.append(Diagnostic(
            "NO_CLEAR_SWITCH",
            f"after the best switch point ({_iso(s)}) green carries only {share_after:.1%} "
            f"of the traffic (< {min_share:.0%}): the traffic moved gradually, and the "
            "before/after windows are not a clean blue/green comparison"))
    return SwitchPoint(s, "detected", share_before, share_after,
                       int(cost[best]), tuple(diags)), np.zeros(0, int)


def _switch_given(t: np.ndarray, g: np.ndarray, s: float, w: np.ndarray | None = None
                  ) -> SwitchPoint:
    """The given switch ``s`` on rows (``t``, ``g``) or cells (first times ``t``, rows
    ``w``)."""
    w = np.ones(t.size, dtype=np.int64) if w is None else w
    before, after = t < s, t >= s
    nb, na = int(w[before].sum()), int(w[after].sum())
    gb, ga = int(w[before & g].sum()), int(w[after & g].sum())
    sb = float(gb / nb) if nb else None
    sa = float(ga / na) if na else None
    mis = gb + (na - ga)
    diags = []
    if sa is not None and sa < SWITCH_SHARE:
        diags.append(Diagnostic(
            "NO_CLEAR_SWITCH", f"after switch_at green carries only {sa:.1%} of the traffic "
                               f"(< {SWITCH_SHARE:.0%})"))
    return SwitchPoint(s, "given", sb, sa, mis, tuple(diags))
