"""``strategy = "bluegreen"``: green after the switch against blue before it (and during a
smoke test, if any), with the time confounding made explicit and an early rollback check."""

from __future__ import annotations

from typing import Any

from ..core.columns import metric_columns, require_columns
from ..spec import ExperimentSpec
from .base import RawInput, ReaderResult, ReaderStrategy

__all__ = ["BlueGreenStrategy"]


def _frame(data: Any) -> tuple[Any, int, str, dict]:
    """All rows as a DataFrame, lines the reader could not parse, an example, the source."""
    from ..engine.input import is_frame

    if is_frame(data):
        return data, 0, "", {"label": "DataFrame", "format": "dataframe", "files": [],
                             "engine": "pandas"}
    from ..io.sources import resolve_sources
    from ..shadow.load import _generic_frame

    items = [str(x) for x in (data if isinstance(data, (list, tuple)) else [data])]
    frame, bad, example, label = _generic_frame(items)
    source = resolve_sources(items)
    return frame, bad, example, {"label": label, "format": source.format,
                                 "files": [str(f) for f in source.files], "engine": "duckdb"}


class BlueGreenStrategy(ReaderStrategy):
    names = ("bluegreen",)
    accepts = frozenset({"variant_column", "on_rejected"})
    check_hint = "the spec's column names, blue / green labels and timestamp"

    def reduce(self, source: RawInput, plan: ExperimentSpec) -> ReaderResult:
        import pandas as pd

        from ..engine.pandas_engine import reason_counts
        from ..errors import InputError
        from ..engine.rollout_reduce import classify_rows

        spec = plan
        bg = spec.bluegreen
        assert bg is not None
        frame, bad, example, desc = _frame(source.data)
        source.label = desc["label"]
        if len(frame) == 0 and not bad:
            raise InputError(f"{desc['label']} has no data rows", "check the file is not empty")
        cols = list(dict.fromkeys(m.column for m in spec.metrics))
        require_columns(desc["label"], list(map(str, frame.columns)),
                        [("variant column", "experiment.variant_column", spec.variant_column),
                         ("timestamp column", "experiment.timestamp_column",
                          bg.timestamp_column)]
                        + metric_columns(spec.metrics, all_inputs=False))
        reason, v, t, values = classify_rows(
            frame, variant_column=spec.variant_column, variants=(bg.blue, bg.green),
            timestamp_column=bg.timestamp_column, columns=cols,
            binary=[m.column for m in spec.metrics if m.kind == "proportion"])
        counts = reason_counts(reason, v)
        rejected = dict(counts.rejected)
        if bad:
            rejected["unparseable_line"] = rejected.get("unparseable_line", 0) + bad
        ok = reason.isna().to_numpy()
        rows = pd.DataFrame({"ts": t.to_numpy(float)[ok], "variant": v.to_numpy(object)[ok]})
        for c in cols:
            rows[c] = values[c].to_numpy(float)[ok]
        read = len(frame) + bad
        data = {
            "rows_read": int(read), "rows_used": int(ok.sum()),
            "rows_rejected": dict(sorted(rejected.items())),
            "rejected_columns": {k: dict(sorted(d.items()))
                                 for k, d in sorted(counts.rejected_columns.items())},
            "unknown_variants": dict(sorted(counts.unknown_variants.items())),
            "examples": {"unparseable_line": example} if example else {},
            "units": {bg.blue: int((rows["variant"] == bg.blue).sum()),
                      bg.green: int((rows["variant"] == bg.green).sum())},
        }
        if data["rows_used"] + sum(rejected.values()) != read:  # pragma: no cover - a bug
            raise AssertionError(f"row accounting does not add up: {data}")
        return ReaderResult(rows, data, desc)

    def test(self, spec: ExperimentSpec, source: RawInput, plan: ExperimentSpec,
             reduced: ReaderResult) -> Any:
        from ..bluegreen import analyze_bluegreen
        from ..engine.rollout_reduce import _iso_seconds

        bg = spec.bluegreen
        assert bg is not None
        return analyze_bluegreen(
            reduced.payload, time="ts", variant="variant", blue=bg.blue, green=bg.green,
            metrics=list(spec.metrics), alpha=spec.alpha,
            switch_at=_iso_seconds(bg.switch_at) if bg.switch_at else None, window=bg.window,
            exclude=bg.exclude, look_every=bg.look_every, tightest_at=bg.tightest_at,
            min_rows=bg.min_rows, match=bg.match, early_reference=bg.early_reference)

    def decide(self, spec: ExperimentSpec, results: Any) -> tuple[str, tuple[str, ...]]:
        return results.decision, tuple(results.reasons)

    def report(self, spec: ExperimentSpec, source: RawInput, reduced: ReaderResult,
               results: Any, verdict: tuple, notes: list[str]):
        from ..report.bluegreen import BlueGreenReport

        return BlueGreenReport(spec, results, reduced.data, reduced.description)
