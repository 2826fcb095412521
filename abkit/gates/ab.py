"""The A/B decision: SRM, guardrails, primary metrics -> go / no-go / inconclusive.

Rules (documented in the README):

* ``no-go`` when the sample-ratio check fails, when a guardrail regresses (one-sided test at
  ``alpha`` that the treatment is worse by more than its margin, not adjusted for
  multiplicity so that guardrails stay sensitive), or when a primary metric is significantly
  worse (two-sided, adjusted p-value below ``alpha``).
* ``go`` when none of that holds, every guardrail could be evaluated, and every primary
  metric is significantly better in its good direction (adjusted p-value below ``alpha``)
  in every treatment.
* ``inconclusive`` otherwise (including a spec without primary metrics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.verdict import Verdict, VerdictRow, interval, unproven_guardrails
from ..engine.plan import Plan, Reduced
from ..fmt import fmt_estimate
from ..fmt import fmt_p as _p
from ..spec import ExperimentSpec, MetricSpec
from ..stats import (
    Comparison,
    Diagnostic,
    MomentStats,
    SRMResult,
    adjust_pvalues,
    compare,
    noninferiority_pvalue,
    srm_test,
)
from ..stats.srm import srm_unknown

__all__ = ["ComparisonRecord", "Outcome", "Tested", "decide_ab", "run_comparisons"]


@dataclass(frozen=True)
class ComparisonRecord:
    """One metric in one treatment versus the control, with its verdict."""

    metric: MetricSpec
    control: str
    treatment: str
    result: Comparison
    pvalue_adjusted: float | None
    verdict: str  # better | worse | neutral
    guardrail_margin_abs: float | None = None
    guardrail_pvalue: float | None = None
    regressed: bool | None = None
    aggregate: str | None = None
    noninferior_pvalue: float | None = None
    noninferior: bool | None = None

    def to_row(self) -> VerdictRow:
        """This comparison as the report's verdict row."""
        r = self.result
        ab, rel = r.absolute, r.relative
        return VerdictRow(
            metric=self.metric.name, kind=self.metric.kind, role=self.metric.role,
            good=self.metric.good, control=self.control, treatment=self.treatment,
            n_control=r.n_control, n_treatment=r.n_treatment,
            control_value=r.control_value, treatment_value=r.treatment_value,
            effect=ab.estimate, se=ab.se, ci=interval(ab.ci), df=ab.df, pvalue=ab.pvalue,
            pvalue_adjusted=self.pvalue_adjusted, rel_effect=rel.estimate,
            rel_ci=interval(rel.ci), rel_pvalue=rel.pvalue, method=r.method,
            aggregate=self.aggregate, alternative=r.alternative,
            confidence_level=r.confidence_level,
            cuped=({"covariate": self.metric.covariate, "theta": r.theta,
                    "variance_reduction": r.variance_reduction}
                   if self.metric.covariate else None),
            guardrail=({"margin": self.metric.margin, "margin_abs": self.guardrail_margin_abs,
                        "pvalue": self.guardrail_pvalue, "regressed": self.regressed,
                        "noninferior_pvalue": self.noninferior_pvalue,
                        "noninferior": self.noninferior}
                       if self.metric.role == "guardrail" else None),
            verdict=self.verdict, diagnostics=[x.to_dict() for x in r.diagnostics])

    def to_dict(self) -> dict[str, Any]:
        return self.to_row().to_dict()


@dataclass(frozen=True)
class Outcome(Verdict):
    """The A/B verdict: the shared :class:`~abkit.core.verdict.Verdict` (decision, reasons,
    one row per comparison) plus the SRM check, the comparison records and the decision per
    treatment."""

    srm: SRMResult | None = None
    comparisons: tuple[ComparisonRecord, ...] = ()
    treatments: dict[str, dict[str, Any]] = field(default_factory=dict)


