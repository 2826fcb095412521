"""Seeded synthetic experiment logs: the sample data in ``data/``, notebooks and tests.

Regenerate the shipped samples with ``python -m abkit.datasets`` (or ``abkit simulate ab``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["make_ab_log", "make_cloudwatch_export", "make_rollout_log",
           "write_cloudwatch_samples", "write_log", "write_samples"]

SCENARIOS = ("win", "null", "latency-regression", "srm")


def make_ab_log(
    n_users: int = 20000,
    seed: int = 7,
    *,
    per_request: bool = False,
    scenario: str = "win",
    dirty: bool = True,
) -> pd.DataFrame:
    """An A/B log with a control and a treatment arm.

    Columns: ``unit_id``, ``variant``, ``converted`` (0/1), ``revenue`` and its pre-period
    ``pre_revenue`` (correlated through a latent spend propensity, so CUPED helps),
    ``clicks`` and ``sessions`` (a ratio metric) and ``latency_ms``. Per-request logs add
    ``request_id`` and spread each user's activity over several rows.

    Scenarios: ``win`` (treatment converts about 20 % more, spends more, same latency),
    ``null`` (A/A), ``latency-regression`` (as ``win`` but treatment latency +8 %), ``srm``
    (``win`` with a broken 53/47 assignment).

    With ``dirty=True`` a few realistic bad rows are appended (missing and misspelt variants,
    non-numeric and infinite values, a duplicated user) so the row accounting has something
    to show.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {SCENARIOS}")
    rng = np.random.default_rng(seed)
    p_treat = 0.47 if scenario == "srm" else 0.5
    treat = rng.random(n_users) < p_treat
    lift = 0.0 if scenario == "null" else 1.0
    propensity = rng.gamma(0.7, 1 / 0.7, n_users)  # latent spend level, mean 1, skewed
    basket_mu = np.log(40.0 * propensity + 5.0)
    pre_revenue = np.round(rng.poisson(0.4 * propensity) * rng.lognormal(basket_mu, 0.5), 2)
    p_conv = np.clip(0.10 * (0.5 + 0.5 * propensity) * (1 + 0.2 * lift * treat), 0, 1)
    converted = (rng.random(n_users) < p_conv).astype(int)
    basket = rng.lognormal(basket_mu, 0.5)
    revenue = np.round(converted * basket * (1 + 0.05 * lift * treat), 2)
    sessions = rng.poisson(4.0, n_users) + 1
    clicks = rng.binomial(sessions, np.clip(0.20 + 0.01 * lift * treat, 0, 1))
    lat_shift = 1.08 if scenario == "latency-regression" else 1.0
    latency = np.round(rng.gamma(16.0, 120.0 / 16.0, n_users) * np.where(treat, lat_shift, 1.0),
                       1)
    users = pd.DataFrame({
        "unit_id": [f"u{i:07d}" for i in range(n_users)],
        "variant": np.where(treat, "treatment", "control"),
        "converted": converted,
        "revenue": revenue,
        "pre_revenue": pre_revenue,
        "clicks": clicks,
        "sessions": sessions,
        "latency_ms": latency,
    })
    if per_request:
        users = _explode_requests(users, rng)
    if dirty:
        users = _add_dirty_rows(users, rng)
    return users


