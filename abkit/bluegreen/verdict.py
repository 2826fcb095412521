"""The blue/green verdict: the analysis' decision and reasons, and one verdict row per
metric of the comparison the decision rests on (the matched-hours one when that is the
basis)."""

from __future__ import annotations

from typing import Any

from ..core.verdict import Verdict, VerdictRow

__all__ = ["basis_comparisons", "bluegreen_verdict"]


def basis_comparisons(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON comparisons of the basis the decision used."""
    comps = section["comparisons"]
    tc = section.get("time_confounding") or {}
    if section.get("basis") == "matched-hours" and isinstance(tc.get("matched"), dict):
        comps = tc["matched"].get("comparisons") or comps
    return comps


def _row(c: dict[str, Any], blue: str, green: str) -> VerdictRow:
    g = c.get("guardrail")
    if g is not None:
        g = {**g, "margin": g.get("margin") or 0.0, "margin_abs": g.get("margin_abs") or 0.0}
    return VerdictRow(
        metric=c["metric"], kind=c["kind"], role=c["role"], good=c.get("good"),
        control=blue, treatment=green,
        n_control=int(c.get("n_blue") or 0), n_treatment=int(c.get("n_green") or 0),
        control_value=c.get("blue_value"), treatment_value=c.get("green_value"),
        effect=c.get("effect"), se=c.get("se"), ci=c.get("ci"), df=c.get("df"),
        pvalue=c.get("pvalue"), rel_effect=c.get("rel_effect"), rel_ci=c.get("rel_ci"),
        rel_pvalue=c.get("rel_pvalue"), method=c.get("method") or "welch",
        confidence_level=c.get("confidence_level"), guardrail=g,
        verdict=c.get("verdict") or "neutral", diagnostics=c.get("diagnostics") or [])


def bluegreen_verdict(result: Any, blue: str, green: str) -> Verdict:
    """``result`` (a :class:`~abkit.bluegreen.BlueGreenResult`) as the shared verdict."""
    rows = tuple(_row(c, blue, green) for c in basis_comparisons(result.to_dict()))
    return Verdict(result.decision, tuple(result.reasons), rows)
