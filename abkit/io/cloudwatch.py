"""CloudWatch ``GetMetricData`` exports: the queries file and the results file, joined on Id.

``aws cloudwatch get-metric-data --cli-input-json file://queries.json > results.json`` gives
``{"MetricDataResults": [{"Id", "Label", "Timestamps", "Values", "StatusCode"}, ...]}``; the
metric, statistic and dimensions (SageMaker: ``EndpointName``, ``VariantName``) of each Id are
in the queries file (``MetricDataQueries[].MetricStat``). Timestamps and values pair up by
position.

Also here: :func:`variant_metrics` (per-variant totals of ``Invocations``,
``Invocation4XXErrors``, ``Invocation5XXErrors`` and per-period ``ModelLatency`` summaries, converted from the
microseconds CloudWatch stores to milliseconds). :func:`read_endpoint_config`
(``aws sagemaker describe-endpoint-config`` output: the intended split between production
variants and the shadow variants' weights) lives in :mod:`abkit.io.endpoint_config` and is
re-exported here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ..errors import InputError
from ..stats.results import Diagnostic
from .aws_json import _load
from .endpoint_config import (  # noqa: F401  (re-exported)
    EndpointConfig,
    VariantConfig,
    _variants,
    read_endpoint_config,
)

__all__ = [
    "EndpointConfig", "LatencyPeriod", "MetricSeries", "VariantConfig", "VariantMetrics",
    "read_endpoint_config", "read_get_metric_data", "variant_metrics",
]


@dataclass(frozen=True)
class MetricSeries:
    """One query's data points."""

    id: str
    metric: str
    stat: str
    period: int
    dimensions: dict[str, str]
    timestamps: tuple[str, ...]
    values: tuple[float, ...]
    status: str
    namespace: str = ""
    label: str = ""


def _need(cond: bool, file: Any, key: str, what: str) -> None:
    if not cond:
        raise InputError(f"{file}: {key} {what}",
                         "export again with `aws cloudwatch get-metric-data` (the file must "
                         "be its unedited JSON output)")


def _kind(v: Any) -> str:
    return "null" if v is None else type(v).__name__.replace("dict", "object").replace(
        "list", "array").replace("str", "string")


def _series_points(r: dict, key: str, results: Any) -> tuple[tuple[str, ...],
                                                               tuple[float, ...]]:
    """Timestamps (ISO strings) and values (finite numbers) of one result, checked."""
    ts, vals = r.get("Timestamps", []), r.get("Values", [])
    _need(isinstance(ts, list), results, f"{key}.Timestamps", f"is {_kind(ts)}, not an array")
    _need(isinstance(vals, list), results, f"{key}.Values", f"is {_kind(vals)}, not an array")
    if len(ts) != len(vals):
        raise InputError(f"{results}: {key} has {len(ts)} timestamps but {len(vals)} values")
    for j, t in enumerate(ts):
        _need(isinstance(t, str), results, f"{key}.Timestamps[{j}]",
              f"is {_kind(t)}, not an ISO 8601 time string")
    values = []
    for j, v in enumerate(vals):
        _need(isinstance(v, (int, float)) and not isinstance(v, bool), results,
              f"{key}.Values[{j}]", f"is {_kind(v)}, not a number")
        _need(math.isfinite(v), results, f"{key}.Values[{j}]", "is not finite")
        values.append(float(v))
    return tuple(ts), tuple(values)


