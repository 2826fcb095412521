"""The blue/green report: the foundation JSON fields plus the ``bluegreen`` section."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..spec import ExperimentSpec
from .model import SCHEMA_VERSION, ReportExports, _version
from ..core.accounting import describe

__all__ = ["BlueGreenReport"]


def _comparison(c: dict[str, Any], blue: str, green: str) -> dict[str, Any]:
    out = {
        "metric": c["metric"], "kind": c["kind"], "role": c["role"], "good": c.get("good"),
        "control": blue, "treatment": green,
        "n_control": int(c.get("n_blue") or 0), "n_treatment": int(c.get("n_green") or 0),
        "control_value": c.get("blue_value"), "treatment_value": c.get("green_value"),
        "effect": c.get("effect"), "se": c.get("se"), "ci": c.get("ci"), "df": c.get("df"),
        "pvalue": c.get("pvalue"), "pvalue_adjusted": None,
        "rel_effect": c.get("rel_effect"), "rel_ci": c.get("rel_ci"),
        "rel_pvalue": c.get("rel_pvalue"), "method": c.get("method") or "welch",
        "aggregate": None, "alternative": "two-sided",
        "confidence_level": c.get("confidence_level"), "cuped": None,
        "guardrail": c.get("guardrail"), "verdict": c.get("verdict") or "neutral",
        "diagnostics": c.get("diagnostics") or [],
    }
    g = out["guardrail"]
    if g is not None:
        out["guardrail"] = {**g, "margin": g.get("margin") or 0.0,
                            "margin_abs": g.get("margin_abs") or 0.0}
    return out


@dataclass(frozen=True)
class BlueGreenReport(ReportExports):
    """Green after the switch against blue before it (and during a smoke test, if any)."""

    spec: ExperimentSpec
    result: Any  # abkit.bluegreen.BlueGreenResult
    data: dict[str, Any]
    source: dict[str, Any]
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def decision(self) -> str:
        return self.result.decision

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(self.result.reasons)

    def to_dict(self) -> dict[str, Any]:
        spec, bg = self.spec, self.spec.bluegreen
        sec = self.result.to_dict()
        basis = sec.get("basis")
        comps = sec["comparisons"]
        tc = sec.get("time_confounding") or {}
        if basis == "matched-hours" and tc.get("matched"):
            matched = tc["matched"].get("comparisons") if isinstance(tc["matched"], dict) else None
            if matched:
                comps = matched
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
            "comparisons": [_comparison(c, bg.blue, bg.green) for c in comps],
            "bluegreen": sec,
        }

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in c.items() if k not in ("guardrail", "ci",
                                                                      "rel_ci", "diagnostics")}
                             for c in self.to_dict()["comparisons"]])

    def plot(self, figure=None):
        """Forest plot of green vs blue (the basis comparison)."""
        from ..plot import report_figure

        if figure is None:
            import matplotlib.pyplot as plt

            figure = plt.figure(layout="constrained")
        return report_figure(self, figure=figure)

    def __repr__(self) -> str:
        return f"<abkit.BlueGreenReport decision={self.decision!r}>"
