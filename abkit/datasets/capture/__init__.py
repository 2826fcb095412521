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

Submodules: ``design`` (constants, the specs, :class:`EndpointScenario`, :data:`ENDPOINTS`),
``helpers`` (ids, score text, rounding, AUC, times), ``simulate`` (one endpoint's requests),
``records`` (the capture and ground-truth files), ``aws`` (the CloudWatch export and the
endpoint config), ``truth`` (the realised truth), ``manifest`` (``manifest.json``),
``generate`` (:func:`write_shadow_capture`) and ``cli`` (:func:`main`, also run by
``python -m abkit.datasets.capture``). ``abkit.datasets_capture`` is an alias of this package.
"""


from __future__ import annotations

from .aws import _cloudwatch, _cw_timestamp, _dump_one_per_line, _endpoint_config, _minute_stats
from .cli import main
from .design import (
    _B0, _CW_SERIES, _DEFECTS, _FIBER_P, _MS_HOUR, _MS_MIN, _Z99, CATEGORICAL, CONTRACTS,
    DEFAULT_REQUESTS, DEFAULT_SEED, DRIFT_ONSET_HOUR, DRIFT_SD, DRIFT_SHIFT, ENDPOINTS, FEATURES,
    GROUP, GUARDRAILS_TOML, HOURS, LIVE, MONTHLY_SD, OUTPUT_FIELD, SHADOW, SHADOW_TOML, START,
    THRESHOLD, VARIANTS, EndpointScenario,
)
from .generate import _GENERATED, _GENERATED_FILES, _prepare, write_shadow_capture
from .helpers import (
    _auc, _canonical, _fmt_score, _hex_ids, _hour_dirs, _nearest_rank, _pick, _r, _sigmoid,
    _stamp, _uuid4s,
)
from .manifest import DEFINITIONS, _manifest
from .records import (
    _capture_line, _input_csv, _output, _truncate, _write_capture, _write_groundtruth,
)
from .simulate import _arrivals, _force_cross_hour, _simulate
from .truth import _ks, _quality, _truth

__all__ = [
    "DEFAULT_REQUESTS",
    "DEFAULT_SEED",
    "ENDPOINTS",
    "SHADOW_TOML",
    "EndpointScenario",
    "main",
    "write_shadow_capture",
]
