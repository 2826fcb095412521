"""``strategy = "bluegreen"``: green after the switch against blue before it (and during a
smoke test, if any), with the time confounding made explicit and an early rollback check."""

from __future__ import annotations

from typing import Any

from ..core.columns import metric_columns, require_columns
from ..core.verdict import Verdict
from ..engine.rows import RowsPlan, TimeCells as Rows
from ..engine.rules import RowRules
from ..spec import ExperimentSpec
from .base import Strategy

__all__ = ["BlueGreenStrategy"]


class BlueGreenStrategy(Strategy):
    names = ("bluegreen",)
    accepts = frozenset({"variant_column", "on_rejected", "engine", "deterministic",
                         "memory_limit", "delimiter", "decimal"})
    check_hint = "the spec's column names, blue / green labels and timestamp"

    def plan(self, spec: ExperimentSpec, source: Any) -> RowsPlan:
        """The used rows as time cells, refined where the windows, looks and plot bins cut
        time (:class:`abkit.bluegreen.layout.Refiner`): per-second moments in the engine,
        no row in Python."""
        bg = spec.bluegreen
        assert bg is not None
        require_columns(source.label, source.columns(),
                        [("variant column", "experiment.variant_column", spec.variant_column),
                         ("timestamp column", "experiment.timestamp_column",
                          bg.timestamp_column)]
                        + metric_columns(spec.metrics, all_inputs=False))
        cols = tuple(dict.fromkeys(m.column for m in spec.metrics))
        binary = tuple(dict.fromkeys(m.column for m in spec.metrics if m.kind == "proportion"))
        from ..bluegreen.layout import Refiner
        from ..engine.rollout_reduce import _iso_seconds
        from ..engine.timestamps import time_rules

        refiner = Refiner(bg.blue, bg.green, {m.name: m.column for m in spec.metrics},
                          _iso_seconds(bg.switch_at) if bg.switch_at else None, bg.window,
                          float(bg.exclude), float(bg.look_every), int(bg.min_rows))
        return RowsPlan(RowRules(spec.variant_column, (bg.blue, bg.green), columns=cols,
                                 binary=binary, timestamp_column=bg.timestamp_column,
                                 time=time_rules(source.sample()[bg.timestamp_column])),
                        refiner)

    def labels(self, spec: ExperimentSpec) -> dict[str, str]:
        bg = spec.bluegreen
        assert bg is not None
        return {"experiment.blue": bg.blue, "experiment.green": bg.green}

    def label_rows(self, reduced: Rows) -> dict[str, int]:
        return reduced.rows_by_variant()

    def test(self, spec: ExperimentSpec, source: Any, plan: RowsPlan, reduced: Rows) -> Any:
        from ..bluegreen.arguments import _check_cell_args
        from ..bluegreen.cell_analysis import analyze_cells
        from ..bluegreen.cells import Cells

        bg = spec.bluegreen
        assert bg is not None
        r = plan.refine
        _check_cell_args(bg.blue, bg.green, spec.metrics, spec.alpha, r.switch_at, r.window,
                         r.exclude, r.look_every, bg.tightest_at, r.min_rows, bg.match,
                         bg.early_reference)
        return analyze_cells(
            Cells.from_table(reduced.cells, bg.blue, bg.green, r.columns), blue=bg.blue,
            green=bg.green, metrics=list(spec.metrics), alpha=float(spec.alpha),
            switch_at=r.switch_at, window=r.window, exclude=r.exclude,
            look_every=r.look_every, tightest_at=bg.tightest_at, min_rows=r.min_rows,
            match=bg.match, early_reference=bg.early_reference, diags=[])

    def decide(self, spec: ExperimentSpec, results: Any) -> Verdict:
        from ..bluegreen.verdict import bluegreen_verdict

        bg = spec.bluegreen
        assert bg is not None
        return bluegreen_verdict(results, bg.blue, bg.green)

    def report(self, spec: ExperimentSpec, source: Any, reduced: Rows, results: Any,
               verdict: Verdict, notes: list[str]):
        from ..report.bluegreen import BlueGreenReport

        bg = spec.bluegreen
        assert bg is not None
        rows = reduced.rows_by_variant()
        data = {
            "rows_read": reduced.rows_read, "rows_used": reduced.rows_used,
            "rows_rejected": dict(sorted(reduced.rejected.items())),
            "rejected_columns": {k: dict(sorted(d.items()))
                                 for k, d in sorted(reduced.rejected_columns.items())},
            "unknown_variants": dict(sorted(reduced.unknown_variants.items())),
            "examples": dict(sorted(reduced.examples.items())),
            "units": {bg.blue: rows.get(bg.blue, 0), bg.green: rows.get(bg.green, 0)},
        }
        return BlueGreenReport(spec, results, data, source.description, verdict)
