"""The shadow-test report: the foundation JSON fields plus the ``shadow`` section."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..core.accounting import describe
from ..core.verdict import Verdict
from ..spec import ExperimentSpec
from .model import SCHEMA_VERSION, ReportExports, _version

__all__ = ["ShadowReport"]


@dataclass(frozen=True)
class ShadowReport(ReportExports):
    """What a shadow test decided: quality, latency, errors, drift and bias on matched
    live / candidate pairs."""

    spec: ExperimentSpec
    verdict: Verdict  # decision, reasons and one row per check
    section: dict[str, Any]
    data: dict[str, Any]
    source: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def decision(self) -> str:
        return self.verdict.decision

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.verdict.reasons

    @property
    def shadow(self) -> dict[str, Any]:
        return self.section

    def to_dict(self) -> dict[str, Any]:
        spec, sh, d = self.spec, self.spec.shadow, self.data
        n = d["pairs"]
        comps = [r.to_dict() for r in self.verdict.rows]
        return {
            "schema_version": SCHEMA_VERSION,
            "abkit_version": _version(),
            "generated_at": self.generated_at,
            "strategy": "shadow",
            "decision": self.decision,
            "reasons": list(self.reasons),
            "settings": {"alpha": spec.alpha, "confidence_level": 1.0 - spec.alpha,
                         "correction": "none", "srm_threshold": spec.srm_threshold,
                         "granularity": "request", "threshold": sh.threshold,
                         "min_labelled_pairs": sh.min_labelled_pairs},
            "spec": {**spec.to_dict(), "digest": spec.digest(), "source": spec.source},
            "inferred": [],
            "warnings": list(self.warnings),
            "input": dict(self.source),
            "data": {
                "rows_read": d["rows_read"], "rows_used": d["rows_used"],
                "rows_rejected": d["rows_rejected"], "rejected_columns": {},
                "reason_descriptions": describe(d["rows_rejected"]),
                "unknown_variants": {}, "examples": d["examples"],
                "units": {sh.live: n, sh.candidate: n},
            },
            "srm": {"pvalue": None, "statistic": None, "df": 0, "threshold": spec.srm_threshold,
                    "passed": True, "expected": {}, "observed": {sh.live: n, sh.candidate: n},
                    "method": "not applicable: a shadow test pairs the same requests"},
            "control": sh.live,
            "treatments": {sh.candidate: {"decision": self.decision,
                                          "reasons": list(self.reasons)}},
            "comparisons": comps,
            "shadow": self.section,
        }

    def to_frame(self):
        """One row per metric (pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in c.items() if k not in ("guardrail",
                                                                      "diagnostics")}
                             for c in self.to_dict()["comparisons"]])

    def plot(self, figure=None):
        """The shadow picture as one Figure: quality differences (higher-is-better and
        lower-is-better measures apart), latency (with latency data), decisions, ROC,
        reliability, score histograms and each drifted feature's distributions; a new
        Figure (no pyplot) unless ``figure`` is given."""
        from ..plot import shadow_figure

        return shadow_figure(self, figure=figure)

    def __repr__(self) -> str:
        return (f"<abkit.ShadowReport decision={self.decision!r} "
                f"pairs={self.data['pairs']} labelled={self.data['labelled_pairs']}>")
