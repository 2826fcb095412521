"""Seeded SageMaker shadow-test data with known injected differences.

``write_shadow_capture(outdir)`` (or ``python -m abkit.datasets_capture OUTDIR [--seed N]
[--requests N]``) writes, for two SageMaker endpoints that each run a production variant
``variant-live`` and a shadow variant ``variant-shadow``::

    OUTDIR/datacapture/<endpoint>/<variant>/yyyy/mm/dd/hh/MM-SS-mmm-<uuid>.jsonl
    OUTDIR/groundtruth/<endpoint>/yyyy/mm/dd/hh/labels-yyyymmddhh.jsonl
    OUTDIR/cloudwatch/<endpoint>_queries.json      (GetMetricData --cli-input-json)
    OUTDIR/cloudwatch/<endpoint>_results.json      (GetMetricData output)
    OUTDIR/endpoint-config/<endpoint>.json         (describe-endpoint-config output)
    OUTDIR/shadow.toml, OUTDIR/shadow-same.toml    (analysis specs)
    OUTDIR/manifest.json                           (what was injected, and the realised truth)

Endpoints:

``churn-endpoint``
    The shadow is a worse candidate: its scores are a noisier function of the features
    (AUC about 0.02-0.03 lower), are shifted up by 0.03 on the probability scale (calibration),
    and by a further 0.04 for ``contract_type = month-to-month`` (a bias shift: that group's
    positive-prediction rate rises more); its latency is higher (median x1.10, p99 x1.30) and
    its 5XX rate is 1.5 % instead of 0.5 %.
``churn-endpoint-same``
    The shadow is the same model: identical scores (only the output formatting differs),
    the same latency distribution and error rate. Nothing should be flagged.

Formats follow the AWS documentation: Data Capture records (``captureData.endpointInput`` /
``endpointOutput`` with ``observedContentType``, ``mode``, ``data``, ``encoding`` = CSV, JSON or
BASE64; ``eventMetadata`` with ``eventId``, ``inferenceId``, ``inferenceTime``; ``eventVersion``
"0"), Model Monitor ground-truth records (``groundTruthData``, ``eventMetadata.eventId`` = the
capture's ``inferenceId``, or its ``eventId`` when the request had none), CloudWatch
``GetMetricData`` queries/results in the ``AWS/SageMaker`` namespace (``ModelLatency`` in
microseconds) and ``DescribeEndpointConfig`` output with ``ShadowProductionVariants``.
Sources: SageMaker Developer Guide, "Data capture" and "Ingest Ground Truth labels and merge
them with predictions" (model-monitor-model-quality-merge); "Amazon SageMaker AI metrics in
Amazon CloudWatch" (monitoring-cloudwatch); "Shadow tests"; API reference for
``DataCaptureConfig``, ``DescribeEndpointConfig`` and CloudWatch ``MetricDataResult``.

The traffic carries a feature drift (``monthly_charges`` + 0.5 sd from hour ``h0`` on) that is
in both variants' inputs, and realistic defects, each counted in the manifest: truncated lines,
duplicated records (same ``eventId``), records without ``inferenceId``, BASE64 records, NaN and
out-of-range outputs, shadow (and live) records missing, shadow records in the next hour folder,
unlabelled requests and labels for unknown ids.

Everything is derived from the seed and a fixed start time: the same seed gives a
byte-identical tree. The realised truth in ``manifest.json`` is computed from exactly the values
that were written (scores as they read back from the files), so readers can be checked against
it; the definitions are in the manifest's ``definitions`` block and in ``data/shadow/README.md``.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_REQUESTS",
    "DEFAULT_SEED",
    "ENDPOINTS",
    "SHADOW_TOML",
    "EndpointScenario",
    "main",
    "write_shadow_capture",
]

DEFAULT_SEED = 58  # of seeds 1-59, the one whose 1,000-request sample is nearest the design
DEFAULT_REQUESTS = 1000
START = "2026-11-20T08:00:00"
HOURS = 6
DRIFT_ONSET_HOUR = 3
THRESHOLD = 0.5

FEATURES = ("tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
            "contract_type", "has_fiber", "age", "days_since_last_login")
CATEGORICAL = ("contract_type", "has_fiber")
CONTRACTS = ("month-to-month", "one-year", "two-year")
GROUP = "month-to-month"
LIVE = "variant-live"
SHADOW = "variant-shadow"
VARIANTS = (LIVE, SHADOW)
OUTPUT_FIELD = "predictions[0].score"

# monthly_charges before clipping: N(60, 25) without fiber, N(82, 25) with fiber (P = 0.45)
_FIBER_P = 0.45
MONTHLY_SD = math.sqrt(25.0 ** 2 + _FIBER_P * (1 - _FIBER_P) * 22.0 ** 2)
DRIFT_SD = 0.5
DRIFT_SHIFT = round(DRIFT_SD * MONTHLY_SD, 2)

# churn model (true logit): intercept and coefficients; about 24 % positives before the drift
_B0 = -2.5

SHADOW_TOML = """\
[experiment]
strategy = "shadow"
input_format = "sagemaker-capture"
live = "variant-live"
candidate = "variant-shadow"
labels = "groundtruth/churn-endpoint"
threshold = 0.5
features = ["tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
            "contract_type", "has_fiber", "age", "days_since_last_login"]
categorical = ["contract_type", "has_fiber"]
output_field = "predictions[0].score"

