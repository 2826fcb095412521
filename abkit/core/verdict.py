"""The one verdict type of every strategy: a decision, its reasons, and one row per metric.

A :class:`VerdictRow` *is* the JSON comparison row of the ``report-v1`` schema
(``comparisons[]``): its keys are written once, here, in :data:`ROW_KEYS`, and every
strategy builds its rows from its own test results (A/B :class:`~abkit.gates.ab.
ComparisonRecord`, rollout :class:`~abkit.rollout.gate_metrics.MetricLook`, shadow
:class:`~abkit.shadow.verdict.MetricVerdict`, blue/green
:class:`~abkit.bluegreen.comparisons.MetricComparison`). A strategy may add keys of its own
(``extra``: a rollout's quantile ``threshold``, a shadow check's ``status`` and
``reason``); they come after ``guardrail``, before ``verdict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..fmt import fmt_interval, fmt_num, fmt_p

__all__ = ["DECISIONS", "ROW_KEYS", "Verdict", "VerdictRow", "interval", "promote_only_if_safe",
           "unproven_guardrails"]

#: the decisions a report can hold
DECISIONS = ("go", "no-go", "inconclusive")


def interval(ci: Any) -> dict[str, float] | None:
    """An interval as the JSON ``{"low", "high"}``: from a pair, a mapping or an object with
    ``to_dict()``; None stays None."""
    if ci is None:
        return None
    if isinstance(ci, dict):
        return {"low": ci["low"], "high": ci["high"]}
    if hasattr(ci, "to_dict"):
        return ci.to_dict()
    low, high = ci
    return {"low": low, "high": high}


@dataclass(frozen=True)
class VerdictRow:
    """One metric's comparison of the treatment (candidate, green) with the control (live,
    blue): the estimate, its interval and p-value, the guardrail test and the verdict
    (``better`` / ``worse`` / ``neutral``)."""

    metric: str
    kind: str
    role: str
    good: str | None
    control: str
    treatment: str
    n_control: int = 0
    n_treatment: int = 0
    control_value: float | None = None
    treatment_value: float | None = None
    effect: float | None = None
    se: float | None = None
    ci: dict[str, float] | None = None
    df: float | None = None
    pvalue: float | None = None
    pvalue_adjusted: float | None = None
    rel_effect: float | None = None
    rel_ci: dict[str, float] | None = None
    rel_pvalue: float | None = None
    method: str | None = None
    aggregate: str | None = None
    alternative: str = "two-sided"
    confidence_level: float | None = None
    cuped: dict[str, Any] | None = None
    guardrail: dict[str, Any] | None = None
    verdict: str = "neutral"
    diagnostics: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON comparison row (:data:`ROW_KEYS`, with ``extra`` before ``verdict``)."""
        out = {k: getattr(self, k) for k in ROW_KEYS[:-2]}
        out.update(self.extra)
        out["verdict"] = self.verdict
        out["diagnostics"] = list(self.diagnostics)
        return out


#: the keys of a JSON comparison row, in order
ROW_KEYS = tuple(f.name for f in fields(VerdictRow) if f.name != "extra")


@dataclass(frozen=True)
class Verdict:
    """What a strategy decided: ``decision`` (one of :data:`DECISIONS`), the ``reasons``
    a person reads, and the per-metric ``rows``."""

    decision: str
    reasons: tuple[str, ...]
    rows: tuple[VerdictRow, ...] = ()

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:  # pragma: no cover - a programming error
            raise ValueError(f"unknown decision {self.decision!r}")


def unproven_guardrails(rows: tuple[VerdictRow, ...] | list[VerdictRow]) -> list[str]:
    """The reasons a GO cannot stand: one per guardrail row that is not shown within its
    margin (``guardrail["noninferior"]`` is not ``True``) and not shown harmful either
    (``guardrail["regressed"]`` is not ``True``; a shown harm is a NO-GO, which the strategy
    decides)."""
    out: list[str] = []
    for r in rows:
        g = r.guardrail
        if r.role != "guardrail" or g is None or g.get("noninferior") is True \
                or g.get("regressed") is True:
            continue
        ci, margin = r.ci, g.get("margin_abs")
        where = f"interval {fmt_interval(ci['low'], ci['high'])}" if ci else "no interval"
        against = f"a margin of {fmt_num(margin)}" if margin is not None else "no margin"
        settle = ("more data would settle it" if margin else
                  "with a margin of 0 only a shown improvement is within it: set the "
                  "guardrail's margin to the harm you accept")
        out.append(f"guardrail {r.metric} is not shown within its margin: {where} against "
                   f"{against} (non-inferiority p = {fmt_p(g.get('noninferior_pvalue'))}); "
                   f"harm beyond the margin is not shown either; {settle}")
    return out


def promote_only_if_safe(verdict: Verdict) -> Verdict:
    """The one promotion rule of every strategy: GO only when every guardrail row is shown
    within its margin (non-inferior at alpha). A GO with a guardrail that is not becomes
    INCONCLUSIVE, and the reasons say which guardrail and what would settle it."""
    if verdict.decision != "go":
        return verdict
    blockers = unproven_guardrails(verdict.rows)
    if not blockers:
        return verdict

    return replace(verdict, decision="inconclusive", reasons=tuple(blockers))
