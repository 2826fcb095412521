"""SageMaker deployment guardrail: a verdict from a CloudWatch GetMetricData export.

    aws cloudwatch get-metric-data --cli-input-json file://queries.json > results.json
    python recipes/sagemaker_guardrail.py results.json queries.json \\
        --baseline blue --candidate green

Reads per-variant ``Invocations`` (Sum), ``Invocation5XXErrors`` (Sum) and ``ModelLatency``
(Average, with SampleCount if exported; microseconds) and compares the candidate with the
baseline:

* 5XX error rate: requests are the units (errors / invocations per variant), Welch test on
  the 0/1 outcomes rebuilt exactly from the counts.
* Model latency: CloudWatch keeps no per-request values, so each minute's average is one
  observation (a time-bucket analysis, Welch across minutes); per-minute percentiles are
  never averaged.

Each guardrail is tested one-sided at ``--alpha``: NO-GO (roll back) when the candidate is
significantly worse by more than the margin; GO when both are shown within their margins
(harm significantly below the margin) on at least ``--min-invocations`` candidate requests;
INCONCLUSIVE otherwise (keep the traffic where it is and look again). Prints a JSON verdict
and exits like ``abkit gate``: 0 GO, 1 NO-GO, 2 bad input, 3 INCONCLUSIVE.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from abkit.errors import AbkitError, ExitCode
from abkit.io.cloudwatch import read_get_metric_data
from abkit.stats import Estimand, MomentStats, compare, noninferiority_pvalue

MEAN = Estimand("mean", (0,))


def _series(all_series, variant: str, metric: str, stat: str) -> np.ndarray:
    """Values of one metric/statistic for a variant, ordered by timestamp."""
    found = [s for s in all_series
             if s.dimensions.get("VariantName") == variant and s.metric == metric
             and s.stat == stat]
    if not found:
        raise AbkitError(f"the export has no {metric} ({stat}) for variant {variant!r}",
                         "add that query to the GetMetricData request")
    pairs = sorted(p for s in found for p in zip(s.timestamps, s.values, strict=True))
    return np.array([v for _, v in pairs], dtype=float)


def _bernoulli(errors: float, n: float) -> MomentStats:
    """Moments of n 0/1 outcomes with ``errors`` ones (exact: M2 = n p (1 - p))."""
    n_i = int(round(n))
    p = errors / n if n else 0.0
    return MomentStats(n_i, (p,), ((n_i * p * (1.0 - p),),))


def _guardrail(res, margin_abs: float, alpha: float) -> dict:
    p_worse = noninferiority_pvalue(res, margin_abs, "increase")   # harm > margin
    p_within = noninferiority_pvalue(res, -margin_abs, "decrease")  # harm < margin
    ab = res.absolute
    return {
        "baseline": res.control_value, "candidate": res.treatment_value,
        "effect": ab.estimate, "ci": ab.ci.to_dict() if ab.ci else None,
        "margin_abs": margin_abs, "pvalue_worse": p_worse, "pvalue_within": p_within,
        "regressed": p_worse is not None and p_worse < alpha,
        "within_margin": p_within is not None and p_within < alpha,
        "diagnostics": [d.to_dict() for d in res.diagnostics],
    }


def evaluate(results: str, queries: str, baseline: str, candidate: str, *,
             error_margin: float = 0.001, latency_margin: float = 0.05, alpha: float = 0.05,
             min_invocations: int = 1000) -> dict:
    series = read_get_metric_data(results, queries)
    inv = {v: _series(series, v, "Invocations", "Sum").sum() for v in (baseline, candidate)}
    err = {v: _series(series, v, "Invocation5XXErrors", "Sum").sum()
           for v in (baseline, candidate)}
    errors = _guardrail(
        compare(_bernoulli(err[baseline], inv[baseline]),
                _bernoulli(err[candidate], inv[candidate]), MEAN, confidence_level=1 - alpha),
        error_margin, alpha)
    lat = {v: _series(series, v, "ModelLatency", "Average") / 1000.0  # microseconds -> ms
           for v in (baseline, candidate)}
    lat_res = compare(MomentStats.from_array(lat[baseline]),
                      MomentStats.from_array(lat[candidate]), MEAN,
                      confidence_level=1 - alpha)
    base_ms = lat_res.control_value or 0.0
    latency = _guardrail(lat_res, latency_margin * abs(base_ms), alpha)
    reasons = []
    for name, g in (("5XX error rate", errors), ("model latency (ms)", latency)):
        if g["regressed"]:
            reasons.append(f"{name} regressed: {g['baseline']:.4g} -> {g['candidate']:.4g}, "
                           f"worse than the margin {g['margin_abs']:.3g} "
                           f"(one-sided p = {g['pvalue_worse']:.2g})")
    if reasons:
        decision = "no-go"
    elif (errors["within_margin"] and latency["within_margin"]
          and inv[candidate] >= min_invocations):
        decision = "go"
        reasons = ["5XX error rate and model latency are within their margins"]
    else:
        decision = "inconclusive"
        reasons = ["not enough evidence yet that the candidate is within its margins "
                   f"({int(inv[candidate])} candidate invocations)"]
    return {"decision": decision, "reasons": reasons, "baseline": baseline,
            "candidate": candidate, "invocations": {k: int(v) for k, v in inv.items()},
            "errors_5xx": {k: int(v) for k, v in err.items()},
            "error_rate": errors, "latency_ms": latency, "alpha": alpha}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("queries")
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--candidate", required=True)
    ap.add_argument("--error-margin", type=float, default=0.001,
                    help="tolerated absolute rise of the 5XX rate (default 0.001 = 0.1 points)")
    ap.add_argument("--latency-margin", type=float, default=0.05,
                    help="tolerated relative rise of mean model latency (default 0.05)")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--min-invocations", type=int, default=1000)
    args = ap.parse_args(argv)
    try:
        verdict = evaluate(args.results, args.queries, args.baseline, args.candidate,
                           error_margin=args.error_margin, latency_margin=args.latency_margin,
                           alpha=args.alpha, min_invocations=args.min_invocations)
    except AbkitError as e:
        print(f"sagemaker_guardrail: error: {e}", file=sys.stderr)
        return int(ExitCode.USAGE)
    print(json.dumps(verdict, indent=2, allow_nan=False))
    return int({"go": ExitCode.GO, "no-go": ExitCode.NO_GO}.get(verdict["decision"],
                                                                ExitCode.INCONCLUSIVE))


if __name__ == "__main__":
    sys.exit(main())