def _effect_text(rec: ComparisonRecord) -> str:
    r = rec.result
    ab = r.absolute
    ci = (ab.ci.low, ab.ci.high) if ab.ci else None
    s = fmt_estimate(ab.estimate, ci)
    if r.relative.estimate is not None:
        s += f" ({fmt_estimate(r.relative.estimate, pct=True)})"
    return s


@dataclass(frozen=True)
class Tested:
    """Every comparison (metric x treatment) and the SRM check, before the decision."""

    variants: tuple[str, ...]
    srm: SRMResult
    records: tuple[ComparisonRecord, ...]


def run_comparisons(spec: ExperimentSpec, reduced: Reduced, plan: Plan,
                    variants: list[str]) -> Tested:
    """Run every comparison (metric x treatment), multiplicity-adjusted, and the SRM check;
    ``variants[0]`` is the control."""
    control, treatments = variants[0], variants[1:]
    inferred = spec.source == "inferred"  # no spec: directions and the split are unknown
    if spec.split is None and inferred:
        srm = srm_unknown({v: reduced.units.get(v, 0) for v in variants}, spec.srm_threshold)
    else:
        expected = dict(spec.split) if spec.split is not None else {v: 1.0 for v in variants}
        srm = srm_test(reduced.units, expected, spec.srm_threshold)

    raw: list[tuple[MetricSpec, str, Comparison, str | None]] = []
    for mp in plan.metrics:
        arms = reduced.moments[mp.spec.name]
        k = len(mp.variables)
        c_stats = arms.get(control, MomentStats.empty(k))
        for t in treatments:
            t_stats = arms.get(t, MomentStats.empty(k))
            res = compare(c_stats, t_stats, mp.metric, mp.covariate, test=mp.test,
                          confidence_level=spec.confidence_level)
            raw.append((mp.spec, t, res, mp.aggregate))

    adjusted = adjust_pvalues([r[2].absolute.pvalue for r in raw], spec.correction)
    records: list[ComparisonRecord] = []
    for (m, t, res, agg), padj in zip(raw, adjusted):
        eff = res.absolute.estimate
        verdict = "neutral"
        if padj is not None and padj < spec.alpha and eff is not None and eff != 0:
            up = eff > 0
            if inferred:  # a direction nobody gave: say which way, not whether it is good
                verdict = "higher" if up else "lower"
            else:
                verdict = "better" if up == (m.good == "increase") else "worse"
        margin_abs = p_ni = regressed = p_safe = safe = None
        if m.role == "guardrail":
            cv = res.control_value
            diags = res.diagnostics
            if m.margin and (cv is None or cv == 0):
                diags = diags + (Diagnostic(
                    "MARGIN_UNDEFINED",
                    "the margin is relative to the control value, which is 0 or undefined; "
                    "tested with margin 0",
                ),)
                res = _with_diagnostics(res, diags)
            margin_abs = m.margin * abs(cv) if cv else 0.0
            harmful = "decrease" if m.good == "increase" else "increase"
            p_ni = noninferiority_pvalue(res, margin_abs, harmful)
            regressed = None if p_ni is None else p_ni < spec.alpha
            # shown within the margin: the same test with the hypotheses swapped
            # (H0: harm >= margin_abs against H1: harm < margin_abs)
            p_safe = noninferiority_pvalue(res, -margin_abs,
                                           "decrease" if harmful == "increase" else "increase")
            safe = None if p_safe is None else p_safe < spec.alpha
        records.append(ComparisonRecord(m, control, t, res, padj, verdict, margin_abs, p_ni,
                                        regressed, agg, p_safe, safe))
    return Tested(tuple(variants), srm, tuple(records))


