"""Read a shadow test's inputs (SageMaker capture tree or generic logs) into matched pairs,
with the whole record accounting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..spec import ExperimentSpec
from .evaluate import ShadowInputs

__all__ = ["load_shadow"]


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        if v:
            into[k] = into.get(k, 0) + int(v)


def _one_path(data: Any, what: str) -> Path:
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(items) != 1:
        raise InputError(f"a {what} analysis reads one capture tree; got {len(items)} paths",
                         "give the endpoint folder, e.g. datacapture/churn-endpoint")
    from ..io.sources import check_local

    check_local(items[0], f"the {what} capture tree")
    p = Path(items[0])
    if not p.exists():
        raise InputError(f"no such file or folder: {p}", "check the path")
    return p


def _cloudwatch(spec: ExperimentSpec, endpoint: str | None, notes: list[str]):
    """(latency, errors) from the spec's CloudWatch export, or (None, None)."""
    sh = spec.shadow
    if not sh.cloudwatch:  # type: ignore[union-attr]
        return None, None
    from ..io.cloudwatch import read_get_metric_data, variant_metrics
    from ..stats.latency import PeriodSummary

    prefix = str(sh.path(sh.cloudwatch))  # type: ignore[union-attr]
    series = read_get_metric_data(prefix + "_results.json", prefix + "_queries.json")
    vm = variant_metrics(series, endpoint=endpoint)
    for v in (sh.live, sh.candidate):  # type: ignore[union-attr]
        if v not in vm:
            raise InputError(f"{prefix}_results.json: no metrics for variant {v!r} (found: "
                             f"{', '.join(vm) or 'none'})", "check the export's VariantName")
    live, cand = vm[sh.live], vm[sh.candidate]  # type: ignore[union-attr]

    def periods(m) -> list:
        out = []
        for p in m.latency:
            pct = tuple(sorted((float(k[1:]) / 100.0, float(v)) for k, v in p.stats.items()
                               if k.startswith("p") and k[1:].replace(".", "").isdigit()))
            if p.sample_count and pct:
                out.append(PeriodSummary(float(p.sample_count), pct, p.stats.get("Minimum"),
                                         p.stats.get("Maximum")))
        return out

    latency = None
    pl, pc = periods(live), periods(cand)
    if pl and pc:
        latency = {"cloudwatch": {"live": pl, "candidate": pc}, "unit": "ms"}
    else:
        notes.append("the CloudWatch export has no ModelLatency percentiles for both variants")
    errors = None
    if live.invocations and cand.invocations and live.errors_5xx is not None and \
            cand.errors_5xx is not None:
        # SageMaker counts failed invocations in Invocation5XXErrors, not in Invocations
        # (documented); errors per request = 5XX / (Invocations + 5XX)
        errors = {"live": (live.errors_5xx, live.invocations + live.errors_5xx),
                  "candidate": (cand.errors_5xx, cand.invocations + cand.errors_5xx),
                  "source": "cloudwatch Invocation5XXErrors / (Invocations + 5XX)"}
    return latency, errors


def _generic_frame(paths: list[str]) -> tuple[pd.DataFrame, int, str, str]:
    """All rows of one log as text columns; returns (frame, unparseable lines, example,
    label)."""
    from ..engine.duckdb_engine import DuckDBLogs, qi
    from ..io.sources import resolve_sources

    source = resolve_sources(paths)
    logs = DuckDBLogs(source, deterministic=True)
    cols = logs.columns()
    sel = ", ".join(f"CAST({logs.text(c)} AS VARCHAR) AS {qi(c)}" for c in cols)
    where = "WHERE _ok" if source.format == "jsonl" else ""
    frame = logs.run(f"SELECT {sel} FROM {logs.scan(store_rejects=True)} {where}").df()
    bad = 0
    if source.format == "jsonl":
        bad += int(logs.run(f"SELECT count(*) FROM {logs.scan()} WHERE NOT _ok").fetchone()[0])
    n, example = logs._csv_rejects()
    return frame, bad + n, example, source.label


