"""Shadow tests: the candidate answers copies of live requests; compare on matched pairs."""

from __future__ import annotations

from typing import Any

from ..spec import ExperimentSpec

__all__ = ["analyze_shadow"]


def analyze_shadow(data: Any, spec: ExperimentSpec):
    """Read, pair, account, test and decide; returns a :class:`ShadowReport`."""
    from ..errors import InputError, RejectedRowsError
    from ..report.shadow import ShadowReport
    from .evaluate import evaluate_shadow
    from .load import load_shadow

    inputs, data_section, source = load_shadow(data, spec)
    if data_section["rows_read"] == 0:
        raise InputError(f"{source['label']}: no records", "check the path")
    if data_section["pairs"] == 0:
        top = ", ".join(f"{k}: {v}" for k, v in sorted(data_section["rows_rejected"].items()))
        raise InputError(f"{source['label']}: no live record could be matched with a "
                         f"candidate record ({top})",
                         "check live / candidate (variant names) and the id column")
    if spec.on_rejected == "fail" and data_section["rows_rejected"]:
        raise RejectedRowsError(
            f"{source['label']}: {sum(data_section['rows_rejected'].values())} records "
            "rejected and on_rejected = 'fail'", "fix the input or drop --fail-on-rejected")
    decision, reasons, verdicts, section = evaluate_shadow(spec, inputs)
    warnings = list(section["notes"])
    rej = sum(data_section["rows_rejected"].values())
    if data_section["rows_read"] and rej / data_section["rows_read"] > 0.05:
        warnings.insert(0, f"{rej / data_section['rows_read']:.1%} of records were rejected or "
                        "unmatched; check the reasons before trusting the result")
    return ShadowReport(spec, decision, tuple(reasons), tuple(verdicts), section, data_section,
                        source, warnings)
