"""Endpoint configurations and per-variant CloudWatch metrics (SageMaker)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from abkit.errors import InputError
from abkit.io.cloudwatch import (
    MetricSeries, read_endpoint_config, read_get_metric_data, variant_metrics,
)


def dump(tmp_path: Path, name: str, doc) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return p


CONFIG = {
    "EndpointConfigName": "churn-config-7",
    "ProductionVariants": [
        {"VariantName": "blue", "ModelName": "churn-v6", "InitialInstanceCount": 2,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 3.0},
        {"VariantName": "green", "ModelName": "churn-v7", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0},
    ],
    "ShadowProductionVariants": [
        {"VariantName": "shadow", "ModelName": "churn-v8", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 2.0},
    ],
    "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 100,
                          "DestinationS3Uri": "s3://bucket/datacapture"},
}


def test_endpoint_config_split_and_shadow(tmp_path):
    cfg = read_endpoint_config(dump(tmp_path, "cfg.json", CONFIG))
    assert cfg.name == "churn-config-7"
    assert [v.name for v in cfg.production] == ["blue", "green"]
    assert cfg.intended_split == {"blue": 0.75, "green": 0.25}
    assert cfg.shadow[0].weight == 2.0 and cfg.shadow[0].model_name == "churn-v8"
    assert cfg.shadow_sampling == {"shadow": 0.5}
    assert cfg.production[0].instance_count == 2
    assert cfg.data_capture["InitialSamplingPercentage"] == 100
    assert cfg.diagnostics == ()
    json.dumps(cfg.to_dict())


def test_endpoint_config_defaults_and_diagnostics(tmp_path):
    doc = {"ProductionVariants": [{"VariantName": "a"}, {"VariantName": "b"}],
           "ShadowProductionVariants": [{"VariantName": "s", "InitialVariantWeight": 5}]}
    cfg = read_endpoint_config(dump(tmp_path, "c.json", doc))
    # InitialVariantWeight defaults to 1.0 (SageMaker API reference, ProductionVariant)
    assert cfg.intended_split == {"a": 0.5, "b": 0.5}
    assert cfg.shadow_sampling == {"s": 2.5}
    assert [d.code for d in cfg.diagnostics] == ["SHADOW_WEIGHT_ABOVE_PRODUCTION"]
    doc = {"ProductionVariants": [{"VariantName": "a", "InitialVariantWeight": 0}]}
    cfg = read_endpoint_config(dump(tmp_path, "z.json", doc))
    assert cfg.intended_split is None
    assert [d.code for d in cfg.diagnostics] == ["ALL_WEIGHTS_ZERO"]


@pytest.mark.parametrize("doc, match", [
    ({}, "no ProductionVariants"),
    ({"ProductionVariants": []}, "ProductionVariants must be a non-empty list"),
    ({"ProductionVariants": ["blue"]}, r"ProductionVariants\[0\] is not an object"),
    ({"ProductionVariants": [{"ModelName": "m"}]}, r"ProductionVariants\[0\].VariantName"),
    ({"ProductionVariants": [{"VariantName": "a"},
                             {"VariantName": "b", "InitialVariantWeight": "x"}]},
     r"ProductionVariants\[1\].InitialVariantWeight is 'x'"),
    ({"ProductionVariants": [{"VariantName": "a", "InitialVariantWeight": -1}]},
     "InitialVariantWeight is -1"),
    ({"ProductionVariants": [{"VariantName": "a", "InitialInstanceCount": 1.5}]},
     "InitialInstanceCount is 1.5"),
    ({"ProductionVariants": [{"VariantName": "a"}],
      "ShadowProductionVariants": [{"VariantName": "a"}]}, "'?a'? occur more than once|a occur"),
    ({"ProductionVariants": [{"VariantName": "a"}], "ShadowProductionVariants": {"x": 1}},
     "ShadowProductionVariants must be"),
    ("[1, 2]", "expected a JSON object"),
    ("{not json", "not a JSON endpoint configuration"),
])
def test_endpoint_config_errors_name_file_and_key(tmp_path, doc, match):
    p = dump(tmp_path, "bad.json", doc)
    with pytest.raises(InputError, match=match) as e:
        read_endpoint_config(p)
    assert str(p) in e.value.message


def test_endpoint_config_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_endpoint_config(tmp_path / "nope.json")


# ------------------------------------------------------------------- variant metrics

T = ["2026-11-26T10:00:00Z", "2026-11-26T10:01:00Z", "2026-11-26T10:02:00Z"]


def export(tmp_path: Path, items, endpoint="churn-endpoint", status=None):
    """items: (id, variant, metric, stat, timestamps, values[, period[, endpoint]])."""
    queries, results = [], []
    for it in items:
        qid, var, metric, stat, ts, vals = it[:6]
        period = it[6] if len(it) > 6 else 60
        ep = it[7] if len(it) > 7 else endpoint
        queries.append({"Id": qid, "MetricStat": {
            "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric,
                       "Dimensions": [{"Name": "EndpointName", "Value": ep},
                                      {"Name": "VariantName", "Value": var}]},
            "Period": period, "Stat": stat}})
        results.append({"Id": qid, "Label": qid, "Timestamps": list(reversed(ts)),
                        "Values": list(reversed(vals)),
                        "StatusCode": (status or {}).get(qid, "Complete")})
    q = dump(tmp_path, "q.json", {"MetricDataQueries": queries})
    r = dump(tmp_path, "r.json", {"MetricDataResults": results})
    return read_get_metric_data(r, q)


def full(var="live", scale=1.0):
    return [
        (f"inv_{var}", var, "Invocations", "Sum", T, [100.0, 120.0, 80.0]),
        (f"e4_{var}", var, "Invocation4XXErrors", "Sum", T, [1.0, 0.0, 2.0]),
        (f"e5_{var}", var, "Invocation5XXErrors", "Sum", T, [0.0, 1.0, 0.0]),
        (f"n_{var}", var, "ModelLatency", "SampleCount", T, [100.0, 120.0, 80.0]),
        (f"avg_{var}", var, "ModelLatency", "Average", T,
         [45000.0 * scale, 46000.0 * scale, 44000.0 * scale]),
        (f"p50_{var}", var, "ModelLatency", "p50", T, [40000.0, 41000.0, 39000.0]),
        (f"p99_{var}", var, "ModelLatency", "p99", T[:1] + T[2:], [90000.0, 95000.0]),
        (f"max_{var}", var, "ModelLatency", "Maximum", T, [120500.0, 130000.0, 125000.0]),
    ]


def test_variant_totals_and_latency_periods(tmp_path):
    series = export(tmp_path, full("live") + full("shadow", 1.2))
    vm = variant_metrics(series)
    assert set(vm) == {"live", "shadow"}
    live = vm["live"]
    assert live.invocations == 300.0 and live.errors_4xx == 3.0 and live.errors_5xx == 1.0
    assert live.latency_unit == "ms" and live.latency_source_unit == "microseconds"
    assert live.latency_stats == ("Average", "Maximum", "SampleCount", "p50", "p99")
    # periods line up by timestamp, sorted oldest first although AWS lists newest first
    assert [p.timestamp for p in live.latency] == [pd.Timestamp(t) for t in T]
    first = live.latency[0]
    assert first.sample_count == 100.0
    assert first.stats == {"Average": 45.0, "Maximum": 120.5, "p50": 40.0, "p99": 90.0}
    # the missing p99 period is reported, not invented
    assert "p99" not in live.latency[1].stats
    assert live.missing_periods == {"p99": (pd.Timestamp(T[1]),)}
    assert any(d.code == "LATENCY_PERIODS_MISSING" for d in live.diagnostics)
    assert vm["shadow"].latency[1].stats["Average"] == pytest.approx(46000 * 1.2 / 1000)
    assert live.period_seconds == {"Invocations": 60, "Invocation4XXErrors": 60,
                                   "Invocation5XXErrors": 60, "ModelLatency": 60}
    assert live.endpoint == "churn-endpoint"
    json.dumps(live.to_dict())


def test_missing_metrics_partial_data_and_ignored_series(tmp_path):
    items = [
        ("inv", "live", "Invocations", "Sum", T, [1.0, 2.0, 3.0]),
        ("inv_n", "live", "Invocation5XXErrors", "Average", T, [0.0, 0.0, 0.0]),
        ("ovh", "live", "OverheadLatency", "Average", T, [1.0, 1.0, 1.0]),
        ("other", "live", "Invocations", "Sum", T, [9.0, 9.0, 9.0], 60, "other-endpoint"),
    ]
    series = export(tmp_path, items, status={"inv": "PartialData"})
    vm = variant_metrics(series, endpoint="churn-endpoint")
    live = vm["live"]
    assert live.invocations == 6.0 and live.errors_4xx is None and live.errors_5xx is None
    assert live.latency == ()
    codes = [d.code for d in live.diagnostics]
    assert codes.count("METRIC_MISSING") == 3  # 4XX, 5XX (only Average), ModelLatency
    assert "PARTIAL_DATA" in codes and "IGNORED_SERIES" in codes
    msg = next(d.message for d in live.diagnostics if d.code == "IGNORED_SERIES")
    assert "ovh" in msg and "other" in msg
    with pytest.raises(InputError, match="several endpoints"):
        variant_metrics(series)


def test_paged_series_merge_and_conflicts(tmp_path):
    # the same metric/stat in two pieces (pages) adds up once per timestamp
    items = [("a", "v", "Invocations", "Sum", T[:2], [1.0, 2.0]),
             ("b", "v", "Invocations", "Sum", T[1:], [2.0, 4.0])]
    assert variant_metrics(export(tmp_path, items))["v"].invocations == 7.0
    items = [("a", "v", "Invocations", "Sum", T[:2], [1.0, 2.0]),
             ("b", "v", "Invocations", "Sum", T[1:], [3.0, 4.0])]
    with pytest.raises(InputError, match="two different values"):
        variant_metrics(export(tmp_path, items))
    items = [("a", "v", "ModelLatency", "Average", T, [1.0, 2.0, 3.0], 60),
             ("b", "v", "ModelLatency", "p99", T, [1.0, 2.0, 3.0], 300)]
    with pytest.raises(InputError, match="different periods"):
        variant_metrics(export(tmp_path, items))


def test_metric_series_stays_backward_compatible(tmp_path):
    s = MetricSeries("id", "Invocations", "Sum", 60, {"VariantName": "v"},
                     ("2026-01-01T00:00:00Z",), (5.0,), "Complete")
    assert s.namespace == "" and s.label == ""
    assert variant_metrics([s])["v"].invocations == 5.0
    series = export(tmp_path, full("live"))
    assert all(x.namespace == "AWS/SageMaker" for x in series)


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_repeated_timestamp_in_one_series_does_not_depend_on_order(tmp_path, order):
    """Issue #11/#12: a repeated timestamp used to keep the value read last, so the two orders
    gave different totals. Now: the same value repeated is one point (both orders 6.0);
    different values are an error naming the series and the time (both orders)."""
    ts = [T[0], T[1], T[1], T[2]]
    same, clash = [1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 9.0, 3.0]
    if order == "reversed":
        ts, same, clash = ts[::-1], same[::-1], clash[::-1]
    got = variant_metrics(export(tmp_path, [("inv", "v", "Invocations", "Sum", ts, same)]))
    assert got["v"].invocations == 6.0
    with pytest.raises(InputError, match=r"series 'inv' has two different values at "
                                         r"2026-11-26T10:01:00\+00:00"):
        variant_metrics(export(tmp_path, [("inv", "v", "Invocations", "Sum", ts, clash)]))