def load_shadow(data: Any, spec: ExperimentSpec) -> tuple[ShadowInputs, dict, dict]:
    """(inputs for the statistics, the data-accounting section, the input section)."""
    sh = spec.shadow
    assert sh is not None
    notes: list[str] = []
    rejected: dict[str, int] = {}
    examples: dict[str, str] = {}
    read = 0
    latency = errors = None
    if sh.input_format == "sagemaker-capture":
        from ..io.datacapture import read_capture, read_ground_truth
        from ..io.pairing import pair_capture

        root = _one_path(data, "shadow")
        cap = read_capture(root, features=sh.features or None, output_field=sh.output_field,
                           variants=[sh.live, sh.candidate],
                           output_range=(0.0, 1.0) if sh.output_kind == "probability" else None)
        labels = None
        if sh.labels:
            lp = sh.path(sh.labels)
            if lp is None or not lp.exists():
                raise InputError(f"labels folder not found: {lp}",
                                 "labels is resolved against the spec file's folder")
            labels = read_ground_truth(
                lp, label_kind="binary" if sh.output_kind == "probability" else "numeric")
        pairs = pair_capture(cap, sh.live, sh.candidate, labels)
        read = cap.accounting.records_read + (labels.accounting.records_read if labels else 0)
        _merge(rejected, cap.accounting.rejected)
        examples.update(cap.accounting.examples)
        if labels is not None:
            _merge(rejected, labels.accounting.rejected)
            examples.update(labels.accounting.examples)
        notes += list(cap.warnings)
        if cap.accounting.unreadable_input:
            notes.append(f"{cap.accounting.unreadable_input} records have an input that cannot "
                         "be read as features (unreadable_input); their outputs are paired and "
                         "compared, drift leaves them out (e.g. "
                         f"{cap.accounting.unreadable_example})")
        latency, errors = _cloudwatch(spec, cap.endpoint, notes)
        label = str(root)
        files = [str(f) for f in cap.files]
        fmt = "sagemaker-capture"
    else:
        from ..io.pairing import pair_shadow, split_generic

        items = [str(x) for x in (data if isinstance(data, (list, tuple)) else [data])]
        carry = [c for c in (sh.latency_column, sh.error_column) if c]
        time_col = sh.timestamp_column
        if len(items) == 2:
            live, l_bad, l_ex, l_label = _generic_frame([items[0]])
            shadow, s_bad, s_ex, _ = _generic_frame([items[1]])
            read = len(live) + len(shadow) + l_bad + s_bad
            _merge(rejected, {"unparseable_line": l_bad + s_bad})
            if l_ex or s_ex:
                examples["unparseable_line"] = l_ex or s_ex
            label = f"{items[0]} + {items[1]}"
        else:
            frame, bad, ex, label = _generic_frame(items)
            split = split_generic(frame, variant_column=spec.variant_column,
                                  id_column=sh.id_column, live=sh.live, candidate=sh.candidate,
                                  where=label)
            live, shadow = split.live, split.shadow
            read = len(frame) + bad
            _merge(rejected, {"unparseable_line": bad})
            if ex:
                examples["unparseable_line"] = ex
            _merge(rejected, split.accounting.rejected)
            examples.update(split.accounting.examples)
        for side, f in (("live", live), ("candidate", shadow)):
            need = [sh.id_column, sh.score_column] + carry + ([time_col] if time_col else [])
            missing = [c for c in need if c not in f.columns]
            if missing:
                raise InputError(f"{label}: the {side} rows have no column(s) "
                                 f"{', '.join(missing)}", f"columns present: "
                                 f"{', '.join(map(str, f.columns[:30]))}; fix the spec")
        lab_frame = None
        if sh.labels:
            lp = sh.path(sh.labels)
            lab_frame, lb, lex, _ = _generic_frame([str(lp)])
            read += len(lab_frame) + lb
            _merge(rejected, {"unparseable_line": lb})
            if lex:
                examples.setdefault("unparseable_line", lex)
            lc = sh.label_column or "label"
            if sh.id_column not in lab_frame or lc not in lab_frame:
                raise InputError(f"{lp}: the labels file needs columns {sh.id_column!r} and "
                                 f"{lc!r}")
            lab_frame = lab_frame.rename(columns={sh.id_column: "event_id", lc: "label"})
        elif sh.label_column:
            if sh.label_column not in live.columns:
                raise InputError(f"{label}: no label column {sh.label_column!r}")
            lab_frame = pd.DataFrame({"event_id": live[sh.id_column],
                                      "label": live[sh.label_column]})
            lab_frame = lab_frame[lab_frame["label"].notna() & (lab_frame["label"] != "")]
            read += len(lab_frame)
        if lab_frame is not None:
            lab_frame = lab_frame.assign(label=pd.to_numeric(lab_frame["label"],
                                                             errors="coerce"))
            badl = lab_frame["label"].isna() | ~np.isfinite(lab_frame["label"])
            if sh.output_kind == "probability":
                badl |= ~lab_frame["label"].isin([0.0, 1.0])
            _merge(rejected, {"bad_label": int(badl.sum())})
            lab_frame = lab_frame[~badl]
            # empty ids, repeats and conflicting labels: pair_shadow's label accounting
            # (conflicting labels reject every copy, so reading order cannot matter)
        for f in (live, shadow):
            if time_col:
                f["inference_time"] = pd.to_datetime(f[time_col], utc=True, errors="coerce",
                                                     format="ISO8601")
        pairs = pair_shadow(live, shadow, lab_frame, id_column=sh.id_column,
                            output_column=sh.score_column,
                            time_column="inference_time" if time_col else None,
                            features=None, carry=carry)
        files = items
        fmt = "log"
    _merge(rejected, pairs.accounting.rejected)
    examples.update(pairs.examples)
    if pairs.labels is not None:  # the label rows: missing_id, conflicts, labels_only ...
        _merge(rejected, pairs.labels.rejected)
        for k, v in pairs.labels.examples.items():
            examples.setdefault(k, v)
    frame = pairs.frame
    if sh.input_format == "log":
        for col, key in ((sh.latency_column, "latency"), (sh.error_column, "errors")):
            if not col:
                continue
            a = pd.to_numeric(frame[f"{col}_live"], errors="coerce").to_numpy(float)
            b = pd.to_numeric(frame[f"{col}_shadow"], errors="coerce").to_numpy(float)
            ok = np.isfinite(a) & np.isfinite(b)
            if (~ok).any():
                notes.append(f"{int((~ok).sum())} pairs have no numeric {col} on one side; "
                             f"left out of the {key} comparison")
            if key == "latency":
                latency = {"live": a[ok], "candidate": b[ok], "paired": True, "unit": None}
            else:
                errors = {"live": (int((a[ok] != 0).sum()), int(ok.sum())),
                          "candidate": (int((b[ok] != 0).sum()), int(ok.sum())),
                          "source": f"{col} (nonzero = error)"}
    # records used, counted directly: both records of each pair, and each attached label
    used = pairs.accounting.records_used + (pairs.labels.records_used if pairs.labels else 0)
    if used + sum(rejected.values()) != read:  # pragma: no cover - an accounting bug
        raise AssertionError(f"shadow accounting does not add up: read {read}, used {used}, "
                             f"rejected {sum(rejected.values())} ({rejected})")
    config = None
    if sh.endpoint_config:
        from ..io.cloudwatch import read_endpoint_config

        config = read_endpoint_config(sh.path(sh.endpoint_config)).to_dict()
    n_lab = int(frame["label"].notna().sum())
    live_records = len(frame) + pairs.unmatched.get("live_only", 0)
    if live_records and pairs.unmatched.get("live_only", 0) / live_records > 0.05:
        notes.append(f"{pairs.unmatched['live_only']} live requests ({pairs.unmatched['live_only'] / live_records:.1%}) "
                     "have no shadow answer: the shadow was sampled, failed or timed out")
    data_section = {"rows_read": int(read), "rows_used": int(used),
                    "rows_rejected": dict(sorted(rejected.items())),
                    "examples": dict(sorted(examples.items())),
                    "pairs": len(frame), "labelled_pairs": n_lab}
    inputs = ShadowInputs(frame, dict(pairs.unmatched), pairs.to_dict(), latency, errors,
                          config, notes)
    source = {"label": label, "format": fmt, "files": files[:1000], "engine": "pandas"}
    return inputs, data_section, source