def read_get_metric_data(results: str | Path, queries: str | Path) -> list[MetricSeries]:
    """Join a GetMetricData results file with its queries file.

    Raises InputError, naming the file and the key, for missing files, malformed JSON, a
    value of the wrong type anywhere (``null`` timestamps or values, a string where a list
    belongs), results whose Id has no query, queries that are math expressions (no
    MetricStat), and series whose timestamps and values differ in length. Non-finite values
    are refused too.
    """
    res = _load(results, "GetMetricData results")
    qry = _load(queries, "GetMetricData queries")
    by_id: dict[str, dict] = {}
    qs = qry.get("MetricDataQueries", [])
    _need(isinstance(qs, list), queries, "MetricDataQueries", f"is {_kind(qs)}, not an array")
    for i, q in enumerate(qs):
        if not isinstance(q, dict) or "Id" not in q:
            raise InputError(f"{queries}: MetricDataQueries[{i}] has no Id")
        _need(isinstance(q["Id"], str), queries, f"MetricDataQueries[{i}].Id",
              f"is {_kind(q['Id'])}, not a string")
        by_id[q["Id"]] = q
    out = []
    rs = res.get("MetricDataResults", [])
    _need(isinstance(rs, list), results, "MetricDataResults", f"is {_kind(rs)}, not an array")
    for i, r in enumerate(rs):
        if not isinstance(r, dict):
            raise InputError(f"{results}: MetricDataResults[{i}] is not an object")
        rid = r.get("Id")
        q = by_id.get(rid) if isinstance(rid, str) else None
        if q is None:
            raise InputError(f"{results}: MetricDataResults[{i}] has Id {rid!r}, which no "
                             f"query in {queries} defines")
        ms = q.get("MetricStat")
        if not ms:
            raise InputError(f"{queries}: query {rid!r} is an expression, not a MetricStat",
                             "export the raw metrics (Invocations, errors, ModelLatency)")
        qkey = f"query {rid!r}: MetricStat"
        _need(isinstance(ms, dict), queries, qkey, f"is {_kind(ms)}, not an object")
        metric = ms.get("Metric", {})
        _need(isinstance(metric, dict), queries, f"{qkey}.Metric",
              f"is {_kind(metric)}, not an object")
        dims = metric.get("Dimensions", [])
        _need(isinstance(dims, list), queries, f"{qkey}.Metric.Dimensions",
              f"is {_kind(dims)}, not an array")
        for j, d in enumerate(dims):
            _need(isinstance(d, dict) and isinstance(d.get("Name"), str)
                  and isinstance(d.get("Value"), str), queries,
                  f"{qkey}.Metric.Dimensions[{j}]", "is not {\"Name\": text, \"Value\": text}")
        period = ms.get("Period", 60)
        _need(isinstance(period, int) and not isinstance(period, bool) and period > 0,
              queries, f"{qkey}.Period", f"is {period!r}, not a positive whole number of "
              "seconds")
        for k in ("MetricName", "Namespace"):
            _need(isinstance(metric.get(k, ""), str), queries, f"{qkey}.Metric.{k}",
                  "is not a string")
        _need(isinstance(ms.get("Stat", ""), str), queries, f"{qkey}.Stat", "is not a string")
        ts, values = _series_points(r, f"MetricDataResults[{i}] ({rid!r})", results)
        out.append(MetricSeries(
            id=rid,
            metric=str(metric.get("MetricName", "")),
            stat=str(ms.get("Stat", "")),
            period=period,
            dimensions={d["Name"]: d["Value"] for d in dims},
            timestamps=ts,
            values=values,
            status=str(r.get("StatusCode", "")),
            namespace=str(metric.get("Namespace", "")),
            label=str(r.get("Label", "")),
        ))
    return out


# --------------------------------------------------------------------------- variant metrics

_METRICS = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency")
# statistics whose value is a latency (converted to ms) / a count or percentage (not)
_TIME_STAT = re.compile(r"^(average|minimum|maximum|sum|iqm|p\d+(\.\d+)?|(tm|wm|ts)\S*)$",
                        re.IGNORECASE)
_COUNT_STAT = re.compile(r"^(samplecount|(tc|pr)\S*)$", re.IGNORECASE)


@dataclass(frozen=True)
class LatencyPeriod:
    """One period of ModelLatency: its start, SampleCount, and the other statistics in ms.

    ``stats`` holds only the statistics that have a value at this timestamp; value-type
    statistics (Average, Minimum, Maximum, Sum, pNN, TM/WM/TS) are in milliseconds,
    count-type ones (TCnn, PRnn) as CloudWatch gives them.
    """

    timestamp: pd.Timestamp
    sample_count: float | None
    stats: dict[str, float]


