"""The seeded A/B log generator: :func:`make_ab_log` and its scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
