"""The canary / linear report: the foundation JSON fields plus ``rollout``, ``timeline``,
``decided_at`` and ``decided_at_look``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..core.accounting import describe
from ..core.verdict import Verdict, promote_only_if_safe
from ..rollout.gate import Look, SequentialGate
from ..rollout.verdict import rollout_verdict, summary
from ..engine.rollout_reduce import Reduction, to_iso
from ..spec import ExperimentSpec
from .model import SCHEMA_VERSION, ReportExports, _version

__all__ = ["RolloutReport"]


def _look_dict(k: Look) -> dict[str, Any]:
    return {
        "look": k.number, "window": k.window + 1, "at": to_iso(k.end),
        "elapsed_s": k.elapsed, "step": k.step + 1, "share": k.share, "n": dict(k.n),
        "decision": k.decision, "signal": k.signal, "reasons": list(k.reasons),
        "srm_pvalue": k.srm_pvalue,
        "metrics": {m.metric: {
            "estimate": m.estimate,
            "ci": None if m.ci is None else {"low": m.ci[0], "high": m.ci[1]},
            "harm_lower": m.harm_lower, "harm_upper": m.harm_upper, "margin": m.margin_abs,
            "regressed": m.regressed, "noninferior": m.noninferior, "pvalue": m.pvalue,
            "control_value": m.control_value, "candidate_value": m.candidate_value,
            "n_control": m.n_control, "n_candidate": m.n_candidate,
            **({} if m.quantiles is None else {"quantiles": {  # in the metric's units
                "control": m.quantiles[0], "candidate": m.quantiles[1]}}),
        } for m in k.metrics},
    }


@dataclass(frozen=True)
class RolloutReport(ReportExports):
    """What a canary / linear gate decided, look by look."""

    spec: ExperimentSpec
    reduction: Reduction
    looks: tuple[Look, ...]
    decided: Look | None
    inferred: list[str]
    source: dict[str, Any]
    thresholds: dict[str, tuple[float, int]]
    warnings: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    @classmethod
    def build(cls, spec: ExperimentSpec, red: Reduction, gate: SequentialGate,
              notes: list[str], source: dict[str, Any],
              verdict: Verdict | None = None) -> RolloutReport:
        warnings = []
        rej = sum(red.rejected.values())
        if red.rows_read and rej / red.rows_read > 0.05:
            warnings.append(f"{rej / red.rows_read:.1%} of rows were rejected; check the "
                            "reasons before trusting the result")
        last = gate.looks[-1] if gate.looks else None
        if last is not None and last.no_split_rows:
            warnings.append(
                f"{last.no_split_rows:,} rows fall where the schedule sends all traffic to one "
                "variant (after the last comparative step); they count for the split check "
                "but hold no comparison")
        for m in spec.metrics:
            if m.kind == "quantile" and m.name not in red.thresholds:
                warnings.append(f"{m.name}: the control's baseline for the p"
                                f"{m.quantile * 100:g} threshold is not complete yet; the tail "
                                "test has not started")
        return cls(spec, red, tuple(gate.looks), gate.decided, notes, source,
                   dict(red.thresholds), warnings,
                   verdict or promote_only_if_safe(rollout_verdict(spec, gate)))

    # ------------------------------------------------------------------ accessors
    @property
    def control(self) -> str:
        return str(self.spec.control)

    @property
    def candidate(self) -> str:
        return self.spec.rollout.candidate  # type: ignore[union-attr]

    @property
    def reporting_look(self) -> Look | None:
        return self.decided or (self.looks[-1] if self.looks else None)

    @property
    def decision(self) -> str:
        return self.verdict.decision  # type: ignore[union-attr]

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.verdict.reasons  # type: ignore[union-attr]

    @property
    def decided_at(self) -> str | None:
        return to_iso(self.decided.end) if self.decided else None

    @property
    def decided_at_look(self) -> int | None:
        return self.decided.number if self.decided else None

    def summary(self) -> str:
        return summary(self.spec, self, self.decision)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        spec, red, ro = self.spec, self.reduction, self.spec.rollout
        assert ro is not None
        k = self.reporting_look
        variants = [self.control, self.candidate]
        n = {v: (self.looks[-1].n.get(v, 0) if self.looks else 0) for v in variants}
        total = sum(n.values())
        # the split the schedule intended for the rows actually seen (count-weighted)
        exp_c = 0.0
        for (_, step), per in red.cells.items():
            rows = sum(float(vec[0]) for vec in per.values())
            exp_c += rows * ro.schedule.steps[step][1]
        share_c = exp_c / total if total else ro.schedule.steps[0][1]
        # the split check describes the whole replay: its running p-value at the last look
        srm_p = self.looks[-1].srm_pvalue if self.looks else None
        level = 1.0 - spec.alpha
        comps = [r.to_dict() for r in self.verdict.rows]  # type: ignore[union-attr]
        return {
            "schema_version": SCHEMA_VERSION,
            "abkit_version": _version(),
            "generated_at": self.generated_at,
            "strategy": spec.strategy,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "settings": {
                "alpha": spec.alpha, "confidence_level": level, "correction": "bonferroni",
                "srm_threshold": spec.srm_threshold, "granularity": "request",
                "method": ro.method, "alpha_rollback": spec.alpha / max(
                    1, sum(m.role != "secondary" for m in spec.metrics)),
                "look_every_s": ro.look_every, "tightest_at": ro.tightest_at,
                "min_samples": ro.min_samples, "min_duration_s": ro.min_duration,
                "spending": ro.spending if ro.method == "gst" else None,
                "max_samples": ro.max_samples,
            },
            "spec": {**spec.to_dict(), "digest": spec.digest(), "source": spec.source},
            "inferred": list(self.inferred),
            "warnings": list(self.warnings),
            "input": dict(self.source),
            "data": {
                "rows_read": red.rows_read, "rows_used": red.rows_used,
                "rows_rejected": dict(sorted(red.rejected.items())),
                "rejected_columns": {a: dict(sorted(b.items()))
                                     for a, b in sorted(red.rejected_columns.items())},
                "reason_descriptions": describe(red.rejected),
                "unknown_variants": dict(sorted(red.unknown_variants.items())),
                "examples": dict(sorted(red.examples.items())),
                "units": n,
                "first_timestamp": to_iso(red.first_time),
                "last_timestamp": to_iso(red.last_time),
            },
            "srm": {
                "pvalue": srm_p, "statistic": None, "df": 1, "threshold": spec.srm_threshold,
                "passed": srm_p is None or srm_p >= spec.srm_threshold,
                "expected": {self.control: 1.0 - share_c, self.candidate: share_c},
                "observed": n, "method": "sequential (anytime-valid) test against the "
                "schedule's share at each moment",
            },
            "control": self.control,
            "treatments": {self.candidate: {"decision": self.decision,
                                            "reasons": list(self.reasons)}},
            "comparisons": comps,
            "rollout": {
                "candidate": self.candidate,
                "start": to_iso(red.origin),
                "look_every_s": ro.look_every,
                "schedule": {"source": ro.schedule.source, "steps": ro.schedule.describe()},
                "method": ro.method,
                "quantile_thresholds": {m: {"value": v, "baseline_looks": w + 1}
                                        for m, (v, w) in sorted(self.thresholds.items())},
                "summary": self.summary() if k else None,
                "stopped_at_step": (self.decided.step + 1) if self.decision == "no-go"
                else None,
                "promoted_at_step": (self.decided.step + 1) if self.decision == "go" else None,
            },
            "timeline": [_look_dict(x) for x in self.looks],
            "decided_at": self.decided_at,
            "decided_at_look": self.decided_at_look,
        }

    def to_frame(self):
        """One row per look and metric (pandas DataFrame)."""
        import pandas as pd

        rows = []
        for x in self.to_dict()["timeline"]:
            for name, m in x["metrics"].items():
                rows.append({"look": x["look"], "at": x["at"], "step": x["step"],
                             "share": x["share"], "decision": x["decision"],
                             "signal": x["signal"], "metric": name,
                             **{k: v for k, v in m.items() if k != "ci"},
                             "ci_low": m["ci"]["low"] if m["ci"] else None,
                             "ci_high": m["ci"]["high"] if m["ci"] else None})
        return pd.DataFrame(rows)

    def plot(self, figure=None):
        """Cumulative estimate of each metric with its confidence-sequence band, the margin,
        the step boundaries and the decision point (one panel per metric), and under them
        the scheduled and observed candidate share; a new Figure (no pyplot) unless
        ``figure`` is given."""
        from ..plot import timeline_figure

        return timeline_figure(self, figure=figure)

    def __repr__(self) -> str:
        return (f"<abkit.RolloutReport decision={self.decision!r} looks={len(self.looks)} "
                f"decided_at_look={self.decided_at_look}>")