[[metrics]]
name = "auc"
role = "guardrail"
margin = 0.005
"""

GUARDRAILS_TOML = """\
# Every shadow guardrail abkit has: quality (labels), latency and 5XX errors (CloudWatch),
# bias (positive-prediction parity by contract type).
# abkit gate datacapture/{endpoint} --spec {spec}
[experiment]
strategy = "shadow"
input_format = "sagemaker-capture"
live = "variant-live"
candidate = "variant-shadow"
labels = "groundtruth/{endpoint}"
cloudwatch = "cloudwatch/{endpoint}"
endpoint_config = "endpoint-config/{endpoint}.json"
threshold = 0.5
features = ["tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
            "contract_type", "has_fiber", "age", "days_since_last_login"]
categorical = ["contract_type", "has_fiber"]
group = "contract_type"
output_field = "predictions[0].score"

[[metrics]]
name = "auc"
role = "guardrail"
margin = 0.005

[[metrics]]
name = "latency_p99"
role = "guardrail"
margin = 0.5            # candidate p99 at most 1.5x live's

[[metrics]]
name = "error_rate"
role = "guardrail"
margin = 0.01           # at most +1 point of 5XX errors

[[metrics]]
name = "bias_dppl"
role = "guardrail"
margin = 0.15           # the positive-rate gap between groups moves by at most 0.15

[[metrics]]
name = "log_loss"
role = "secondary"
"""


@dataclass(frozen=True)
class EndpointScenario:
    """The injected design of one endpoint (what the generator was told to do).

    ``same_model``: the shadow returns the live model's scores. Otherwise the shadow's logit is
    the live logit plus N(0, ``shadow_extra_noise_sd``) noise, and on the probability scale it
    is shifted by ``calibration_shift`` (all requests) plus ``group_shift`` for
    ``contract_type = month-to-month``. Latency (ModelLatency, microseconds) is lognormal with
    median ``latency_median_us`` and log-sd ``latency_sigma`` for live; the shadow's median is
    multiplied by ``latency_median_ratio`` and its log-sd widened so that its p99 is
    ``latency_p99_ratio`` times live's. Error probabilities are per request and variant.
    """

    endpoint: str
    same_model: bool
    live_noise_sd: float = 0.4
    shadow_extra_noise_sd: float = 0.75
    calibration_shift: float = 0.03
    group_shift: float = 0.04
    latency_median_us: float = 38000.0
    latency_sigma: float = 0.30
    latency_median_ratio: float = 1.10
    latency_p99_ratio: float = 1.30
    error_4xx: float = 0.003
    live_5xx: float = 0.005
    shadow_5xx: float = 0.015
    capture_drop: float = 0.005
    base64_share: float = 0.03
    truncated_share: float = 0.0015
    duplicate_share: float = 0.003
    nan_share: float = 0.001
    out_of_range_share: float = 0.001
    missing_inference_id_share: float = 0.005
    label_share: float = 0.85
    unknown_label_share: float = 0.003


ENDPOINTS = (
    EndpointScenario("churn-endpoint", same_model=False),
    EndpointScenario("churn-endpoint-same", same_model=True, shadow_extra_noise_sd=0.0,
                     calibration_shift=0.0, group_shift=0.0, latency_median_ratio=1.0,
                     latency_p99_ratio=1.0, shadow_5xx=0.005),
)

_Z99 = 2.3263478740408408  # scipy.stats.norm.ppf(0.99)
_DEFECTS = ("none", "truncated", "duplicate", "nan", "out_of_range")
_CW_SERIES = (("Invocations", "Sum"), ("Invocation4XXErrors", "Sum"),
              ("Invocation5XXErrors", "Sum"), ("ModelLatency", "SampleCount"),
              ("ModelLatency", "Average"), ("ModelLatency", "Minimum"),
              ("ModelLatency", "Maximum"), ("ModelLatency", "p50"), ("ModelLatency", "p90"),
              ("ModelLatency", "p99"))
_MS_HOUR = 3_600_000
_MS_MIN = 60_000


# ---------------------------------------------------------------------------------------------
# small helpers


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _uuid4s(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` RFC 4122 version-4 UUID strings drawn from ``rng`` (deterministic)."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    out = []
    for row in b:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _hex_ids(rng: np.random.Generator, n: int, prefix: str, taken: set[str]) -> list[str]:
    """``n`` distinct ids ``prefix + 12 hex digits`` not in ``taken``."""
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        for v in rng.integers(0, 1 << 48, size=n - len(out), dtype=np.int64):
            s = f"{prefix}{int(v):012x}"
            if s not in seen:
                seen.add(s)
                out.append(s)
    return out


def _fmt_score(x: float) -> str:
    return f"{x:.4f}"


def _canonical(scores: np.ndarray) -> np.ndarray:
    """The scores as they read back from the 4-decimal text written to the files."""
    return np.array([float(_fmt_score(s)) for s in scores])


def _nearest_rank(sorted_x: np.ndarray, q: float) -> float:
    """Nearest-rank percentile ``x[ceil(q/100 * n) - 1]`` of an ascending array."""
    n = len(sorted_x)
    k = max(math.ceil(q / 100.0 * n), 1)
    return float(sorted_x[k - 1])


def _r(x: float | None, nd: int = 6) -> float | None:
    """Round for the manifest (stable text across platforms); ``None`` stays ``None``."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return round(x, nd)


def _auc(score: np.ndarray, y: np.ndarray) -> float | None:
    """Area under the ROC curve: the Mann-Whitney U / (n1 n0) with mid-ranks for ties."""
    from scipy.stats import rankdata

    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _stamp(base: np.datetime64, ms: np.ndarray) -> np.ndarray:
    """ISO 8601 seconds + 'Z' (as in ``eventMetadata.inferenceTime``)."""
    t = base + ms.astype("timedelta64[ms]")
    return np.char.add(np.datetime_as_string(t, unit="s"), "Z")