@dataclass(frozen=True)
class VariantMetrics:
    """CloudWatch metrics of one endpoint variant.

    Totals are the Sum statistic added over the exported periods (``None`` when that metric
    was not exported with Sum; diagnostic ``METRIC_MISSING``). ``latency`` has one
    :class:`LatencyPeriod` per timestamp at which any ModelLatency statistic has a value,
    sorted by time; ``missing_periods[stat]`` lists the timestamps at which ``stat`` has no
    value although another latency statistic does (reported, never filled in). Latency is
    converted from ``latency_source_unit`` (microseconds, as CloudWatch stores SageMaker's
    ModelLatency) to ``latency_unit`` (ms).
    """

    endpoint: str | None
    variant: str
    invocations: float | None
    errors_4xx: float | None
    errors_5xx: float | None
    latency: tuple[LatencyPeriod, ...]
    latency_stats: tuple[str, ...]
    period_seconds: dict[str, int]
    missing_periods: dict[str, tuple[pd.Timestamp, ...]] = field(default_factory=dict)
    latency_unit: str = "ms"
    latency_source_unit: str = "microseconds"
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint, "variant": self.variant,
            "invocations": self.invocations, "errors_4xx": self.errors_4xx,
            "errors_5xx": self.errors_5xx, "latency_unit": self.latency_unit,
            "latency_source_unit": self.latency_source_unit,
            "latency_stats": list(self.latency_stats),
            "period_seconds": dict(self.period_seconds),
            "latency": [{"timestamp": p.timestamp.isoformat(), "sample_count": p.sample_count,
                         **p.stats} for p in self.latency],
            "missing_periods": {k: [t.isoformat() for t in v]
                                for k, v in self.missing_periods.items()},
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def _points(s: MetricSeries) -> dict[pd.Timestamp, float]:
    try:
        ts = pd.to_datetime(list(s.timestamps), utc=True, format="ISO8601")
    except (ValueError, TypeError):
        raise InputError(f"series {s.id!r} has a timestamp that is not ISO 8601") from None
    # a repeated timestamp is one point when its values agree, and an error when they do
    # not: never "the last one read wins", which would make the answer depend on order
    out: dict[pd.Timestamp, float] = {}
    for t, v in zip(ts, s.values):
        if t in out and out[t] != v:
            raise InputError(
                f"series {s.id!r} has two different values at {t.isoformat()} ({out[t]!r} "
                f"and {v!r})", "export each period once (a repeated timestamp must repeat "
                "its value)")
        out[t] = v
    return out


def _combine(found: list[MetricSeries], what: str) -> tuple[dict[pd.Timestamp, float], int]:
    """Merge the series of one variant/metric/statistic by timestamp (pages of one query,
    or the same query twice); conflicting values at one timestamp are an error."""
    periods = {s.period for s in found}
    if len(periods) > 1:
        raise InputError(f"{what} is exported at several periods ({sorted(periods)} s, "
                         f"series {', '.join(s.id for s in found)})",
                         "export one period per metric and statistic")
    merged: dict[pd.Timestamp, float] = {}
    for s in found:
        for t, v in _points(s).items():
            if t in merged and merged[t] != v:
                raise InputError(f"{what} has two different values at {t.isoformat()} "
                                 f"(series {', '.join(x.id for x in found)})",
                                 "export each metric and statistic once")
            merged[t] = v
    return merged, periods.pop()


