"""The decision (go / no-go / inconclusive), the rollback recommendation and the assembled
:class:`BlueGreenResult`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..stats.results import Diagnostic, HasDiagnostics
from ._common import TIME_CONFOUNDING_WARNING, TimeWindow, _clean, _f, _hm, _iso, _p
from .comparisons import ComparisonBlock, MetricComparison
from .early import EarlyCheck
from .switch import SwitchPoint
from .time_confounding import PlaceboCheck, TimeConfounding

@dataclass(frozen=True)
class Rollback:
    """The rollback recommendation: ``recommended`` iff the decision is ``no-go``.

    ``at`` is the first early look that showed a regression (roll back from then on), or
    ``None`` when the regression shows only in the whole-window comparison (roll back now).
    """

    recommended: bool
    reason: str
    at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"recommended": self.recommended, "reason": self.reason, "at": _f(self.at),
                "at_iso": _iso(self.at)}


@dataclass(frozen=True)
class BlueGreenResult(HasDiagnostics):
    """Everything :func:`analyze_bluegreen` found; ``to_dict()`` is JSON-safe (no NaN)."""

    blue: str
    green: str
    alpha: float
    switch: SwitchPoint
    window: float | None
    exclude: float
    windows: Mapping[str, TimeWindow]
    comparisons: tuple[MetricComparison, ...]
    smoke_test: ComparisonBlock | None
    smoke_usable: bool
    time_confounding: TimeConfounding
    early: EarlyCheck
    decision: str
    reasons: tuple[str, ...]
    rollback: Rollback
    diagnostics: tuple[Diagnostic, ...] = ()
    #: per time bin and variant, rows and metric means around the switch (for plots)
    series: Mapping[str, Any] | None = None

    def comparison(self, metric: str) -> MetricComparison | None:
        for c in self.comparisons:
            if c.metric == metric:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return _clean({
            "strategy": "bluegreen", "blue": self.blue, "green": self.green,
            "alpha": self.alpha, "switch": self.switch.to_dict(), "window": self.window,
            "exclude": self.exclude,
            "windows": {k: w.to_dict() for k, w in self.windows.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
            "smoke_test": None if self.smoke_test is None else {
                **self.smoke_test.to_dict(), "usable": self.smoke_usable},
            "time_confounding": self.time_confounding.to_dict(),
            "early": self.early.to_dict(),
            "basis": self.time_confounding.basis,
            "decision": self.decision, "reasons": list(self.reasons),
            "rollback": self.rollback.to_dict(),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "series": None if self.series is None else dict(self.series),
        })


def _empty_result(blue, green, alpha, sw, exclude, metrics, diags, look_every, tightest_at,
                  min_rows, reason, empty_block) -> BlueGreenResult:
    ph = ComparisonBlock("placebo", False, "not computed")
    tc = TimeConfounding(TIME_CONFOUNDING_WARNING, empty_block, {m.name: None for m in metrics},
                         PlaceboCheck(ph, (), {}), PlaceboCheck(ph, (), {}), "before-after")
    early = EarlyCheck(alpha, tightest_at, look_every, min_rows, "not computed", {}, (), None,
                       (Diagnostic("NO_LOOKS", reason),))
    return BlueGreenResult(blue, green, alpha, sw, None, exclude, {}, (), None, False, tc, early,
                           "inconclusive", (reason,),
                           Rollback(False, "inconclusive: " + reason), tuple(diags))


def _decide(metrics, plain, basis_comps, basis, tc: TimeConfounding, smoke, early: EarlyCheck,
            n_blue, n_green, min_rows, alpha, diags) -> tuple[str, list[str], Rollback]:
    nogo: list[str] = []
    blockers: list[str] = []
    notes: list[str] = []
    label = ("matched-hours comparison" if basis == "matched-hours"
             else "before/after comparison")
    by_name = {c.metric: c for c in basis_comps}
    codes = {d.code for d in diags}
    if "NO_BLUE_BEFORE_SWITCH" in codes:
        blockers.append("blue has no rows before the switch: nothing to compare green with")
    if "NO_GREEN_AFTER_SWITCH" in codes or "ALL_GREEN_IN_WARMUP" in codes:
        blockers.append("green has no rows after the switch (outside the warm-up)")
    if not blockers and (n_blue < min_rows or n_green < min_rows):
        blockers.append(f"too little data: {n_blue} blue rows before and {n_green} green rows "
                        f"after the switch (need {min_rows} each)")
    for m in metrics:
        if m.role not in ("guardrail", "primary"):
            continue
        c = by_name.get(m.name)
        if c is None:
            blockers.append(f"{m.name} could not be compared")
            continue
        if m.role == "guardrail":
            marg = f"{m.margin:.1%} margin" if m.margin else "zero margin"
            if c.regressed:
                nogo.append(f"guardrail {m.name} regressed in the {label}: {c.text()} green vs "
                            f"blue, worse than its {marg} (harm p = "
                            f"{_p(c.regressed_pvalue)} < {alpha:g}, one-sided)")
            elif c.regressed is None:
                blockers.append(f"guardrail {m.name} could not be evaluated "
                                f"({', '.join(d.code for d in c.diagnostics) or 'no variance'})")
            elif not c.noninferior:
                blockers.append(f"guardrail {m.name} is not shown non-inferior within its "
                                f"{marg}: {c.text()} (non-inferiority p = "
                                f"{_p(c.noninferior_pvalue)} >= {alpha:g})")
        else:
            if c.verdict == "worse":
                nogo.append(f"primary metric {m.name} is significantly worse in the {label}: "
                            f"{c.text()} (two-sided p = {_p(c.result.absolute.pvalue)})")
            elif c.result.absolute.pvalue is None:
                blockers.append(f"primary metric {m.name} could not be tested "
                                f"({', '.join(d.code for d in c.diagnostics) or 'no variance'})")
    if basis == "matched-hours":
        for c in plain:
            mc = by_name.get(c.metric)
            if c.role == "guardrail" and c.regressed and mc is not None and not mc.regressed:
                notes.append(f"{c.metric}: the plain before/after comparison shows a regression "
                             f"({c.text()}) that the matched-hours comparison does not "
                             f"({mc.text()}): attributed to the time of day")
    fr = early.first_regression
    if fr is not None:
        names = ", ".join(fr.regressed)
        nogo.append(f"early check: {names} regressed at look {fr.number}, {_hm(fr.time)} "
                    f"({fr.elapsed / 60:.1f} min after the switch, {fr.n_green} green rows): "
                    f"roll back from {_hm(fr.time)}")
    if smoke is not None:
        for c in smoke.comparisons:
            if c.role == "guardrail" and c.regressed:
                nogo.append(f"smoke test: guardrail {c.metric} regressed while both ran: "
                            f"{c.text()} (harm p = {_p(c.regressed_pvalue)}, one-sided)")
            elif c.role == "primary" and c.verdict == "worse":
                notes.append(f"smoke test: primary metric {c.metric} is significantly worse "
                             f"while both ran: {c.text()} (noted; the smoke test is small, "
                             "only a guardrail regression there rolls back)")
    placebo = tc.placebo_matched if basis == "matched-hours" else tc.placebo_adjacent
    if placebo.flagged:
        txt = ", ".join(f"{k} ({placebo.directions[k]})" for k in placebo.flagged)
        msg = (f"placebo check: blue moved against itself ({txt}) in the "
               f"{placebo.block.kind} check, so the {label} is not trustworthy")
        if nogo:
            notes.append(msg + "; the regression may be time confounding, but rollback is "
                               "cheap")
        else:
            blockers.append(msg)
    if not any(m.role == "guardrail" for m in metrics):
        blockers.append("there is no guardrail metric, so nothing shows green is non-inferior")
    if nogo:
        reasons = nogo + notes
        rb = Rollback(True, nogo[0], fr.time if fr is not None else None)
        return "no-go", reasons, rb
    if blockers:
        return "inconclusive", blockers + notes, Rollback(
            False, "inconclusive: no regression shown, but green is not shown to be as good "
                   "either; keep watching")
    guards = [m.name for m in metrics if m.role == "guardrail"]
    reasons = [f"every guardrail is non-inferior in the {label} ({', '.join(guards)})"]
    prim = [m.name for m in metrics if m.role == "primary"]
    if prim:
        reasons.append(f"no primary metric is significantly worse ({', '.join(prim)})")
    if early.looks:
        reasons.append(f"no guardrail regressed at any of the {len(early.looks)} early looks")
    if smoke is not None:
        reasons.append("the smoke test shows no regression")
    reasons += notes
    return "go", reasons, Rollback(False, "go: green is at least as good as blue was")
