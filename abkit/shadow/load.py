"""Read a shadow test's inputs (SageMaker capture tree or generic logs) into matched pairs,
with the whole record accounting."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..spec import ExperimentSpec
from .evaluate import ShadowInputs

__all__ = ["load_shadow", "pairs_inputs"]


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        if v:
            into[k] = into.get(k, 0) + int(v)


def _one_path(data: Any, what: str, stack: contextlib.ExitStack) -> tuple[Path, Any]:
    """The one capture tree named, as a local folder, and its :class:`abkit.io.s3.Staging`
    (an ``s3://`` prefix is copied to a temporary folder, removed when ``stack`` closes;
    None for a local tree)."""
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(items) != 1:
        raise InputError(f"a {what} analysis reads one capture tree; got {len(items)} paths",
                         "give the endpoint folder, e.g. datacapture/churn-endpoint")
    from ..io.s3 import is_s3_url, staged_tree
    from ..io.sources import check_local

    if is_s3_url(str(items[0])):
        return stack.enter_context(staged_tree(str(items[0])))
    check_local(items[0], f"the {what} capture tree")
    p = Path(items[0])
    if not p.exists():
        raise InputError(f"no such file or folder: {p}", "check the path")
    return p, None


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


def load_shadow(data: Any, spec: ExperimentSpec, plan: Any,
                engine: str = "duckdb") -> tuple[ShadowInputs, dict, dict]:
    """(inputs for the statistics, the data-accounting section, the input section) of a
    capture tree: ``plan`` (an :class:`abkit.engine.capture.CapturePlan`) reduced by
    ``engine``."""
    with contextlib.ExitStack() as stack:
        return _load_shadow(data, spec, plan, engine, stack)


def _load_shadow(data: Any, spec: ExperimentSpec, plan: Any, engine: str,
                 stack: contextlib.ExitStack) -> tuple[ShadowInputs, dict, dict]:
    from ..engine.base import get_engine

    notes: list[str] = []
    rejected: dict[str, int] = {}
    examples: dict[str, str] = {}
    root, staging = _one_path(data, "shadow", stack)
    red = get_engine(engine).reduce(root, plan)
    cap, labels, pairs = red.capture, red.labels, red.pairs
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
    _merge(rejected, pairs.accounting.rejected)
    examples.update(pairs.examples)
    if pairs.labels is not None:  # the label rows: missing_id, conflicts, labels_only ...
        _merge(rejected, pairs.labels.rejected)
        for k, v in pairs.labels.examples.items():
            examples.setdefault(k, v)
    # records used, counted directly: both records of each pair, and each attached label
    used = pairs.accounting.records_used + (pairs.labels.records_used if pairs.labels else 0)
    info = pairs.to_dict()
    if staging is not None:  # name the S3 objects, not their temporary copies
        info, notes, examples = staging.rewrite_all((info, notes, examples))
    inputs, data_section = _sections(spec, pairs.frame, dict(pairs.unmatched), info,
                                     latency, errors, notes, read, used, rejected, examples)
    source = {"label": str(root), "format": "sagemaker-capture",
              "files": [str(f) for f in cap.files][:1000], "engine": red.engine}
    if staging is not None:
        source = staging.rewrite_all(source)
    return inputs, data_section, source


def pairs_inputs(spec: ExperimentSpec, red: Any) -> tuple[ShadowInputs, dict]:
    """(inputs for the statistics, the data-accounting section) of a generic log's pairs
    (an :class:`abkit.engine.pairs.PairsReduction`): per-request latency and error flags
    from the carried columns, pairs without a number on one side left out (with a note)."""
    sh = spec.shadow
    assert sh is not None
    notes: list[str] = []
    latency = errors = None
    for col, key in ((sh.latency_column, "latency"), (sh.error_column, "errors")):
        if not col:
            continue
        a, b = red.carried[col]
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
    return _sections(spec, red.frame(), dict(red.unmatched), red.pairs_info(), latency,
                     errors, notes, red.rows_read, red.rows_used, dict(red.rejected),
                     dict(red.examples))


def _sections(spec: ExperimentSpec, frame: pd.DataFrame, unmatched: dict, info: dict,
              latency: Any, errors: Any, notes: list[str], read: int, used: int,
              rejected: dict[str, int], examples: dict[str, str]) -> tuple[ShadowInputs, dict]:
    """The statistics' inputs and the data section, with the notes every input shares."""
    sh = spec.shadow
    assert sh is not None
    if used + sum(rejected.values()) != read:  # pragma: no cover - an accounting bug
        raise AssertionError(f"shadow accounting does not add up: read {read}, used {used}, "
                             f"rejected {sum(rejected.values())} ({rejected})")
    config = None
    if sh.endpoint_config:
        from ..io.cloudwatch import read_endpoint_config

        config = read_endpoint_config(sh.path(sh.endpoint_config)).to_dict()
    n_lab = int(frame["label"].notna().sum())
    live_only = unmatched.get("live_only", 0)
    live_records = len(frame) + live_only
    if live_records and live_only / live_records > 0.05:
        notes.append(f"{live_only} live requests ({live_only / live_records:.1%}) "
                     "have no shadow answer: the shadow was sampled, failed or timed out")
    data_section = {"rows_read": int(read), "rows_used": int(used),
                    "rows_rejected": dict(sorted(rejected.items())),
                    "examples": dict(sorted(examples.items())),
                    "pairs": len(frame), "labelled_pairs": n_lab}
    inputs = ShadowInputs(frame, unmatched, info, latency, errors, config, notes)
    return inputs, data_section
