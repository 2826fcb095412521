"""The blue/green report: the foundation JSON fields plus the ``bluegreen`` section."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..spec import ExperimentSpec
from .model import SCHEMA_VERSION, ReportExports, _version
from ..core.accounting import describe
from ..core.verdict import Verdict
from ..bluegreen.verdict import bluegreen_verdict

__all__ = ["BlueGreenReport"]


@dataclass(frozen=True)
class BlueGreenReport(ReportExports):
    """Green after the switch against blue before it (and during a smoke test, if any)."""

    spec: ExperimentSpec
    result: Any  # abkit.bluegreen.BlueGreenResult
    data: dict[str, Any]
    source: dict[str, Any]
    verdict: Verdict | None = None  # default: the analysis' own (bluegreen_verdict)
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def __post_init__(self) -> None:
        if self.verdict is None:
            bg = self.spec.bluegreen
            object.__setattr__(self, "verdict", bluegreen_verdict(self.result, bg.blue,
                                                                  bg.green))

    @property
    def decision(self) -> str:
        return self.verdict.decision  # type: ignore[union-attr]

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.verdict.reasons  # type: ignore[union-attr]

    def to_dict(self) -> dict[str, Any]:
        spec, bg = self.spec, self.spec.bluegreen
        sec = self.result.to_dict()
        basis = sec.get("basis")
        tc = sec.get("time_confounding") or {}
        warnings = []
        if tc.get("warning"):
            warnings.append(tc["warning"])
        d = self.data
        return {
            "schema_version": SCHEMA_VERSION,
            "abkit_version": _version(),
            "generated_at": self.generated_at,
            "strategy": "bluegreen",
            "decision": self.decision,
            "reasons": list(self.reasons),
            "settings": {"alpha": spec.alpha, "confidence_level": 1.0 - spec.alpha,
                         "correction": "none", "srm_threshold": spec.srm_threshold,
                         "granularity": "request", "basis": basis},
            "spec": {**spec.to_dict(), "digest": spec.digest(), "source": spec.source},
            "inferred": [],
            "warnings": warnings,
            "input": dict(self.source),
            "data": {**d, "reason_descriptions": describe(d["rows_rejected"])},
            "srm": {"pvalue": None, "statistic": None, "df": 0,
                    "threshold": spec.srm_threshold, "passed": True, "expected": {},
                    "observed": dict(d["units"]),
                    "method": "not applicable: blue and green serve different times"},
            "control": bg.blue,
            "treatments": {bg.green: {"decision": self.decision, "reasons": list(self.reasons)}},
            "comparisons": [r.to_dict() for r in self.verdict.rows],  # type: ignore[union-attr]
            "bluegreen": sec,
        }

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in c.items() if k not in ("guardrail", "ci",
                                                                      "rel_ci", "diagnostics")}
                             for c in self.to_dict()["comparisons"]])

    def plot(self, figure=None):
        """Each metric, blue and green over clock time, with the switch, the warm-up, the
        smoke test, the early-look bound and the rollback point (one panel per metric); a
        new Figure (no pyplot) unless ``figure`` is given. The forest plot of the basis
        comparison is :func:`abkit.plots.report_figure`."""
        from ..plots import bluegreen_figure

        return bluegreen_figure(self, figure=figure)

    def __repr__(self) -> str:
        return f"<abkit.BlueGreenReport decision={self.decision!r}>"
