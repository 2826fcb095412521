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
    if not g.any():
        return SwitchPoint(None, "detected", None, None, 0, (Diagnostic(
            "NO_GREEN_ROWS", "green has no rows, so there is no switch"),))
    order = np.argsort(t, kind="stable")
    t, g = t[order], g[order]
    n = t.size
    # candidates: the first row of each distinct time that holds a green row
    first = np.r_[True, t[1:] != t[:-1]]
    idx = np.flatnonzero(first)
    grp = np.cumsum(first) - 1
    has_green = np.bincount(grp, weights=g.astype(float), minlength=idx.size) > 0
    cand = idx[has_green]
    green_before = np.r_[0, np.cumsum(g)][cand]
    blue_total = int(n - g.sum())
    blue_before = cand - green_before
    cost = green_before + (blue_total - blue_before)
    best = int(cand[int(np.argmin(cost))])  # argmin returns the earliest minimiser
    s = float(t[best])
    n_after = n - best
    green_after = int(g[best:].sum())
    share_after = green_after / n_after
    share_before = float(g[:best].mean()) if best > 0 else None
    diags: list[Diagnostic] = []
    if share_after < min_share:
        diags.append(Diagnostic(
            "NO_CLEAR_SWITCH",
            f"after the best switch point ({_iso(s)}) green carries only {share_after:.1%} "
            f"of the traffic (< {min_share:.0%}): the traffic moved gradually, and the "
            "before/after windows are not a clean blue/green comparison"))
    return SwitchPoint(s, "detected", share_before, share_after,
                       int(cost.min()), tuple(diags))


def _switch_given(t: np.ndarray, g: np.ndarray, s: float) -> SwitchPoint:
    before, after = t < s, t >= s
    nb, na = int(before.sum()), int(after.sum())
    sb = float(g[before].mean()) if nb else None
    sa = float(g[after].mean()) if na else None
    mis = int(g[before].sum() + (~g[after]).sum())
    diags = []
    if sa is not None and sa < SWITCH_SHARE:
        diags.append(Diagnostic(
            "NO_CLEAR_SWITCH", f"after switch_at green carries only {sa:.1%} of the traffic "
                               f"(< {SWITCH_SHARE:.0%})"))
    return SwitchPoint(s, "given", sb, sa, mis, tuple(diags))
