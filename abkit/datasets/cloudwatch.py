"""Seeded SageMaker CloudWatch ``GetMetricData`` exports and their shipped samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_cloudwatch_export(
    scenario: str = "ok", minutes: int = 60, seed: int = 5, endpoint: str = "churn-endpoint",
    baseline: str = "blue", candidate: str = "green",
) -> tuple[dict, dict]:
    """A SageMaker endpoint's CloudWatch ``GetMetricData`` (queries, results) pair.

    Per variant and minute: ``Invocations`` (Sum), ``Invocation5XXErrors`` (Sum),
    ``ModelLatency`` (Average and SampleCount, microseconds). ``scenario="regression"``: the
    candidate's 5XX rate is 1 % instead of 0.2 % and its latency is 15 % higher.
    """
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2026-11-26T10:00:00")
    stamps = [str(t0 + np.timedelta64(i, "m")) + "Z" for i in range(minutes)]
    queries, results = [], []
    bad = scenario == "regression"
    for variant, share in ((baseline, 0.9), (candidate, 0.1)):
        inv = rng.poisson(3000 * share, minutes).astype(float)
        rate = 0.01 if (bad and variant == candidate) else 0.002
        err = rng.binomial(inv.astype(int), rate).astype(float)
        lat_mean = 45000.0 * (1.15 if (bad and variant == candidate) else 1.0)
        lat = rng.normal(lat_mean, 2500.0 / np.sqrt(np.maximum(inv, 1) / 30), minutes)
        series = [("Invocations", "Sum", inv), ("Invocation5XXErrors", "Sum", err),
                  ("ModelLatency", "Average", np.round(lat, 1)),
                  ("ModelLatency", "SampleCount", inv)]
        for metric, stat, vals in series:
            qid = f"{metric.lower()}_{stat.lower()}_{variant}"
            queries.append({"Id": qid, "MetricStat": {
                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric,
                           "Dimensions": [{"Name": "EndpointName", "Value": endpoint},
                                          {"Name": "VariantName", "Value": variant}]},
                "Period": 60, "Stat": stat}, "ReturnData": True})
            results.append({"Id": qid, "Label": f"{metric} {variant}",
                            "Timestamps": list(reversed(stamps)),  # newest first, as AWS does
                            "Values": [float(v) for v in reversed(vals)],
                            "StatusCode": "Complete"})
    q = {"MetricDataQueries": queries, "StartTime": stamps[0], "EndTime": stamps[-1]}
    return q, {"MetricDataResults": results, "Messages": []}


def write_cloudwatch_samples(folder: str | Path = "data/cloudwatch") -> list[Path]:
    """Write the CloudWatch export samples (ok and regression) used by the SageMaker recipe."""
    import json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for scenario in ("ok", "regression"):
        q, r = make_cloudwatch_export(scenario)
        for name, doc in (("queries", q), ("results", r)):
            p = folder / f"{scenario}_{name}.json"
            p.write_text(json.dumps(doc, indent=1) + "\n")
            paths.append(p)
    return paths
