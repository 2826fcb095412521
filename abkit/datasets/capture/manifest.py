"""The ``manifest.json`` document: run parameters, formats and the truth's definitions."""

from __future__ import annotations

from .design import CATEGORICAL, FEATURES, LIVE, OUTPUT_FIELD, SHADOW, START, THRESHOLD

DEFINITIONS = {
    "record": "one Data Capture JSON line; a duplicate is a parsed line whose eventId was seen "
              "before in the same variant (the copy is byte-identical)",
    "valid_record": "parsed, first occurrence of its eventId, has inferenceId, output finite "
                    "and in [0, 1]",
    "pairs": "inferenceIds with a valid live and a valid shadow record",
    "live_only": "valid live record whose inferenceId has no valid shadow record "
                 "(split: no shadow record at all / shadow output invalid)",
    "labels_only": "label keys that match no parsed capture record (inferenceId, or the "
                   "eventId of a record without inferenceId); includes the injected unknown ids; "
                   "labels_not_in_pairs counts instead every label that matches no pair",
    "missing_inference_id": "records without inferenceId are not in live_only/shadow_only; the "
                            "*_counting_missing_inference_id variants add the valid ones, as a "
                            "reader that keys them on their eventId would count them",
    "labelled_pairs": "pairs whose inferenceId has a label; quality and McNemar use these",
    "threshold": "prediction is positive when score >= 0.5",
    "flips": "over all pairs: positive_to_negative = live positive and shadow negative",
    "mcnemar": "over labelled pairs: b = live correct and shadow wrong, c = live wrong and "
               "shadow correct",
    "score_diff": "shadow score - live score over all pairs; quantiles by numpy.quantile "
                  "(linear interpolation)",
    "auc": "Mann-Whitney U / (n1 n0) with mid-ranks for ties",
    "log_loss": "mean of -(y log s + (1 - y) log(1 - s)), natural log",
    "calibration_in_the_large": "mean score - mean label",
    "diff": "shadow - live",
    "bias.disparity": "over all pairs: positive rate of contract_type = month-to-month (group) "
                      "and of the other two contract types (rest); difference = group - rest, "
                      "ratio = group / rest (disparate impact)",
    "latency": "ModelLatency of requests that returned 2XX, microseconds; percentiles are "
               "nearest-rank (x[ceil(q n) - 1]) over all requests of the window, and the "
               "per-minute CloudWatch percentiles use the same rule; mean_of_minute_p99 is the "
               "wrong answer that averages per-minute p99s",
    "errors": "CloudWatch sums over the window; 4XX requests fail on both variants; failed "
              "requests (4XX, 5XX) are not captured",
    "drift.by_hour": "hour index from the start, by each record's own inferenceTime, valid "
                     "records",
    "cross_hour_pairs": "pairs whose live and shadow records are in different hour folders",
}


def _manifest(seed: int, n: int, hours: int, drift_hour: int, per_endpoint: dict) -> dict:
    return {
        "generator": "abkit.datasets_capture",
        "format_version": 1,
        "seed": seed,
        "requests_per_endpoint": n,
        "start": START + "Z",
        "hours": hours,
        "threshold": THRESHOLD,
        "features": list(FEATURES),
        "categorical": list(CATEGORICAL),
        "variants": {"live": LIVE, "candidate": SHADOW},
        "output_formats": {
            LIVE: {"observedContentType": "text/csv; charset=utf-8", "encoding": "CSV",
                   "example": "0.8312", "output_field": None},
            SHADOW: {"observedContentType": "application/json", "encoding": "JSON",
                     "example": '{"predictions": [{"score": 0.8312, "label": 1}]}',
                     "output_field": OUTPUT_FIELD},
        },
        "definitions": DEFINITIONS,
        "endpoints": per_endpoint,
    }
