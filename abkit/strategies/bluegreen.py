"""``strategy = "bluegreen"``: green after the switch against blue before it (and during a
smoke test, if any), with the time confounding made explicit and an early rollback check."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.columns import metric_columns, require_columns
from ..core.verdict import Verdict
from ..engine.rows import Rows, RowsPlan
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
        """The used rows' time, variant and metric values (the methods need every row)."""
        bg = spec.bluegreen
        assert bg is not None
        require_columns(source.label, source.columns(),
                        [("variant column", "experiment.variant_column", spec.variant_column),
                         ("timestamp column", "experiment.timestamp_column",
                          bg.timestamp_column)]
                        + metric_columns(spec.metrics, all_inputs=False))
        cols = tuple(dict.fromkeys(m.column for m in spec.metrics))
        binary = tuple(dict.fromkeys(m.column for m in spec.metrics if m.kind == "proportion"))
        from ..engine.timestamps import time_rules

        return RowsPlan(RowRules(spec.variant_column, (bg.blue, bg.green), columns=cols,
                                 binary=binary, timestamp_column=bg.timestamp_column,
                                 time=time_rules(source.sample()[bg.timestamp_column])))

    def labels(self, spec: ExperimentSpec) -> dict[str, str]:
        bg = spec.bluegreen
        assert bg is not None
        return {"experiment.blue": bg.blue, "experiment.green": bg.green}

    def label_rows(self, reduced: Rows) -> dict[str, int]:
        labels, counts = np.unique(reduced.variant.astype(str), return_counts=True)
        return {str(k): int(n) for k, n in zip(labels, counts)}

    def test(self, spec: ExperimentSpec, source: Any, plan: RowsPlan, reduced: Rows) -> Any:
        from ..bluegreen import analyze_bluegreen
        from ..engine.rollout_reduce import _iso_seconds

        bg = spec.bluegreen
        assert bg is not None
        return analyze_bluegreen(
            reduced.frame(), time=Rows.TIME, variant=Rows.VARIANT, blue=bg.blue, green=bg.green,
            metrics=list(spec.metrics), alpha=spec.alpha,
            switch_at=_iso_seconds(bg.switch_at) if bg.switch_at else None, window=bg.window,
            exclude=bg.exclude, look_every=bg.look_every, tightest_at=bg.tightest_at,
            min_rows=bg.min_rows, match=bg.match, early_reference=bg.early_reference)

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
        data = {
            "rows_read": reduced.rows_read, "rows_used": reduced.rows_used,
            "rows_rejected": dict(sorted(reduced.rejected.items())),
            "rejected_columns": {k: dict(sorted(d.items()))
                                 for k, d in sorted(reduced.rejected_columns.items())},
            "unknown_variants": dict(sorted(reduced.unknown_variants.items())),
            "examples": dict(sorted(reduced.examples.items())),
            "units": {bg.blue: int((reduced.variant == bg.blue).sum()),
                      bg.green: int((reduced.variant == bg.green).sum())},
        }
        return BlueGreenReport(spec, results, data, source.description, verdict)