def _hour_dirs(base: np.datetime64, ms: np.ndarray) -> np.ndarray:
    """``yyyy/mm/dd/hh`` of each time."""
    h = np.datetime_as_string((base + ms.astype("timedelta64[ms]")).astype("datetime64[h]"),
                              unit="h")  # 'YYYY-MM-DDTHH'
    return np.array([f"{s[0:4]}/{s[5:7]}/{s[8:10]}/{s[11:13]}" for s in h])


def _pick(rng: np.random.Generator, eligible: np.ndarray, share: float, minimum: int) -> np.ndarray:
    """Indices: ``max(minimum, round(share * n))`` of the eligible positions, sorted."""
    idx = np.flatnonzero(eligible)
    k = min(len(idx), max(minimum, round(share * len(idx))))
    return np.sort(rng.choice(idx, size=k, replace=False)) if k else idx[:0]


# ---------------------------------------------------------------------------------------------
# simulation


def _arrivals(rng: np.random.Generator, n: int, hours: int) -> np.ndarray:
    """Arrival times (ms from the start) of ``n`` requests with a diurnal-ish rate.

    Rate per second proportional to ``0.35 + 0.65 sin(2 pi (clock_hour - 6) / 24)`` with the
    clock starting at 08:00 (rising to a peak at 12:00), sampled by inverting the cumulative
    rate on a 1-second grid.
    """
    secs = np.arange(hours * 3600)
    clock = 8.0 + secs / 3600.0
    rate = 0.35 + 0.65 * np.sin(2 * np.pi * (clock - 6.0) / 24.0)
    cdf = np.cumsum(rate)
    cdf /= cdf[-1]
    s = np.searchsorted(cdf, rng.random(n))
    ms = s * 1000 + rng.integers(0, 1000, n)
    return ms.astype(np.int64)


def _force_cross_hour(rng: np.random.Generator, arrive: np.ndarray, lag: np.ndarray,
                      hours: int, minimum: int = 2) -> np.ndarray:
    """Make at least ``minimum`` requests per internal hour boundary whose shadow record is
    written after the top of the hour while the live one is before it (moves a few arrivals
    from the last ten minutes of the hour to just before the boundary)."""
    arrive = arrive.copy()
    for b in range(1, hours):
        edge = b * _MS_HOUR
        crossing = (arrive < edge) & (arrive + lag >= edge)
        need = minimum - int(crossing.sum())
        if need <= 0:
            continue
        cand = np.flatnonzero((arrive >= edge - 10 * _MS_MIN) & (arrive < edge) & ~crossing)
        if len(cand) < need:
            cand = np.flatnonzero((arrive < edge) & ~crossing)
        chosen = rng.choice(cand, size=min(need, len(cand)), replace=False)
        d = np.maximum(1, (lag[chosen] * rng.uniform(0.2, 0.8, len(chosen))).astype(np.int64))
        arrive[chosen] = edge - d
    return arrive


