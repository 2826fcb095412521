"""``strategy = "shadow"``: the candidate answers copies of live requests; compare matched
pairs (quality, latency, errors, bias) and watch drift."""

from __future__ import annotations


from ..errors import InputError, RejectedRowsError
from ..spec import ExperimentSpec
from ..core.verdict import Verdict
from .base import RawInput, ReaderResult, ReaderStrategy

__all__ = ["ShadowStrategy"]


class ShadowStrategy(ReaderStrategy):
    names = ("shadow",)
    accepts = frozenset({"variant_column", "on_rejected"})

    def accepted(self, spec: ExperimentSpec) -> frozenset[str]:
        # a capture tree is split by its variant folders, not by a column
        if spec.shadow is not None and spec.shadow.input_format == "sagemaker-capture":
            return self.accepts - {"variant_column"}
        return self.accepts

    def reduce(self, source: RawInput, plan: ExperimentSpec) -> ReaderResult:
        from ..shadow.load import load_shadow

        return ReaderResult(*load_shadow(source.data, plan))

    def check(self, spec: ExperimentSpec, source: RawInput, reduced: ReaderResult) -> None:
        d, label = reduced.data, reduced.label
        if d["rows_read"] == 0:
            raise InputError(f"{label}: no records", "check the path")
        if d["pairs"] == 0:
            top = ", ".join(f"{k}: {v}" for k, v in sorted(d["rows_rejected"].items()))
            raise InputError(f"{label}: no live record could be matched with a "
                             f"candidate record ({top})",
                             "check live / candidate (variant names) and the id column")
        if spec.on_rejected == "fail" and d["rows_rejected"]:
            raise RejectedRowsError(
                f"{label}: {sum(d['rows_rejected'].values())} records "
                "rejected and on_rejected = 'fail'", "fix the input or drop --fail-on-rejected")

    def test(self, spec: ExperimentSpec, source: RawInput, plan: ExperimentSpec,
             reduced: ReaderResult) -> tuple:
        from ..shadow.evaluate import evaluate_shadow

        return (*evaluate_shadow(spec, reduced.payload), reduced.data["pairs"])

    def decide(self, spec: ExperimentSpec, results: tuple) -> Verdict:
        decision, reasons, checks, _, pairs = results
        return Verdict(decision, tuple(reasons), tuple(c.to_row(spec, pairs) for c in checks))

    def report(self, spec: ExperimentSpec, source: RawInput, reduced: ReaderResult,
               results: tuple, verdict: Verdict, notes: list[str]):
        from ..report.shadow import ShadowReport

        section = results[3]
        d = reduced.data
        warnings = list(section["notes"])
        rej = sum(d["rows_rejected"].values())
        if d["rows_read"] and rej / d["rows_read"] > 0.05:
            warnings.insert(0, f"{rej / d['rows_read']:.1%} of records were rejected or "
                            "unmatched; check the reasons before trusting the result")
        return ShadowReport(spec, verdict, section, d, reduced.description,
                            warnings)
