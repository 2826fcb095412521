"""Green-versus-blue comparisons of one metric (Welch's t-test, guardrail tests) and their
result types :class:`MetricComparison` and :class:`ComparisonBlock`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..spec import MetricSpec
from ..stats.compare import Comparison, compare
from ..stats.moments import MomentStats
from ..stats.results import Diagnostic, HasDiagnostics
from ._common import _MEAN, TimeWindow, _f, _one_sided_p

@dataclass(frozen=True)
class MetricComparison(HasDiagnostics):
    """Green versus blue (or, in a placebo, blue versus itself) for one metric.

    ``result`` is the underlying :class:`~abkit.stats.compare.Comparison` (control = blue or
    the reference, treatment = green). For guardrails, with ``harm`` the effect signed so that
    positive is bad: ``regressed`` when the one-sided test of ``harm <= margin_abs`` rejects
    at ``alpha`` (``regressed_pvalue < alpha``, as :func:`abkit.stats.compare.
    noninferiority_pvalue`); ``noninferior`` when the one-sided test of ``harm >= margin_abs``
    rejects (``noninferior_pvalue < alpha``). ``margin_abs = margin x |blue value|``.
    ``verdict`` is ``better`` / ``worse`` (two-sided p < alpha, in the metric's good
    direction) or ``neutral``.
    """

    metric: str
    kind: str
    role: str
    good: str
    result: Comparison
    verdict: str
    margin: float
    margin_abs: float | None
    regressed_pvalue: float | None
    regressed: bool | None
    noninferior_pvalue: float | None
    noninferior: bool | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def estimate(self) -> float | None:
        return self.result.absolute.estimate

    @property
    def harm_sign(self) -> float:
        return 1.0 if self.good == "decrease" else -1.0

    def text(self) -> str:
        from ..fmt import fmt_estimate

        ab, rel = self.result.absolute, self.result.relative
        s = fmt_estimate(ab.estimate, (ab.ci.low, ab.ci.high) if ab.ci is not None else None)
        if rel.estimate is not None:
            s += f" ({fmt_estimate(rel.estimate, pct=True)})"
        return s

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        ab, rel = r.absolute, r.relative
        return {
            "metric": self.metric, "kind": self.kind, "role": self.role, "good": self.good,
            "n_blue": r.n_control, "n_green": r.n_treatment,
            "blue_value": r.control_value, "green_value": r.treatment_value,
            "effect": ab.estimate, "se": ab.se, "df": ab.df,
            "ci": ab.ci.to_dict() if ab.ci else None, "pvalue": ab.pvalue,
            "rel_effect": rel.estimate, "rel_ci": rel.ci.to_dict() if rel.ci else None,
            "rel_pvalue": rel.pvalue, "method": r.method, "alternative": r.alternative,
            "confidence_level": r.confidence_level, "verdict": self.verdict,
            "guardrail": ({"margin": self.margin, "margin_abs": self.margin_abs,
                           "pvalue": self.regressed_pvalue, "regressed": self.regressed,
                           "noninferior_pvalue": self.noninferior_pvalue,
                           "noninferior": self.noninferior}
                          if self.role == "guardrail" else None),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class ComparisonBlock(HasDiagnostics):
    """One family of comparisons (smoke test, matched hours, a placebo) over all metrics.

    ``available`` is False when the data do not allow it (the reason is in
    ``diagnostics``); ``comparisons`` is then empty.
    """

    kind: str
    available: bool
    description: str
    windows: tuple[TimeWindow, ...] = ()
    comparisons: tuple[MetricComparison, ...] = ()
    match: str | None = None
    matched_share: float | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    def get(self, metric: str) -> MetricComparison | None:
        for c in self.comparisons:
            if c.metric == metric:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "available": self.available,
                "description": self.description,
                "windows": [w.to_dict() for w in self.windows],
                "comparisons": [c.to_dict() for c in self.comparisons],
                "match": self.match, "matched_share": _f(self.matched_share),
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def _values(v: np.ndarray) -> tuple[np.ndarray, int]:
    ok = np.isfinite(v)
    return v[ok], int(v.size - ok.sum())


def _assess(m: MetricSpec, res: Comparison, alpha: float,
            extra: Sequence[Diagnostic] = ()) -> MetricComparison:
    """Verdict and guardrail tests of one comparison (the A/B gate's conventions)."""
    ab = res.absolute
    diags = list(res.diagnostics) + list(extra)
    verdict = "neutral"
    if ab.pvalue is not None and ab.pvalue < alpha and ab.estimate:
        verdict = "better" if (ab.estimate > 0) == (m.good == "increase") else "worse"
    margin_abs = p_reg = reg = p_ni = ni = None
    if m.role == "guardrail":
        cv = res.control_value if m.baseline is None else float(m.baseline)
        if m.margin and not cv:
            diags.append(Diagnostic(
                "MARGIN_UNDEFINED", "the margin is relative to blue's value, which is 0 or "
                                    "undefined; tested with margin 0"))
        margin_abs = m.margin * abs(cv) if cv else 0.0
        if ab.estimate is not None:
            harm = ab.estimate if m.good == "decrease" else -ab.estimate
            p_reg = _one_sided_p(harm - margin_abs, ab.se, ab.df)
            p_ni = _one_sided_p(margin_abs - harm, ab.se, ab.df)
            reg = None if p_reg is None else p_reg < alpha
            ni = None if p_ni is None else p_ni < alpha
    return MetricComparison(m.name, m.kind, m.role, m.good, res, verdict, float(m.margin),
                            margin_abs, p_reg, reg, p_ni, ni, tuple(diags))


def _welch(m: MetricSpec, blue: np.ndarray, green: np.ndarray, alpha: float
           ) -> MetricComparison:
    b, nb = _values(blue)
    g, ng = _values(green)
    return _welch_stats(m, MomentStats.from_array(b), nb, MomentStats.from_array(g), ng, alpha)


def _welch_stats(m: MetricSpec, blue: MomentStats, blue_bad: int, green: MomentStats,
                 green_bad: int, alpha: float) -> MetricComparison:
    """Welch's test on the moments of blue's and green's finite values (``*_bad`` rows
    had none)."""
    extra = []
    if blue_bad or green_bad:
        extra.append(Diagnostic("NON_FINITE_VALUES", f"{blue_bad + green_bad} rows with a "
                                f"missing or non-finite {m.column} were left out (blue "
                                f"{blue_bad}, green {green_bad})"))
    res = compare(blue, green, _MEAN, test="welch", confidence_level=1.0 - alpha)
    return _assess(m, res, alpha, extra)