def _explode_requests(users: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per session: clicks and revenue spread over the user's sessions."""
    reps = users["sessions"].to_numpy()
    rows = users.loc[users.index.repeat(reps)].reset_index(drop=True)
    first = ~rows["unit_id"].duplicated()
    # the conversion (and its revenue) happens on the user's first request
    rows["converted"] = np.where(first, rows["converted"], 0)
    rows["revenue"] = np.where(first, rows["revenue"], 0.0)
    # spread clicks over sessions: each session gets a binomial share of the user's clicks
    rows["clicks"] = rng.binomial(1, np.clip(rows["clicks"] / rows["sessions"], 0, 1))
    rows["sessions"] = 1
    lat = rows["latency_ms"].to_numpy()
    rows["latency_ms"] = np.round(lat * rng.lognormal(0.0, 0.2, len(rows)), 1)
    rows.insert(0, "request_id", [f"r{i:08d}" for i in range(len(rows))])
    return rows


def _add_dirty_rows(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    bad = df.sample(7, random_state=int(rng.integers(1 << 31))).copy().astype(object)
    bad.iloc[0, bad.columns.get_loc("variant")] = None            # missing_variant
    bad.iloc[1, bad.columns.get_loc("variant")] = "treatmnet"     # unknown_variant
    bad.iloc[2, bad.columns.get_loc("revenue")] = "N/A"           # non_numeric_value
    bad.iloc[3, bad.columns.get_loc("latency_ms")] = "inf"        # non_finite_value
    bad.iloc[4, bad.columns.get_loc("converted")] = 2             # not_binary
    bad.iloc[5, bad.columns.get_loc("unit_id")] = None            # missing_unit_id
    # row 6 duplicates an existing unit (duplicate_unit in a per-unit log)
    bad.iloc[:6, bad.columns.get_loc("unit_id")] = [
        f"x{i}" if u is not None else None for i, u in enumerate(bad["unit_id"].iloc[:6])
    ]
    if "request_id" in bad.columns:
        bad["request_id"] = [f"rx{i}" for i in range(len(bad))]
    out = pd.concat([df.astype(object), bad], ignore_index=True)
    return out


def write_log(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` in the format named by the extension (.csv, .tsv, .parquet, .jsonl, +.gz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    # mtime 0: the same data give the same bytes (no timestamp in the gzip header)
    comp = {"method": "gzip", "mtime": 0} if name.endswith(".gz") else None
    stem = name[:-3] if comp else name
    if stem.endswith(".csv"):
        df.to_csv(path, index=False, compression=comp)
    elif stem.endswith(".tsv"):
        df.to_csv(path, index=False, sep="\t", compression=comp)
    elif stem.endswith(".parquet"):
        out = df.copy()
        for c in out.columns:
            if out[c].dtype == object:  # mixed dirty values: keep them as text, None as null
                out[c] = out[c].map(lambda x: None if x is None else str(x))
        out.to_parquet(path, index=False)
    elif stem.endswith((".jsonl", ".ndjson")):
        df.to_json(path, orient="records", lines=True, compression=comp)
    else:
        raise ValueError(f"cannot tell the format of {path} from its extension")
    return path


ROLLOUT_SCENARIOS = ("healthy", "regression", "srm")


def make_rollout_log(
    kind: str = "canary",
    scenario: str = "regression",
    *,
    seed: int = 3,
    rate: float = 20.0,
    minutes: float = 20.0,
    share: float = 0.1,
    schedule: list[tuple[float, float]] | None = None,
    start: str = "2026-11-20T10:00:00Z",
    control: str = "baseline",
    candidate: str = "canary",
    dirty: bool = True,
) -> pd.DataFrame:
    """A per-request log of a canary or linear rollout, in time order.

    Requests arrive as a Poisson process at ``rate`` per second for ``minutes``; each goes to
    the candidate with the schedule's share at that moment (``kind="canary"``: ``share``
    throughout; ``"linear"``: ``schedule`` = ``[(start_second, share), ...]``, by default
    +10 % every minute). Columns: ``ts`` (ISO 8601, UTC, milliseconds), ``variant``,
    ``error`` (0/1, 1 % in the control), ``timeouts`` (a count per request, Poisson 0.02),
    ``latency_ms`` (lognormal, mean ~120 ms).

    Scenarios: ``healthy`` (the candidate behaves like the control), ``regression`` (errors
    1 % -> 2.5 %, latency x1.08, timeouts x2), ``srm`` (healthy, but 20 % of the
    candidate's requests are lost before logging). ``dirty`` appends a few bad rows (a
    broken timestamp, a missing variant, a non-numeric latency).
    """
    if scenario not in ROLLOUT_SCENARIOS:
        raise ValueError(f"scenario must be one of {ROLLOUT_SCENARIOS}")
    rng = np.random.default_rng(seed)
    duration = minutes * 60.0
    n = int(rng.poisson(rate * duration))
    t = np.sort(rng.uniform(0.0, duration, n))
    if kind == "linear":
        steps = schedule or [(60.0 * i, 0.1 * (i + 1)) for i in range(9)] + [(540.0, 1.0)]
        bounds = np.array([s for s, _ in steps[1:]])
        p = np.array([q for _, q in steps])[np.searchsorted(bounds, t, side="right")]
    else:
        p = np.full(n, share)
    treated = rng.random(n) < p
    bad = scenario == "regression"
    err_p = np.where(treated & bad, 0.025, 0.01)
    error = (rng.random(n) < err_p).astype(int)
    timeouts = rng.poisson(np.where(treated & bad, 0.04, 0.02))
    latency = rng.lognormal(np.log(120.0) - 0.125, 0.5, n) * np.where(treated & bad, 1.08, 1.0)
    keep = np.ones(n, dtype=bool)
    if scenario == "srm":
        keep = ~(treated & (rng.random(n) < 0.2))
    t0 = pd.Timestamp(start)
    ts = (t0 + pd.to_timedelta(np.round(t * 1000).astype(np.int64), unit="ms"))
    df = pd.DataFrame({
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z",
        "variant": np.where(treated, candidate, control),
        "error": error,
        "timeouts": timeouts,
        "latency_ms": np.round(latency, 1),
    })[keep].reset_index(drop=True)
    if dirty:
        extra = df.sample(3, random_state=int(rng.integers(1 << 31))).astype(object)
        extra.iloc[0, extra.columns.get_loc("ts")] = "yesterday"
        extra.iloc[1, extra.columns.get_loc("variant")] = None
        extra.iloc[2, extra.columns.get_loc("latency_ms")] = "timeout"
        df = pd.concat([df.astype(object), extra], ignore_index=True)
    return df


def write_samples(folder: str | Path = "data") -> list[Path]:
    """Regenerate the sample logs shipped in ``data/``."""
    folder = Path(folder)
    return [
        write_log(make_ab_log(20000, seed=7), folder / "ab_example.csv"),
        write_log(make_ab_log(8000, seed=11, per_request=True), folder / "ab_requests.jsonl.gz"),
        write_log(make_ab_log(20000, seed=23, scenario="latency-regression"),
                  folder / "ab_latency_regression.csv"),
        write_log(make_rollout_log("canary", "regression", seed=3), folder / "canary.csv"),
        write_log(make_rollout_log("linear", "healthy", seed=5, rate=60.0, minutes=20.0,
                                   schedule=[(120.0 * i, 0.1 * (i + 1)) for i in range(9)]
                                   + [(1080.0, 1.0)], candidate="candidate",
                                   control="current"),
                  folder / "linear.csv.gz"),
        *_bluegreen_samples(folder),
    ]


def _bluegreen_samples(folder: Path) -> list[Path]:
    from .bluegreen import make_bluegreen_log

    return [write_log(make_bluegreen_log(sc, seed=seed, rate=0.25, history_hours=27,
                                         after_hours=3), folder / f"bluegreen_{sc}.csv.gz")
            for sc, seed in (("regression", 1), ("smoke", 2))]


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


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "data"
    for p in write_samples(target) + write_cloudwatch_samples(Path(target) / "cloudwatch"):
        print(p)
