"""What the rollout gate reports at each look: :class:`MetricLook` (one metric) and
:class:`Look` (the gate's state and decision after one look)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..core.verdict import VerdictRow, interval
from ..stats.log_buckets import ALPHA
from ..stats.results import Diagnostic

__all__ = ["Look", "MetricLook"]


@dataclass(frozen=True)
class MetricLook:
    """One gating (or reported) metric at one look."""

    metric: str
    kind: str
    role: str
    good: str
    method: str
    n_control: int
    n_candidate: int
    control_value: float | None
    candidate_value: float | None
    estimate: float | None  # candidate - control (count: rate ratio - 1)
    ci: tuple[float, float] | None  # two-sided anytime-valid interval at level 1 - alpha
    harm_lower: float | None  # rollback bound (level alpha / m), harm = effect signed bad > 0
    harm_upper: float | None  # promotion bound (level alpha)
    margin_abs: float | None
    regressed: bool
    noninferior: bool
    pvalue: float | None  # anytime-valid p-value of "no harm" (running minimum)
    threshold: float | None = None  # quantile metrics: the frozen control quantile
    diagnostics: tuple[Diagnostic, ...] = ()
    margin_rel: float | None = None  # the margin as the spec wrote it (relative)
    #: quantile metrics: (control, candidate) quantile so far, in the metric's units (from
    #: log-bucket counts, to within ALPHA); control_value / candidate_value are then the
    #: shares of rows above the frozen threshold, which the test compares
    quantiles: tuple[float | None, float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "kind": self.kind, "role": self.role, "good": self.good,
            "method": self.method, "n_control": self.n_control,
            "n_candidate": self.n_candidate, "control_value": self.control_value,
            "candidate_value": self.candidate_value, "estimate": self.estimate,
            "ci": None if self.ci is None else {"low": self.ci[0], "high": self.ci[1]},
            "harm_lower": self.harm_lower, "harm_upper": self.harm_upper,
            "margin": self.margin_abs, "regressed": self.regressed,
            "noninferior": self.noninferior, "pvalue": self.pvalue,
            "threshold": self.threshold,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            **({} if self.quantiles is None else {"quantiles": {
                "control": self.quantiles[0], "candidate": self.quantiles[1],
                "relative_accuracy": ALPHA}}),
        }

    def to_row(self, control: str, candidate: str, level: float) -> VerdictRow:
        """This metric at this look as the report's verdict row (the effect relative to the
        control value; ``better`` only when the anytime-valid interval excludes zero on the
        good side)."""
        base, ci = self.control_value, self.ci
        rel = rel_ci = None
        effect, effect_ci = self.estimate, interval(ci)
        if self.kind == "count":
            # tested as a rate ratio: the relative column is ratio - 1 with its interval; the
            # effect column is the difference of the rates (candidate - control), no interval
            rel, rel_ci = self.estimate, interval(ci)
            effect = (None if self.candidate_value is None or base is None
                      else self.candidate_value - base)
            effect_ci = None
        elif self.kind == "quantile":
            # shown as the quantile itself (the values, and the relative column as their
            # ratio - 1, no interval); the effect column is the test's: the difference of
            # the shares of rows above the control's frozen baseline quantile
            pass
        elif base not in (None, 0.0) and self.estimate is not None:
            rel = self.estimate / abs(base)
            if ci is not None:
                rel_ci = {"low": ci[0] / abs(base), "high": ci[1] / abs(base)}
        # a verdict word only when the anytime-valid interval excludes 0 (the level the gate
        # decides at): better on the good side, worse on the other
        if self.regressed:
            verdict = "worse"
        elif ci is None or ci[0] <= 0.0 <= ci[1]:
            verdict = "neutral"
        else:
            up = ci[0] > 0.0
            verdict = "better" if up == (self.good == "increase") else "worse"
        if self.kind == "count":  # the margin is on the ratio, as the user wrote it
            margin = self.margin_abs or 0.0
            margin_abs = margin * abs(base) if base is not None else 0.0
        else:  # as the spec wrote it (relative to the baseline the gate used)
            margin = (self.margin_rel if self.margin_rel is not None else
                      0.0 if self.margin_abs is None or base in (None, 0) else
                      self.margin_abs / abs(base))
            margin_abs = self.margin_abs or 0.0
        guardrail = None if self.role == "secondary" else {
            "margin": margin, "margin_abs": margin_abs,
            "pvalue": self.pvalue, "regressed": self.regressed,
            "noninferior": self.noninferior, "harm_lower": self.harm_lower,
            "harm_upper": self.harm_upper,
        }
        values, extra = (self.control_value, self.candidate_value), {"threshold": self.threshold}
        if self.quantiles is not None:
            values = self.quantiles
            qc, qt = self.quantiles
            rel = qt / qc - 1.0 if qc and qt is not None else None
            extra["tested"] = {"what": "share of rows above the threshold",
                               "control": self.control_value,
                               "candidate": self.candidate_value}
            extra["relative_accuracy"] = ALPHA
        return VerdictRow(
            metric=self.metric, kind=self.kind, role=self.role, good=self.good,
            control=control, treatment=candidate, n_control=self.n_control,
            n_treatment=self.n_candidate, control_value=values[0],
            treatment_value=values[1], effect=effect, ci=effect_ci,
            pvalue=self.pvalue, rel_effect=rel, rel_ci=rel_ci, method=self.method,
            confidence_level=level, guardrail=guardrail, verdict=verdict,
            diagnostics=[d.to_dict() for d in self.diagnostics],
            extra=extra)


@dataclass(frozen=True)
class Look:
    """The gate's state after one look (cumulative data up to the look's window end)."""

    number: int  # 1-based, in order of looks with data
    window: int  # 0-based look window index (gaps = windows without data)
    end: float  # epoch seconds of the window's end
    elapsed: float  # seconds since the rollout start
    step: int  # 0-based schedule step in force at the window's end (last data)
    share: float  # the candidate's intended share then
    n: dict[str, int]
    signal: str  # this look's own verdict: go, no-go, step-passed or inconclusive
    decision: str  # the standing decision (no-go if any look rolled back, else go if any
    # look promoted, else inconclusive)
    reasons: tuple[str, ...]
    metrics: tuple[MetricLook, ...]
    srm_pvalue: float | None
    no_split_rows: int = 0  # rows in cells where the schedule sends all traffic one way
    covered: float = 0.0  # seconds covered by data in both variants so far


def _f(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None