def _simulate(sc: EndpointScenario, seed: int, index: int, n: int, hours: int,
              drift_hour: int) -> dict:
    """All per-request quantities of one endpoint (no I/O)."""
    ss = np.random.SeedSequence([seed, index])
    (r_time, r_feat, r_label, r_model, r_serve, r_defect, r_ids, r_gt) = (
        np.random.default_rng(s) for s in ss.spawn(8))

    # --- traffic: arrival times and shadow replication lag ----------------------------------
    arrive = _arrivals(r_time, n, hours)
    lag = np.minimum(150 + np.round(r_time.lognormal(np.log(600.0), 0.9, n)), 120_000)
    lag = lag.astype(np.int64)
    arrive = _force_cross_hour(r_time, arrive, lag, hours)
    order = np.argsort(arrive, kind="stable")
    arrive, lag = arrive[order], lag[order]

    # --- features (the drift belongs to the traffic: both variants see the same payload) ----
    tenure = np.clip(np.round(r_feat.gamma(1.3, 20.0, n)), 0, 72).astype(int)
    p_m2m = np.clip(0.75 - 0.008 * tenure, 0.15, 0.9)
    u1, u2 = r_feat.random(n), r_feat.random(n)
    contract = np.where(u1 < p_m2m, 0, np.where(u2 < 0.55, 1, 2))
    fiber = (r_feat.random(n) < _FIBER_P).astype(int)
    monthly_base = np.clip(r_feat.normal(60.0 + 22.0 * fiber, 25.0), 18.25, 140.0)
    drifted = arrive >= drift_hour * _MS_HOUR
    monthly = np.round(np.clip(monthly_base + DRIFT_SHIFT * drifted, 18.25, 160.0), 2)
    # total charges are history: tenure x the pre-rise bill (the price rise is on new bills)
    total = np.round(np.maximum(tenure, 1) * monthly_base * r_feat.uniform(0.92, 1.04, n), 2)
    tickets = r_feat.poisson(0.6 + 0.4 * (contract == 0), n)
    age = np.clip(np.round(r_feat.normal(45.0, 15.0, n)), 18, 85).astype(int)
    days = np.round(r_feat.exponential(9.0, n)).astype(int)

    # --- labels: churn from a logistic model of the features ---------------------------------
    z = (_B0 + 1.3 * (contract == 0) - 0.8 * (contract == 2) - 0.03 * tenure
         + 0.02 * (monthly - 65.0) + 0.4 * tickets + 0.4 * fiber - 0.012 * (age - 45)
         + 0.05 * days)
    y = (r_label.random(n) < _sigmoid(z)).astype(int)

    # --- models -------------------------------------------------------------------------------
    e_live = r_model.normal(0.0, sc.live_noise_sd, n)
    e_shadow = r_model.normal(0.0, 1.0, n)
    live_raw = np.clip(_sigmoid(z + e_live), 1e-4, 1 - 1e-4)
    if sc.same_model:
        shadow_raw = live_raw.copy()
    else:
        shadow_raw = np.clip(_sigmoid(z + e_live + sc.shadow_extra_noise_sd * e_shadow)
                             + sc.calibration_shift + sc.group_shift * (contract == 0),
                             1e-4, 1 - 1e-4)
    live_score = _canonical(live_raw)
    shadow_score = _canonical(shadow_raw)

    # --- serving: errors and latency ----------------------------------------------------------
    err4 = r_serve.random(n) < sc.error_4xx
    err5_live = ~err4 & (r_serve.random(n) < sc.live_5xx)
    err5_shadow = ~err4 & (r_serve.random(n) < sc.shadow_5xx)
    mu_live = math.log(sc.latency_median_us)
    mu_shadow = math.log(sc.latency_median_us * sc.latency_median_ratio)
    sig_shadow = sc.latency_sigma + math.log(sc.latency_p99_ratio / sc.latency_median_ratio) / _Z99
    lat_live = np.maximum(np.round(r_serve.lognormal(mu_live, sc.latency_sigma, n)), 1)
    lat_shadow = np.maximum(np.round(r_serve.lognormal(mu_shadow, sig_shadow, n)), 1)
    served_live = ~err4 & ~err5_live
    served_shadow = ~err4 & ~err5_shadow

    # --- capture defects ----------------------------------------------------------------------
    has_inf = np.ones(n, dtype=bool)
    no_inf = _pick(r_defect, served_live & served_shadow, sc.missing_inference_id_share, 2)
    has_inf[no_inf] = False
    captured = {LIVE: served_live & ~(r_defect.random(n) < sc.capture_drop),
                SHADOW: served_shadow & ~(r_defect.random(n) < sc.capture_drop)}
    defect = {}
    base64_rec = {}
    for v in VARIANTS:
        d = np.zeros(n, dtype=np.int8)
        free = captured[v] & has_inf
        for code, share, minimum in ((1, sc.truncated_share, 2), (2, sc.duplicate_share, 2),
                                     (3, sc.nan_share, 1), (4, sc.out_of_range_share, 1)):
            chosen = _pick(r_defect, free & (d == 0), share, minimum)
            d[chosen] = code
        defect[v] = d
        base64_rec[v] = captured[v] & (r_defect.random(n) < sc.base64_share)
    oor_value = {v: np.where(r_defect.random(n) < 0.5,
                             np.round(1.0 + r_defect.uniform(0.01, 0.5, n), 4),
                             np.round(-r_defect.uniform(0.01, 0.2, n), 4)) for v in VARIANTS}

    # --- ids ----------------------------------------------------------------------------------
    inference_id = np.array(_hex_ids(r_ids, n, "req-", set()))
    event_id = {v: np.array(_uuid4s(r_ids, n)) for v in VARIANTS}

    # --- ground truth: labels arrive 20 min to hours after the inference ----------------------
    parse_live = captured[LIVE] & (defect[LIVE] != 1)
    has_label = served_live & (r_gt.random(n) < sc.label_share) & (has_inf | parse_live)
    label_delay = (20 * _MS_MIN + np.round(r_gt.exponential(100 * _MS_MIN, n))).astype(np.int64)
    label_delay = np.minimum(label_delay, 10 * _MS_HOUR)
    n_unknown = max(3, round(sc.unknown_label_share * n))
    unknown_ids = np.array(_hex_ids(r_gt, n_unknown, "req-", set(inference_id.tolist())))
    unknown_time = (r_gt.integers(0, hours * _MS_HOUR, n_unknown)
                    + 20 * _MS_MIN + np.round(r_gt.exponential(100 * _MS_MIN, n_unknown)))
    unknown_y = (r_gt.random(n_unknown) < 0.25).astype(int)
    r_files = np.random.default_rng(np.random.SeedSequence([seed, index, 99]))

    return {
        "n": n, "arrive": arrive, "lag": lag, "shadow_time": arrive + lag, "drifted": drifted,
        "tenure": tenure, "contract": contract, "fiber": fiber, "monthly": monthly,
        "total": total, "tickets": tickets, "age": age, "days": days, "z": z, "y": y,
        "score": {LIVE: live_score, SHADOW: shadow_score},
        "err4": err4, "err5": {LIVE: err5_live, SHADOW: err5_shadow},
        "served": {LIVE: served_live, SHADOW: served_shadow},
        "latency": {LIVE: lat_live.astype(np.int64), SHADOW: lat_shadow.astype(np.int64)},
        "has_inf": has_inf, "captured": captured, "defect": defect, "base64": base64_rec,
        "oor_value": oor_value, "inference_id": inference_id, "event_id": event_id,
        "has_label": has_label, "label_time": arrive + label_delay,
        "unknown_ids": unknown_ids, "unknown_time": unknown_time.astype(np.int64),
        "unknown_y": unknown_y, "r_files": r_files,
    }


# ---------------------------------------------------------------------------------------------
# writing


def _input_csv(sim: dict, i: int) -> str:
    return (f"{sim['tenure'][i]},{float(sim['monthly'][i])!r},{float(sim['total'][i])!r},"
            f"{sim['tickets'][i]},{CONTRACTS[sim['contract'][i]]},{sim['fiber'][i]},"
            f"{sim['age'][i]},{sim['days'][i]}")


def _output(variant: str, score: float, defect: int, oor: float) -> tuple[str, str, str]:
    """(observedContentType, encoding, payload) of one variant's output."""
    if defect == 3:
        score = float("nan")
    elif defect == 4:
        score = float(oor)
    if variant == LIVE:
        text = "nan" if math.isnan(score) else _fmt_score(score)
        return "text/csv; charset=utf-8", "CSV", text
    label = 1 if not math.isnan(score) and score >= THRESHOLD else 0
    # Python's json writes NaN as the bare token NaN, as a Python model server would
    text = json.dumps({"predictions": [{"score": score, "label": label}]})
    return "application/json", "JSON", text


