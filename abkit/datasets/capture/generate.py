"""Writing the whole two-endpoint tree: :func:`write_shadow_capture`."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .aws import _cloudwatch, _dump_one_per_line, _endpoint_config
from .design import (
    DEFAULT_REQUESTS, DEFAULT_SEED, DRIFT_ONSET_HOUR, ENDPOINTS, GUARDRAILS_TOML, HOURS,
    SHADOW_TOML, START, VARIANTS,
)
from .manifest import _manifest
from .records import _write_capture, _write_groundtruth
from .simulate import _simulate
from .truth import _truth

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
