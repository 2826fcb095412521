"""The injected design: constants, the analysis specs written next to the data, and
:class:`EndpointScenario` with the two :data:`ENDPOINTS`."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
