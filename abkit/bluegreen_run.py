"""``strategy = "bluegreen"``: read and account for the rows, then :mod:`abkit.bluegreen`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .core.accounting import check_rows
from .core.columns import require_columns
from .engine.pandas_engine import reason_counts
from .errors import InputError
from .spec import ExperimentSpec

__all__ = ["run_bluegreen"]


def _rows(data: Any) -> tuple[pd.DataFrame, int, str, dict]:
    """All rows as a DataFrame, lines the reader could not parse, an example, the source."""
    from .analysis import _is_frame

    if _is_frame(data):
        return data, 0, "", {"label": "DataFrame", "format": "dataframe", "files": [],
                             "engine": "pandas"}
    from .io.sources import resolve_sources
    from .shadow.load import _generic_frame

    items = [str(x) for x in (data if isinstance(data, (list, tuple)) else [data])]
    frame, bad, example, label = _generic_frame(items)
    source = resolve_sources(items)
    return frame, bad, example, {"label": label, "format": source.format,
                                 "files": [str(f) for f in source.files], "engine": "duckdb"}


def run_bluegreen(data: Any, spec: ExperimentSpec):
    """Read ``data``, classify every row, compare green after the switch with blue before."""
    from .bluegreen import analyze_bluegreen
    from .report.bluegreen import BlueGreenReport
    from .rollout.reduce import _iso_seconds, classify_rows

    bg = spec.bluegreen
    assert bg is not None
    frame, bad, example, source = _rows(data)
    if len(frame) == 0 and not bad:
        raise InputError(f"{source['label']} has no data rows", "check the file is not empty")
    cols = list(dict.fromkeys(m.column for m in spec.metrics))
    require_columns(source["label"], list(map(str, frame.columns)),
                    [("variant column", "experiment.variant_column", spec.variant_column),
                     ("timestamp column", "experiment.timestamp_column", bg.timestamp_column)]
                    + [(f"column of metric {m.name!r}", f"metric {m.name!r}", m.column)
                       for m in spec.metrics])
    reason, v, t, values = classify_rows(
        frame, variant_column=spec.variant_column, variants=(bg.blue, bg.green),
        timestamp_column=bg.timestamp_column, columns=cols,
        binary=[m.column for m in spec.metrics if m.kind == "proportion"])
    counts = reason_counts(reason, v)
    rejected, rejected_columns, unknown = (counts.rejected, counts.rejected_columns,
                                           counts.unknown_variants)
    if bad:
        rejected["unparseable_line"] = rejected.get("unparseable_line", 0) + bad
    ok = reason.isna().to_numpy()
    rows = pd.DataFrame({"ts": t.to_numpy(float)[ok], "variant": v.to_numpy(object)[ok]})
    for c in cols:
        rows[c] = values[c].to_numpy(float)[ok]
    read = len(frame) + bad
    check_rows(source["label"], read, len(rows), rejected, spec.on_rejected,
               "the spec's column names, blue / green labels and timestamp")
    res = analyze_bluegreen(
        rows, time="ts", variant="variant", blue=bg.blue, green=bg.green,
        metrics=list(spec.metrics), alpha=spec.alpha,
        switch_at=_iso_seconds(bg.switch_at) if bg.switch_at else None, window=bg.window,
        exclude=bg.exclude, look_every=bg.look_every, tightest_at=bg.tightest_at,
        min_rows=bg.min_rows, match=bg.match, early_reference=bg.early_reference)
    data_section = {
        "rows_read": int(read), "rows_used": int(ok.sum()),
        "rows_rejected": dict(sorted(rejected.items())),
        "rejected_columns": {k: dict(sorted(d.items())) for k, d in sorted(rejected_columns.items())},
        "unknown_variants": dict(sorted(unknown.items())),
        "examples": {"unparseable_line": example} if example else {},
        "units": {bg.blue: int((rows["variant"] == bg.blue).sum()),
                  bg.green: int((rows["variant"] == bg.green).sum())},
    }
    assert data_section["rows_used"] + sum(rejected.values()) == read
    return BlueGreenReport(spec, res, data_section, source)