def decide_ab(spec: ExperimentSpec, tested: Tested) -> Outcome:
    """Turn the comparisons into the decision: per treatment, then overall."""
    treatments, srm, records = tested.variants[1:], tested.srm, tested.records
    per_treatment: dict[str, dict[str, Any]] = {}
    for t in treatments:
        recs = [r for r in records if r.treatment == t]
        d, reasons = _decide_one(spec, srm, recs, t)
        per_treatment[t] = {"decision": d, "reasons": reasons}

    decisions = [v["decision"] for v in per_treatment.values()]
    if "no-go" in decisions:
        decision = "no-go"
    elif decisions and all(d == "go" for d in decisions):
        decision = "go"
    else:
        decision = "inconclusive"
    reasons: list[str] = []
    if not srm.passed:
        reasons.append(_srm_reason(srm))
    for t in treatments:
        prefix = f"{t}: " if len(treatments) > 1 else ""
        for r in per_treatment[t]["reasons"]:
            if r.startswith("sample ratio mismatch"):
                continue
            reasons.append(prefix + r)
    return Outcome(decision, tuple(reasons), tuple(r.to_row() for r in records), srm,
                   tuple(records), per_treatment)


def _with_diagnostics(res: Comparison, diags: tuple[Diagnostic, ...]) -> Comparison:
    from dataclasses import replace

    return replace(res, diagnostics=diags)


def _srm_reason(srm: SRMResult) -> str:
    obs = ", ".join(f"{k} {v}" for k, v in srm.observed.items())
    exp = ", ".join(f"{k} {v:.0%}" for k, v in srm.expected.items())
    return (
        f"sample ratio mismatch: units {obs} against the designed split {exp} "
        f"(chi-square p = {_p(srm.pvalue)} < {srm.threshold:g}); the assignment is broken, "
        "so no metric can be trusted"
    )


def _decide_one(spec: ExperimentSpec, srm: SRMResult, recs: list[ComparisonRecord],
                t: str) -> tuple[str, list[str]]:
    nogo: list[str] = []
    blockers: list[str] = []
    wins: list[str] = []
    a = spec.alpha
    if not srm.passed:
        nogo.append(_srm_reason(srm))
    for r in recs:
        m = r.metric
        if m.role == "guardrail":
            margin = f"{m.margin:.1%} margin" if m.margin else "zero margin"
            if r.regressed:
                nogo.append(
                    f"guardrail {m.name} regressed: {_effect_text(r)} vs control, worse than "
                    f"its {margin} (harm p = {_p(r.guardrail_pvalue)} < {a:g}, one-sided)"
                )
            elif r.regressed is None:
                blockers.append(f"guardrail {m.name} could not be evaluated "
                                f"({_codes(r)})")
            else:
                blockers += unproven_guardrails([r.to_row()])
        elif m.role == "primary":
            if r.verdict == "worse":
                nogo.append(
                    f"primary metric {m.name} is significantly worse: {_effect_text(r)} "
                    f"(adjusted p = {_p(r.pvalue_adjusted)})"
                )
            elif r.verdict == "better":
                wins.append(
                    f"primary metric {m.name} is significantly better: {_effect_text(r)} "
                    f"(adjusted p = {_p(r.pvalue_adjusted)})"
                )
            elif r.pvalue_adjusted is None:
                blockers.append(f"primary metric {m.name} could not be tested ({_codes(r)})")
            else:
                blockers.append(
                    f"primary metric {m.name} shows no significant difference: {_effect_text(r)} "
                    f"(adjusted p = {_p(r.pvalue_adjusted)} >= {a:g})"
                )
    if nogo:
        return "no-go", nogo
    if not any(r.metric.role == "primary" for r in recs):
        blockers.append("the spec has no primary metric, so nothing can justify a go")
    if blockers:
        return "inconclusive", blockers
    ok_guards = [r.metric.name for r in recs if r.metric.role == "guardrail"]
    reasons = wins[:]
    if ok_guards:
        reasons.append(f"every guardrail shown within its margin ({', '.join(ok_guards)})")
    reasons.append(f"sample ratio check passed (p = {_p(srm.pvalue)})")
    return "go", reasons


def _codes(r: ComparisonRecord) -> str:
    return ", ".join(d.code for d in r.result.diagnostics) or "no variance estimate"
