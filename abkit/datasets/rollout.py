"""The seeded canary / linear rollout log generator: :func:`make_rollout_log`."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
