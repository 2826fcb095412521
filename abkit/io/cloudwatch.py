"""CloudWatch ``GetMetricData`` exports: the queries file and the results file, joined on Id.

``aws cloudwatch get-metric-data --cli-input-json file://queries.json > results.json`` gives
``{"MetricDataResults": [{"Id", "Label", "Timestamps", "Values", "StatusCode"}, ...]}``; the
metric, statistic and dimensions (SageMaker: ``EndpointName``, ``VariantName``) of each Id are
in the queries file (``MetricDataQueries[].MetricStat``). Timestamps and values pair up by
position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

__all__ = ["MetricSeries", "read_get_metric_data"]


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


def _load(path: str | Path, what: str) -> dict:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no such file: {p}", f"give the {what} file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{p}: not a JSON {what} file ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a JSON object")
    return data


def read_get_metric_data(results: str | Path, queries: str | Path) -> list[MetricSeries]:
    """Join a GetMetricData results file with its queries file.

    Raises InputError for missing files, malformed JSON, results whose Id has no query,
    queries that are math expressions (no MetricStat), and series whose timestamps and
    values differ in length. Non-finite values are refused too.
    """
    res = _load(results, "GetMetricData results")
    qry = _load(queries, "GetMetricData queries")
    by_id = {}
    for i, q in enumerate(qry.get("MetricDataQueries", [])):
        if not isinstance(q, dict) or "Id" not in q:
            raise InputError(f"{queries}: MetricDataQueries[{i}] has no Id")
        by_id[q["Id"]] = q
    out = []
    for i, r in enumerate(res.get("MetricDataResults", [])):
        rid = r.get("Id")
        q = by_id.get(rid)
        if q is None:
            raise InputError(f"{results}: MetricDataResults[{i}] has Id {rid!r}, which no "
                             f"query in {queries} defines")
        ms = q.get("MetricStat")
        if not ms:
            raise InputError(f"{queries}: query {rid!r} is an expression, not a MetricStat",
                             "export the raw metrics (Invocations, errors, ModelLatency)")
        metric = ms.get("Metric", {})
        ts, vals = r.get("Timestamps", []), r.get("Values", [])
        if len(ts) != len(vals):
            raise InputError(f"{results}: {rid!r} has {len(ts)} timestamps but "
                             f"{len(vals)} values")
        try:
            values = tuple(float(v) for v in vals)
        except (TypeError, ValueError):
            raise InputError(f"{results}: {rid!r} has a non-numeric value") from None
        if any(v != v or v in (float("inf"), float("-inf")) for v in values):
            raise InputError(f"{results}: {rid!r} has a non-finite value")
        out.append(MetricSeries(
            id=rid,
            metric=str(metric.get("MetricName", "")),
            stat=str(ms.get("Stat", "")),
            period=int(ms.get("Period", 60)),
            dimensions={d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
            timestamps=tuple(str(t) for t in ts),
            values=values,
            status=str(r.get("StatusCode", "")),
        ))
    return out
