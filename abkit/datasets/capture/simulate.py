"""Simulating one endpoint's traffic, features, labels, scores, serving and defects."""

from __future__ import annotations

import math

import numpy as np

from .design import (
    _B0, _FIBER_P, _MS_HOUR, _MS_MIN, _Z99, DRIFT_SHIFT, LIVE, SHADOW, VARIANTS,
    EndpointScenario,
)
from .helpers import _canonical, _hex_ids, _pick, _sigmoid, _uuid4s


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
