"""``strategy = "ab"``: fixed-horizon comparisons of every metric and treatment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..fmt import plural
from ..core.columns import metric_columns, require_columns
from ..engine.plan import Plan, Reduced, build_plan
from ..errors import InputError
from ..gates.ab import Outcome, Tested, decide_ab, run_comparisons
from ..infer import pick_control
from ..spec import ExperimentSpec
from .base import Strategy

__all__ = ["ABResults", "ABStrategy", "data_warnings"]


@dataclass(frozen=True)
class ABResults:
    tested: Tested
    control: str
    note: str | None


class ABStrategy(Strategy):
    names = ("ab",)
    accepts = frozenset({"variant_column", "unit_column", "control", "on_rejected", "engine",
                         "deterministic", "split", "memory_limit", "delimiter", "decimal"})
    check_hint = "the spec's column names, split and granularity"

    def plan(self, spec: ExperimentSpec, source: Any) -> Plan:
        wanted = [("variant column", "experiment.variant_column", spec.variant_column)]
        if spec.unit_column:
            wanted.append(("unit column", "experiment.unit_column", spec.unit_column))
        wanted += metric_columns(spec.metrics)
        require_columns(source.label, source.columns(), wanted, " (or the CLI option)")
        return build_plan(spec)

    def test(self, spec: ExperimentSpec, source: Any, plan: Plan,
             reduced: Reduced) -> ABResults:
        label = source.label
        observed = sorted(v for v, n in reduced.units.items() if n > 0)
        design = list(spec.split) if spec.split is not None else observed
        if len(observed) < 2:
            raise InputError(
                f"{label}: only one variant has data ({', '.join(observed)})",
                "an A/B analysis needs the control and at least one treatment",
            )
        ctrl, note = pick_control(observed if spec.split is None else design, spec.control,
                                  label)
        if ctrl not in observed:
            raise InputError(
                f"{label}: the control variant {ctrl!r} has no usable rows",
                f"variants with data: {', '.join(observed)}",
            )
        variants = [ctrl] + [v for v in design if v != ctrl]
        return ABResults(run_comparisons(spec, reduced, plan, variants), ctrl, note)

    def decide(self, spec: ExperimentSpec, results: ABResults) -> Outcome:
        return decide_ab(spec, results.tested)

    def report(self, spec: ExperimentSpec, source: Any, reduced: Reduced, results: ABResults,
               verdict: Outcome, notes: list[str]):
        from ..report.model import Report

        return Report(
            spec=spec,
            inferred=notes + ([results.note] if results.note else []),
            source=source.description,
            reduced=reduced,
            control=results.control,
            variants=list(results.tested.variants),
            outcome=verdict,
            warnings=data_warnings(spec, reduced),
        )


def data_warnings(sp: ExperimentSpec, red: Reduced) -> list[str]:
    """Data-quality findings worth a person's attention (they do not change the decision)."""
    out: list[str] = []
    rejected = sum(red.rejected.values())
    if red.rows_read and rejected / red.rows_read > 0.05:
        out.append(
            f"{rejected / red.rows_read:.1%} of rows were rejected; check the reasons before "
            "trusting the result"
        )
    dup = red.rejected.get("duplicate_unit", 0)
    if dup and sp.granularity == "unit":
        out.append(
            f"{dup} rows share a unit id with another row; if the log has one row per request, "
            'set granularity = "request" in the spec'
        )
    if sp.split is None and red.units:
        top = max(red.units.values())
        for v, n in sorted(red.units.items()):
            if n < 0.01 * top:
                out.append(
                    f"variant {v!r} has only {plural(n, 'unit')} (under 1% of the largest arm); if it is "
                    "a typo or a test variant, declare the real variants with split in the spec"
                )
    multi = red.rejected.get("unit_in_multiple_variants", 0)
    if multi:
        out.append(
            f"{multi} rows belong to units seen in more than one variant (assignment leak); "
            "they were excluded"
        )
    return out
