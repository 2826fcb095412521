"""The shared types of the shadow evaluation: the loaders' :class:`ShadowInputs`, the
per-metric :class:`Verdict`, and the number formatting of verdict reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..core.verdict import VerdictRow, interval


@dataclass
class ShadowInputs:
    """What the loaders hand to :func:`evaluate_shadow`."""

    pairs: pd.DataFrame  # output_live, output_shadow, label, time, features ...
    unmatched: dict[str, int]
    pairs_info: dict[str, Any]
    latency: dict[str, Any] | None = None  # {"paired": bool, "live": arr, "candidate": arr}
    # or {"cloudwatch": {"live": [PeriodSummary], "candidate": [...]}, "unit": "ms"}
    errors: dict[str, Any] | None = None  # {"live": (errors, requests), "candidate": (...)}
    endpoint_config: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    metric: str
    kind: str
    role: str
    status: str  # pass | fail | inconclusive
    live: float | None
    candidate: float | None
    diff: float | None
    ci: tuple[float, float] | None
    pvalue: float | None
    margin: float
    method: str
    reason: str
    diagnostics: tuple[dict, ...] = ()

    def to_row(self, spec: Any, pairs: int) -> VerdictRow:
        """This check as the report's verdict row (``pairs`` matched pairs on both sides).

        A guardrail is ``noninferior`` when it passed: its interval lies within the margin.
        """
        sh = spec.shadow
        verdict = {"pass": "neutral", "fail": "worse", "inconclusive": "neutral"}[self.status]
        if self.status == "pass" and self.diff is not None and self.ci is not None:
            up_is_good = self.kind == "quality" and self.metric in ("auc", "accuracy")
            verdict = "better" if (self.ci[0] > 0 if up_is_good else self.ci[1] < 0) \
                else "neutral"
        rel = None
        if self.kind == "quality" and self.live not in (None, 0.0) and self.diff is not None:
            rel = self.diff / abs(self.live)
        elif self.kind == "latency":
            rel = self.diff
        return VerdictRow(
            metric=self.metric, kind=self.kind, role=self.role,
            good=next(m.good for m in spec.metrics if m.name == self.metric),
            control=sh.live, treatment=sh.candidate, n_control=pairs, n_treatment=pairs,
            control_value=self.live, treatment_value=self.candidate, effect=self.diff,
            ci=interval(self.ci), pvalue=self.pvalue, rel_effect=rel,
            rel_ci=interval(self.ci) if self.kind == "latency" else None, method=self.method,
            confidence_level=1.0 - spec.alpha,
            guardrail=None if self.role != "guardrail" else {
                "margin": self.margin, "margin_abs": self.margin, "pvalue": self.pvalue,
                "regressed": self.status == "fail", "noninferior": self.status == "pass",
                "status": self.status},
            verdict=verdict,
            diagnostics=[d for d in self.diagnostics if isinstance(d, dict)],
            extra={"status": self.status, "reason": self.reason})


def _f(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4g}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "[n/a]" if ci is None else f"[{ci[0]:+.4g}, {ci[1]:+.4g}]"
