"""The CloudWatch ``GetMetricData`` export and ``DescribeEndpointConfig`` document of one
endpoint."""

from __future__ import annotations

import json

import numpy as np

from .design import _CW_SERIES, _MS_MIN, LIVE, SHADOW, VARIANTS, EndpointScenario
from .helpers import _nearest_rank


def _dump_one_per_line(doc: dict) -> str:
    """JSON text of ``doc`` with each element of its list values on one line (compact but
    still readable: one CloudWatch series per line)."""
    parts = []
    for k, v in doc.items():
        if isinstance(v, list) and v:
            body = ",\n".join("  " + json.dumps(x) for x in v)
            parts.append(f" {json.dumps(k)}: [\n{body}\n ]")
        else:
            parts.append(f" {json.dumps(k)}: {json.dumps(v)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _cw_timestamp(base: np.datetime64, minute: int) -> str:
    t = base + np.timedelta64(minute, "m")
    return str(np.datetime_as_string(t, unit="s")) + "+00:00"  # AWS CLI v2 ISO 8601 output


def _minute_stats(sim: dict, v: str) -> dict:
    """Per-minute CloudWatch statistics of one variant, computed from the per-request values."""
    t = sim["arrive"] if v == LIVE else sim["shadow_time"]
    minute = (t // _MS_MIN).astype(np.int64)
    ok = sim["served"][v]
    lat = sim["latency"][v]
    out: dict[int, dict[str, float]] = {}
    for m in np.unique(minute):
        sel = minute == m
        row = {"Invocations/Sum": float(sel.sum()),
               "Invocation4XXErrors/Sum": float((sel & sim["err4"]).sum()),
               "Invocation5XXErrors/Sum": float((sel & sim["err5"][v]).sum())}
        x = np.sort(lat[sel & ok])
        if len(x):
            row.update({"ModelLatency/SampleCount": float(len(x)),
                        "ModelLatency/Average": round(float(x.sum()) / len(x), 3),
                        "ModelLatency/Minimum": float(x[0]),
                        "ModelLatency/Maximum": float(x[-1]),
                        "ModelLatency/p50": _nearest_rank(x, 50),
                        "ModelLatency/p90": _nearest_rank(x, 90),
                        "ModelLatency/p99": _nearest_rank(x, 99)})
        out[int(m)] = row
    return out


def _cloudwatch(sim: dict, endpoint: str, base: np.datetime64, hours: int
                ) -> tuple[dict, dict, dict]:
    queries, results = [], []
    per_variant = {}
    for v in VARIANTS:
        stats = _minute_stats(sim, v)
        per_variant[v] = stats
        for metric, stat in _CW_SERIES:
            qid = f"{metric.lower()}_{stat.lower()}_{v.replace('-', '_')}"
            label = f"{metric} {stat} {v}"
            queries.append({"Id": qid, "MetricStat": {
                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric,
                           "Dimensions": [{"Name": "EndpointName", "Value": endpoint},
                                          {"Name": "VariantName", "Value": v}]},
                "Period": 60, "Stat": stat}, "Label": label, "ReturnData": True})
            key = f"{metric}/{stat}"
            minutes = sorted((m for m in stats if key in stats[m]), reverse=True)  # newest first
            results.append({"Id": qid, "Label": label,
                            "Timestamps": [_cw_timestamp(base, m) for m in minutes],
                            "Values": [stats[m][key] for m in minutes],
                            "StatusCode": "Complete"})
    end_min = hours * 60 + 5  # the shadow's replication lag can carry a request past the end
    q = {"MetricDataQueries": queries, "StartTime": _cw_timestamp(base, 0),
         "EndTime": _cw_timestamp(base, end_min), "ScanBy": "TimestampDescending"}
    return q, {"MetricDataResults": results, "Messages": []}, per_variant


def _endpoint_config(sc: EndpointScenario) -> dict:
    name = f"{sc.endpoint}-config-20261120"
    model = "churn-xgb-2026-09-14"
    shadow_model = "churn-xgb-2026-11-02" if not sc.same_model else "churn-xgb-2026-09-14"

    def variant(vname: str, mname: str) -> dict:
        return {"VariantName": vname, "ModelName": mname, "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1.0}

    return {
        "EndpointConfigName": name,
        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/{name}",
        "ProductionVariants": [variant(LIVE, model)],
        "DataCaptureConfig": {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://amzn-s3-demo-bucket/churn/datacapture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"],
                                         "JsonContentTypes": ["application/json"]},
        },
        "CreationTime": "2026-11-20T07:41:12.345000+00:00",
        "EnableNetworkIsolation": False,
        "ShadowProductionVariants": [variant(SHADOW, shadow_model)],
    }
