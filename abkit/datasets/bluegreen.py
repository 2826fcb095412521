"""Seeded example data of a blue/green switch and its metrics (for tests and README samples).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec import MetricSpec

def bluegreen_example_metrics() -> tuple[MetricSpec, ...]:
    """The metrics of :func:`make_bluegreen_log`: latency and error guardrails, a primary."""
    return (
        MetricSpec("latency_ms", "mean", column="latency_ms", role="guardrail",
                   good="decrease", margin=0.05),
        MetricSpec("error_rate", "proportion", column="error", role="guardrail",
                   good="decrease", margin=0.5),
        MetricSpec("conversion", "proportion", column="converted", role="primary",
                   good="increase"),
    )


SCENARIOS = ("healthy", "regression", "diurnal", "smoke")


def make_bluegreen_log(
    scenario: str = "healthy",
    seed: int = 0,
    *,
    rate: float = 1.0,
    history_hours: float = 60.0,
    after_hours: float = 4.0,
    start: float = 1_714_521_600.0,
) -> pd.DataFrame:
    """A seeded per-request log of a blue/green switch (for tests and README samples).

    Requests arrive as a Poisson process (``rate`` per second) from ``start`` (default
    2024-05-01 00:00 UTC); blue serves ``history_hours`` (default 60: the switch is at
    12:00 UTC on the third day), then green serves ``after_hours``. During the first 30 s
    after the switch half the requests still reach blue (connection draining). Columns:
    ``ts`` (epoch seconds), ``variant`` (``blue`` / ``green``), ``latency_ms`` (lognormal,
    median 100 ms, sigma 0.35), ``error`` (0/1, 1 %) and ``converted`` (0/1, 10 %).

    Scenarios
        ``healthy``: green is blue. ``regression``: green's latency x 1.25 and error rate
        2.5 %. ``diurnal``: green is blue, but latency follows the day (x ``1 + 0.4 (1 +
        cos(2 pi (hour - 15) / 24)) / 2``, slowest at 15:00 UTC) and traffic is up to 1.5x
        busier in the afternoon, so the after-window (12:00-16:00) is naturally slower than
        the before-window (08:00-12:00). ``smoke``: healthy, with green at a 10 % share for
        the two hours before the switch.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    rng = np.random.default_rng(seed)
    switch = start + history_hours * 3600.0
    end = switch + after_hours * 3600.0
    diurnal = scenario == "diurnal"

    def phase(t: np.ndarray) -> np.ndarray:
        h = np.mod(t / 3600.0, 24.0)
        return (1.0 + np.cos(2 * np.pi * (h - 15.0) / 24.0)) / 2.0

    lam_max = rate * (1.5 if diurnal else 1.0)
    n = rng.poisson(lam_max * (end - start))
    ts = np.sort(rng.uniform(start, end, n))
    if diurnal:
        ts = ts[rng.uniform(size=ts.size) < (1.0 + 0.5 * phase(ts)) / 1.5]
    green = ts >= switch
    drain = (ts >= switch) & (ts < switch + 30.0)
    green[drain] = rng.uniform(size=int(drain.sum())) < 0.5
    if scenario == "smoke":
        sm = (ts >= switch - 7200.0) & (ts < switch)
        green[sm] = rng.uniform(size=int(sm.sum())) < 0.10
    lat = 100.0 * np.exp(0.35 * rng.standard_normal(ts.size))
    if diurnal:
        lat *= 1.0 + 0.4 * phase(ts)
    err_p = np.full(ts.size, 0.01)
    if scenario == "regression":
        lat = np.where(green, lat * 1.25, lat)
        err_p = np.where(green, 0.025, err_p)
    err = (rng.uniform(size=ts.size) < err_p).astype(int)
    conv = (rng.uniform(size=ts.size) < 0.10).astype(int)
    return pd.DataFrame({"ts": ts, "variant": np.where(green, "green", "blue"),
                         "latency_ms": np.round(lat, 3), "error": err, "converted": conv})