def _capture_line(sim: dict, variant: str, i: int, stamp: str) -> str:
    payload_in = _input_csv(sim, i)
    ct_out, enc_out, payload_out = _output(variant, float(sim["score"][variant][i]),
                                           int(sim["defect"][variant][i]),
                                           float(sim["oor_value"][variant][i]))
    enc_in = "CSV"
    if sim["base64"][variant][i]:
        payload_in = base64.b64encode(payload_in.encode()).decode()
        payload_out = base64.b64encode(payload_out.encode()).decode()
        enc_in = enc_out = "BASE64"
    meta = {"eventId": str(sim["event_id"][variant][i])}
    if sim["has_inf"][i]:
        meta["inferenceId"] = str(sim["inference_id"][i])
    meta["inferenceTime"] = stamp
    rec = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                              "data": payload_in, "encoding": enc_in},
            "endpointOutput": {"observedContentType": ct_out, "mode": "OUTPUT",
                               "data": payload_out, "encoding": enc_out},
        },
        "eventMetadata": meta,
        "eventVersion": "0",
    }
    return json.dumps(rec, separators=(",", ":"))


def _truncate(line: str, rng: np.random.Generator) -> str:
    cut = int(len(line) * rng.uniform(0.2, 0.8))
    return line[:cut]


def _write_capture(sim: dict, root: Path, endpoint: str, base: np.datetime64) -> dict:
    """Write both variants' capture files; return per-variant file counts and hour folders."""
    rng = sim["r_files"]
    info = {}
    for v in VARIANTS:
        t = sim["arrive"] if v == LIVE else sim["shadow_time"]
        idx = np.flatnonzero(sim["captured"][v])
        idx = idx[np.argsort(t[idx], kind="stable")]
        stamps = _stamp(base, t[idx])
        dirs = _hour_dirs(base, t[idx])
        # files: a new file every 20 minutes of the hour, named after its first record's time
        seg = (t[idx] // (20 * _MS_MIN)).astype(np.int64)
        files: dict[tuple[str, int], list[str]] = {}
        names: dict[tuple[str, int], str] = {}
        for k, i in enumerate(idx):
            key = (dirs[k], int(seg[k]))
            line = _capture_line(sim, v, int(i), str(stamps[k]))
            d = int(sim["defect"][v][i])
            if key not in files:
                files[key] = []
                ms = int(t[i])
                mm, sec, milli = (ms // _MS_MIN) % 60, (ms // 1000) % 60, ms % 1000
                names[key] = f"{mm:02d}-{sec:02d}-{milli:03d}"
            if d == 1:
                files[key].append(_truncate(line, rng))
            else:
                files[key].append(line)
                if d == 2:
                    files[key].append(line)  # at-least-once delivery: the same record twice
        keys = sorted(files)
        uuids = _uuid4s(rng, len(keys))
        for key, u in zip(keys, uuids):
            path = root / endpoint / v / key[0] / f"{names[key]}-{u}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(("\n".join(files[key]) + "\n").encode())
        info[v] = {"files": len(keys), "hour_folders": sorted({k[0] for k in keys})}
    return info


def _write_groundtruth(sim: dict, root: Path, endpoint: str, base: np.datetime64) -> dict:
    lab = np.flatnonzero(sim["has_label"])
    keys = np.where(sim["has_inf"][lab], sim["inference_id"][lab], sim["event_id"][LIVE][lab])
    times = np.concatenate([sim["label_time"][lab], sim["unknown_time"]])
    keys = np.concatenate([keys, sim["unknown_ids"]])
    ys = np.concatenate([sim["y"][lab], sim["unknown_y"]])
    order = np.lexsort((keys, times))
    dirs = _hour_dirs(base, times[order])
    by_dir: dict[str, list[str]] = {}
    for k, j in enumerate(order):
        rec = {"groundTruthData": {"data": str(int(ys[j])), "encoding": "CSV"},
               "eventMetadata": {"eventId": str(keys[j])}, "eventVersion": "0"}
        by_dir.setdefault(dirs[k], []).append(json.dumps(rec, separators=(",", ":")))
    for d in sorted(by_dir):
        path = root / endpoint / d / f"labels-{d.replace('/', '')}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\n".join(by_dir[d]) + "\n").encode())
    return {"files": len(by_dir), "records": len(keys),
            "hour_folders": sorted(by_dir)}


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


# ---------------------------------------------------------------------------------------------
# realised truth


def _quality(s: np.ndarray, y: np.ndarray) -> dict:
    pred = s >= THRESHOLD
    with np.errstate(divide="ignore"):
        ll = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)) if len(y) else None
    return {"auc": _auc(s, y), "accuracy": float(np.mean(pred == y)) if len(y) else None,
            "brier": float(np.mean((s - y) ** 2)) if len(y) else None, "log_loss": ll,
            "calibration_in_the_large": float(s.mean() - y.mean()) if len(y) else None,
            "mean_score": float(s.mean()) if len(y) else None}


def _ks(a: np.ndarray, b: np.ndarray) -> dict:
    from scipy.stats import ks_2samp

    if len(a) == 0 or len(b) == 0:
        return {"statistic": None, "pvalue": None, "n_before": len(a), "n_after": len(b)}
    r = ks_2samp(a, b)
    return {"statistic": _r(r.statistic), "pvalue": _r(r.pvalue, 12),
            "n_before": len(a), "n_after": len(b)}