def variant_metrics(series: Iterable[MetricSeries],
                    endpoint: str | None = None) -> dict[str, VariantMetrics]:
    """Per-variant totals and latency periods from :func:`read_get_metric_data` output.

    Uses the SageMaker invocation metrics (AWS/SageMaker namespace, dimensions EndpointName
    and VariantName; SageMaker developer guide, "SageMaker AI endpoint invocation metrics"):
    ``Invocations``, ``Invocation4XXErrors`` and ``Invocation5XXErrors`` with the Sum
    statistic (added over periods), and ``ModelLatency`` (microseconds) with any of
    SampleCount, Average, Minimum, Maximum and percentiles, kept per period and converted to
    milliseconds. Series of other metrics, without a VariantName dimension, or of another
    endpoint are left out and named in the diagnostic ``IGNORED_SERIES``; ``PartialData``
    results give ``PARTIAL_DATA`` (more pages exist). Raises InputError when the series span
    several endpoints and ``endpoint`` is not given, or when one statistic comes at several
    periods or with conflicting values.
    """
    series = list(series)
    ignored: list[str] = []
    kept: list[MetricSeries] = []
    eps = set()
    for s in series:
        if s.metric not in _METRICS or "VariantName" not in s.dimensions or \
                (s.namespace and s.namespace != "AWS/SageMaker"):
            ignored.append(s.id)
            continue
        ep = s.dimensions.get("EndpointName")
        if endpoint is not None and ep != endpoint:
            ignored.append(s.id)
            continue
        eps.add(ep)
        kept.append(s)
    if endpoint is None and len(eps) > 1:
        raise InputError(f"the export covers several endpoints "
                         f"({', '.join(sorted(str(e) for e in eps))})",
                         "pass endpoint= to pick one")
    by_var: dict[str, list[MetricSeries]] = {}
    for s in kept:
        by_var.setdefault(s.dimensions["VariantName"], []).append(s)
    out: dict[str, VariantMetrics] = {}
    for var in sorted(by_var):
        ss = by_var[var]
        diags: list[Diagnostic] = []
        groups: dict[tuple[str, str], list[MetricSeries]] = {}
        for s in ss:
            groups.setdefault((s.metric, s.stat), []).append(s)
        partial = sorted(s.id for s in ss if s.status == "PartialData")
        if partial:
            diags.append(Diagnostic("PARTIAL_DATA", f"series {', '.join(partial)} are "
                                    "PartialData: fetch the remaining pages (NextToken)"))
        periods: dict[str, int] = {}
        totals: dict[str, float | None] = {}
        for m in _METRICS[:3]:
            g = groups.get((m, "Sum"))
            if not g:
                totals[m] = None
                others = sorted(st for (mm, st) in groups if mm == m)
                diags.append(Diagnostic("METRIC_MISSING", f"{m} (Sum) was not exported"
                                        + (f" (only {', '.join(others)})" if others else "")))
                continue
            pts, per = _combine(g, f"{var}: {m} (Sum)")
            totals[m] = float(sum(pts.values()))
            periods[m] = per
        lat: dict[str, dict[pd.Timestamp, float]] = {}
        lat_per = set()
        for (m, st), g in groups.items():
            if m != "ModelLatency":
                continue
            if not (_TIME_STAT.match(st) or _COUNT_STAT.match(st)):
                diags.append(Diagnostic("UNKNOWN_STAT", f"ModelLatency {st!r} is not a "
                                        "statistic abkit knows; left out"))
                continue
            pts, per = _combine(g, f"{var}: ModelLatency ({st})")
            lat_per.add(per)
            div = 1000.0 if _TIME_STAT.match(st) else 1.0  # microseconds -> ms
            lat[st] = {t: v / div for t, v in pts.items()}
        if len(lat_per) > 1:
            raise InputError(f"{var}: ModelLatency statistics come at different periods "
                             f"({sorted(lat_per)} s), so their periods cannot line up",
                             "export every latency statistic with the same Period")
        if lat_per:
            periods["ModelLatency"] = lat_per.pop()
        else:
            diags.append(Diagnostic("METRIC_MISSING", "ModelLatency was not exported"))
        stamps = sorted(set().union(*[set(v) for v in lat.values()])) if lat else []
        missing = {st: tuple(t for t in stamps if t not in pts) for st, pts in lat.items()}
        missing = {k: v for k, v in missing.items() if v}
        if missing:
            diags.append(Diagnostic("LATENCY_PERIODS_MISSING", "; ".join(
                f"{st}: {len(v)} of {len(stamps)} periods have no value"
                for st, v in sorted(missing.items()))))
        rows = tuple(LatencyPeriod(
            t, lat["SampleCount"].get(t) if "SampleCount" in lat else None,
            {st: pts[t] for st, pts in sorted(lat.items()) if st != "SampleCount" and t in pts})
            for t in stamps)
        if ignored:
            diags.append(Diagnostic("IGNORED_SERIES", f"{len(ignored)} series not used "
                                    f"(other metrics, endpoints or no VariantName): "
                                    f"{', '.join(ignored[:8])}"
                                    + (", ..." if len(ignored) > 8 else "")))
        out[var] = VariantMetrics(
            endpoint=next(iter(eps)) if len(eps) == 1 else endpoint, variant=var,
            invocations=totals["Invocations"], errors_4xx=totals["Invocation4XXErrors"],
            errors_5xx=totals["Invocation5XXErrors"], latency=rows,
            latency_stats=tuple(sorted(lat)), period_seconds=periods,
            missing_periods=missing, diagnostics=tuple(diags))
    return out