def _truth(sim: dict, base: np.datetime64, drift_hour: int, per_minute: dict) -> dict:
    from scipy.stats import spearmanr

    n = sim["n"]
    has_inf = sim["has_inf"]
    # --- records as a reader sees them ---------------------------------------------------------
    rec = {}
    parse, valid = {}, {}
    for v in VARIANTS:
        cap, d = sim["captured"][v], sim["defect"][v]
        parse[v] = cap & (d != 1)
        valid[v] = parse[v] & has_inf & (d != 3) & (d != 4)
        rec[v] = {
            "lines": int(cap.sum() + (cap & (d == 2)).sum()),
            "unparseable_lines": int((cap & (d == 1)).sum()),
            "parsed_records": int(parse[v].sum() + (cap & (d == 2)).sum()),
            "duplicate_records": int((cap & (d == 2)).sum()),
            "unique_records": int(parse[v].sum()),
            "missing_inference_id": int((parse[v] & ~has_inf).sum()),
            "base64_records": int((parse[v] & sim["base64"][v]).sum()),
            "non_finite_output": int((parse[v] & (d == 3)).sum()),
            "out_of_range_output": int((parse[v] & (d == 4)).sum()),
            "valid_records": int(valid[v].sum()),
        }
    pairs = valid[LIVE] & valid[SHADOW]
    with_id = {v: parse[v] & has_inf for v in VARIANTS}
    live_only = valid[LIVE] & ~valid[SHADOW]
    shadow_only = valid[SHADOW] & ~valid[LIVE]
    unmatched = {
        "live_only": int(live_only.sum()),
        "live_only_no_shadow_record": int((live_only & ~with_id[SHADOW]).sum()),
        "live_only_shadow_output_invalid": int((live_only & with_id[SHADOW]).sum()),
        "shadow_only": int(shadow_only.sum()),
        "shadow_only_no_live_record": int((shadow_only & ~with_id[LIVE]).sum()),
        "shadow_only_live_output_invalid": int((shadow_only & with_id[LIVE]).sum()),
        # the same, when records without inferenceId are keyed on their own eventId (they
        # can then never pair, so each valid one is unmatched)
        "live_only_counting_missing_inference_id": int(
            live_only.sum() + (parse[LIVE] & ~has_inf & (sim["defect"][LIVE] < 3)).sum()),
        "shadow_only_counting_missing_inference_id": int(
            shadow_only.sum() + (parse[SHADOW] & ~has_inf & (sim["defect"][SHADOW] < 3)).sum()),
    }
    # causes (generator-side, not observable in the files)
    causes = {}
    for v, other in ((SHADOW, LIVE), (LIVE, SHADOW)):
        miss = valid[other] & ~with_id[v]
        causes[f"{'live_only' if v == SHADOW else 'shadow_only'}_because_{v}"] = {
            "5xx": int((miss & sim["err5"][v]).sum()),
            "capture_dropped": int((miss & sim["served"][v] & ~sim["captured"][v]).sum()),
            "truncated": int((miss & sim["captured"][v] & (sim["defect"][v] == 1)).sum()),
        }
    # --- labels ---------------------------------------------------------------------------------
    has_label = sim["has_label"]
    matched_any = np.where(has_inf, parse[LIVE] | parse[SHADOW], parse[LIVE])
    label_only_known = has_label & ~matched_any
    labels = {
        "records": int(has_label.sum() + len(sim["unknown_ids"])),
        "keyed_on_event_id": int((has_label & ~has_inf).sum()),
        "labels_only": int(label_only_known.sum() + len(sim["unknown_ids"])),
        "labels_only_unknown_ids": len(sim["unknown_ids"]),
        "labels_not_in_pairs": int(has_label.sum() + len(sim["unknown_ids"])
                                   - (pairs & has_label).sum()),
        "labelled_pairs": int((pairs & has_label).sum()),
        "unlabelled_pairs": int((pairs & ~has_label).sum()),
        "positives_in_labelled_pairs": int(sim["y"][pairs & has_label].sum()),
    }
    # --- matched-pair comparisons ---------------------------------------------------------------
    sl, ss = sim["score"][LIVE][pairs], sim["score"][SHADOW][pairs]
    pl, ps = sl >= THRESHOLD, ss >= THRESHOLD
    diff = ss - sl
    qs = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    rho = spearmanr(sl, ss).statistic if len(sl) > 2 and sl.std() > 0 and ss.std() > 0 else None
    comparison = {
        "pairs": int(pairs.sum()),
        "cross_hour_pairs": int((pairs & ((sim["arrive"] // _MS_HOUR)
                                          != (sim["shadow_time"] // _MS_HOUR))).sum()),
        "agreement": _r(np.mean(pl == ps)),
        "flips": {"positive_to_negative": int((pl & ~ps).sum()),
                  "negative_to_positive": int((~pl & ps).sum())},
        "score_diff": {"mean": _r(diff.mean()), "mean_abs": _r(np.abs(diff).mean()),
                       "quantiles": {str(q): _r(np.quantile(diff, q)) for q in qs}},
        "spearman": _r(rho),
    }
    lab = pairs & has_label
    yl = sim["y"][lab]
    ql = _quality(sim["score"][LIVE][lab], yl)
    qsh = _quality(sim["score"][SHADOW][lab], yl)
    quality = {k: {"live": _r(ql[k]), "shadow": _r(qsh[k]),
                   "diff": _r(None if ql[k] is None or qsh[k] is None else qsh[k] - ql[k])}
               for k in ql}
    cl = (sim["score"][LIVE][lab] >= THRESHOLD) == yl
    cs = (sim["score"][SHADOW][lab] >= THRESHOLD) == yl
    mcnemar = {"b": int((cl & ~cs).sum()), "c": int((~cl & cs).sum())}
    # --- bias by contract type ------------------------------------------------------------------
    contract = sim["contract"]
    groups = {}
    for g, name in enumerate(CONTRACTS):
        sel = pairs & (contract == g)
        sel_l = lab & (contract == g)
        row = {"pairs": int(sel.sum()), "labelled_pairs": int(sel_l.sum())}
        for v in VARIANTS:
            s = sim["score"][v]
            row[v] = {"positive_rate": _r(np.mean(s[sel] >= THRESHOLD)) if sel.any() else None,
                      "accuracy": (_r(np.mean((s[sel_l] >= THRESHOLD) == sim["y"][sel_l]))
                                   if sel_l.any() else None)}
        groups[name] = row
    disparity = {}
    for v in VARIANTS:
        s = sim["score"][v]
        a = np.mean(s[pairs & (contract == 0)] >= THRESHOLD)
        b = np.mean(s[pairs & (contract != 0)] >= THRESHOLD)
        disparity[v] = {"positive_rate_group": _r(a), "positive_rate_rest": _r(b),
                        "difference": _r(a - b), "ratio": _r(a / b) if b > 0 else None}
    bias = {"column": "contract_type", "group": GROUP, "rest": [c for c in CONTRACTS if c != GROUP],
            "by_group": groups, "disparity": disparity,
            "difference_change": _r(disparity[SHADOW]["difference"]
                                    - disparity[LIVE]["difference"])}
    # --- latency and errors (CloudWatch) --------------------------------------------------------
    latency, errors = {}, {}
    for v in VARIANTS:
        x = np.sort(sim["latency"][v][sim["served"][v]])
        p99s = [row["ModelLatency/p99"] for row in per_minute[v].values()
                if "ModelLatency/p99" in row]
        cnts = [row["ModelLatency/SampleCount"] for row in per_minute[v].values()
                if "ModelLatency/p99" in row]
        latency[v] = {"samples": len(x), "mean_us": _r(x.mean(), 3),
                      **{f"p{q}_us": _nearest_rank(x, q) for q in (50, 90, 95, 99)},
                      "minimum_us": float(x[0]), "maximum_us": float(x[-1]),
                      "mean_of_minute_p99_us": _r(np.mean(p99s), 3),
                      "count_weighted_mean_of_minute_p99_us": _r(np.average(p99s, weights=cnts),
                                                                 3),
                      "minutes_with_data": len(p99s)}
        inv = int(n)
        errors[v] = {"invocations": inv, "4xx": int(sim["err4"].sum()),
                     "5xx": int(sim["err5"][v].sum()),
                     "5xx_rate": _r(sim["err5"][v].sum() / inv),
                     "4xx_rate": _r(sim["err4"].sum() / inv)}
    latency["ratio"] = {f"p{q}": _r(latency[SHADOW][f"p{q}_us"] / latency[LIVE][f"p{q}_us"])
                        for q in (50, 90, 95, 99)}
    latency["ratio"]["mean"] = _r(latency[SHADOW]["mean_us"] / latency[LIVE]["mean_us"])
    # --- drift ----------------------------------------------------------------------------------
    by_hour = {}
    for v in VARIANTS:
        t = sim["arrive"] if v == LIVE else sim["shadow_time"]
        hr = t // _MS_HOUR
        rows = []
        for h in range(int(hr.max()) + 1):
            sel = valid[v] & (hr == h)
            rows.append({"hour": h, "records": int(sel.sum()),
                         "monthly_charges_mean": _r(sim["monthly"][sel].mean(), 4)
                         if sel.any() else None})
        by_hour[v] = rows
    ks = {}
    for v in VARIANTS:
        t = sim["arrive"] if v == LIVE else sim["shadow_time"]
        before = valid[v] & (t < drift_hour * _MS_HOUR)
        after = valid[v] & (t >= drift_hour * _MS_HOUR)
        ks[v] = {"monthly_charges": _ks(sim["monthly"][before], sim["monthly"][after]),
                 "tenure_months": _ks(sim["tenure"][before], sim["tenure"][after])}
    pre = ~sim["drifted"]
    drift = {
        "feature": "monthly_charges",
        "onset_hour": drift_hour,
        "onset_time": str(np.datetime_as_string(base + np.timedelta64(drift_hour, "h"),
                                                unit="s")) + "Z",
        "shift": DRIFT_SHIFT, "shift_in_design_sd": DRIFT_SD, "design_sd": _r(MONTHLY_SD, 4),
        "in_both_variants": True,
        "undrifted_features": [f for f in FEATURES if f != "monthly_charges"],
        "realised_mean_before": _r(sim["monthly"][pre].mean(), 4),
        "realised_mean_after": _r(sim["monthly"][~pre].mean(), 4),
        "realised_sd_before": _r(sim["monthly"][pre].std(ddof=1), 4),
        "label_rate_before": _r(sim["y"][pre].mean(), 4),
        "label_rate_after": _r(sim["y"][~pre].mean(), 4),
        "ks_before_after": ks,
        "by_hour": by_hour,
    }
    return {
        "records": rec, "unmatched": unmatched, "unmatched_causes": causes, "labels": labels,
        **comparison, "quality": quality, "mcnemar": mcnemar, "bias": bias,
        "latency": latency, "errors": errors, "drift": drift,
    }


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


# ---------------------------------------------------------------------------------------------
# public entry points

_GENERATED = ("datacapture", "groundtruth", "cloudwatch", "endpoint-config")
_GENERATED_FILES = ("manifest.json", "shadow.toml", "shadow-same.toml", "guardrails.toml",
                    "guardrails-same.toml")


def _prepare(outdir: Path) -> None:
    """Clear a previous tree of ours; refuse to write over anything else."""
    outdir.mkdir(parents=True, exist_ok=True)
    present = [p for p in (*_GENERATED, *_GENERATED_FILES) if (outdir / p).exists()]
    if not present:
        return
    mf = outdir / "manifest.json"
    try:
        ours = json.loads(mf.read_text())["generator"] == "abkit.datasets_capture"
    except (OSError, ValueError, KeyError, TypeError):
        ours = False
    if not ours:
        raise FileExistsError(f"{outdir} already holds {', '.join(present)} and no manifest.json "
                              "of abkit.datasets_capture; choose an empty folder")
    for p in _GENERATED:
        if (outdir / p).exists():
            shutil.rmtree(outdir / p)
    for p in _GENERATED_FILES:
        (outdir / p).unlink(missing_ok=True)


def write_shadow_capture(outdir: str | Path, *, seed: int = DEFAULT_SEED,
                         requests: int = DEFAULT_REQUESTS, hours: int = HOURS,
                         drift_hour: int = DRIFT_ONSET_HOUR) -> dict:
    """Write the two-endpoint shadow-test tree under ``outdir`` and return its manifest.

    Parameters: ``seed`` (default 58; the sample in ``data/shadow`` uses it), ``requests``
    per endpoint (default 1000, the sample's size; 50,000 take a few seconds), ``hours`` of
    traffic from 2026-11-20T08:00:00Z (default 6) and ``drift_hour`` (default 3: the
    ``monthly_charges`` drift starts at 11:00Z). A folder that holds a previous tree of this
    generator is cleared first (only the generated sub-folders and files); any other content
    in the way raises ``FileExistsError``.

    The statistical design (see ``EndpointScenario``) is a plain simulation: churn labels from a
    logistic model of the features (Cox, 1958), model scores as noisy versions of the true
    logit, lognormal latencies; the manifest records both the injected parameters and the
    realised values (AUC, accuracy, Brier, log loss, calibration, McNemar b/c, flips,
    agreement, score differences, Spearman's rho, per-group positive rates, pooled latency
    percentiles, error counts, drift statistics and every defect count).
    """
    if requests < 50:
        raise ValueError("requests must be at least 50")
    if hours < 2 or not 0 < drift_hour < hours:
        raise ValueError("need hours >= 2 and 0 < drift_hour < hours")
    outdir = Path(outdir)
    _prepare(outdir)
    base = np.datetime64(START, "ms")
    per_endpoint = {}
    for k, sc in enumerate(ENDPOINTS):
        sim = _simulate(sc, seed, k, requests, hours, drift_hour)
        cap = _write_capture(sim, outdir / "datacapture", sc.endpoint, base)
        gt = _write_groundtruth(sim, outdir / "groundtruth", sc.endpoint, base)
        q, res, per_minute = _cloudwatch(sim, sc.endpoint, base, hours)
        cw = outdir / "cloudwatch"
        cw.mkdir(parents=True, exist_ok=True)
        (cw / f"{sc.endpoint}_queries.json").write_text(json.dumps(q, indent=1) + "\n")
        (cw / f"{sc.endpoint}_results.json").write_text(_dump_one_per_line(res))
        ec = outdir / "endpoint-config"
        ec.mkdir(parents=True, exist_ok=True)
        (ec / f"{sc.endpoint}.json").write_text(json.dumps(_endpoint_config(sc), indent=1)
                                                + "\n")
        truth = _truth(sim, base, drift_hour, per_minute)
        for v in VARIANTS:
            truth["records"][v].update(cap[v])
        per_endpoint[sc.endpoint] = {
            "scenario": "same-model" if sc.same_model else "regression",
            "expected_decision": "go" if sc.same_model else "no-go",
            "spec": "shadow-same.toml" if sc.same_model else "shadow.toml",
            "injected": asdict(sc),
            "groundtruth": gt,
            **truth,
        }
    (outdir / "shadow.toml").write_text(SHADOW_TOML)
    (outdir / "shadow-same.toml").write_text(
        SHADOW_TOML.replace('"groundtruth/churn-endpoint"', '"groundtruth/churn-endpoint-same"'))
    for name, ep in (("guardrails.toml", "churn-endpoint"),
                     ("guardrails-same.toml", "churn-endpoint-same")):
        (outdir / name).write_text(GUARDRAILS_TOML.replace("{endpoint}", ep)
                                   .replace("{spec}", name))
    manifest = _manifest(seed, requests, hours, drift_hour, per_endpoint)
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """``python -m abkit.datasets_capture OUTDIR [--seed N] [--requests N] [--hours N]``."""
    ap = argparse.ArgumentParser(
        prog="python -m abkit.datasets_capture",
        description="Write a seeded SageMaker shadow-test tree (Data Capture, ground truth, "
                    "CloudWatch exports, endpoint configs, manifest).")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--requests", type=int, default=DEFAULT_REQUESTS,
                    help="requests per endpoint (default %(default)s)")
    ap.add_argument("--hours", type=int, default=HOURS)
    ap.add_argument("--drift-hour", type=int, default=DRIFT_ONSET_HOUR)
    a = ap.parse_args(argv)
    try:
        m = write_shadow_capture(a.outdir, seed=a.seed, requests=a.requests, hours=a.hours,
                                 drift_hour=a.drift_hour)
    except (ValueError, FileExistsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for ep, t in m["endpoints"].items():
        print(f"{ep}: {t['pairs']} pairs, {t['labels']['labelled_pairs']} labelled, "
              f"AUC live {t['quality']['auc']['live']} shadow {t['quality']['auc']['shadow']}",
              file=sys.stderr)
    print(f"wrote {a.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
