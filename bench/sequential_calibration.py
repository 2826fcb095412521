"""Calibration and detection speed of abkit's canary / linear gate (see bench/SEQUENTIAL.md).

    .venv/bin/python bench/sequential_calibration.py --jobs 2         # 2,000 runs, ~12 min
    .venv/bin/python bench/sequential_calibration.py --runs 400 --out /tmp/sequential.md

What users run: :class:`abkit.rollout.gate.SequentialGate`, the object behind ``abkit gate``,
replay and :class:`~abkit.monitor.RolloutMonitor`, built from a spec with the two
guardrails of ``data/linear.toml`` (``error_rate``: proportion, margin +50 %; ``latency``:
mean, margin +5 %; ``min_samples = 500``; alpha = 0.05; the sequential SRM at its default
threshold 0.001) and fed one look at a time with *cells* exactly as
:mod:`abkit.engine.rollout_reduce` produces them: ``cells[(look, step)][variant] = [n, sum error,
sum error^2, sum latency, sum latency^2]``. Rows are never materialised; per look and arm the
sufficient statistics are simulated directly:

* arm sizes: ``n_candidate ~ Binomial(requests per look, share of the schedule)``;
* errors: ``Binomial(n_arm, rate)``, 1 % (exact);
* latency: lognormal, mean 120 ms, ``sigma_log = 0.5`` (sd ~64 ms), drawn request by
  request and summed (exact); a "+5 %" candidate scales the whole distribution by 1.05.

Scenarios (100 looks each): A/A with a constant 10 % canary (2,000 and 500 requests per look)
and with CodeDeploy's ``Linear10PercentEvery1Minute`` looked at every 6 s (2,000 requests per
look; shares 10 %, 20 %, ..., 90 % for ten looks each, then the full shift to 100 % for the
last ten looks, where no control traffic is left: the schedule's final shift is the end of
look 90, 540 s); detection at a 10 % canary of an error rate 1.0 % -> 1.5 % (2,000 requests
per look) and of +5 % mean latency (500 and 2,000 requests per look), and of both under the
linear schedule (2,000 requests per look). Every scenario has its own seeded stream
(``--seed``), and every method sees the same simulated runs.

The gate's rule (#11): a look signals ``no-go`` when the sequential SRM or a gating metric's
rollback test fires; else, when every gating metric is shown non-inferior and ``min_samples``
/ ``min_duration`` (look windows with rows of both variants) are met, ``go`` at or after the
schedule's final shift (at once with a fixed split) and ``step-passed`` before it; else
``inconclusive``. The decision is NO-GO if any look signalled no-go (also after a go), else
GO if any signalled go, else INCONCLUSIVE. The sequential SRM is the product of one
e-process per schedule step. A live gate acts on the first go before any no-go (the
candidate then takes all traffic); the tables give both that and the replay's decision.

Two ways through the numbers, checked against each other:

1. **The real gate** (``SequentialGate.add_look``) with the default spec: every look of every
   A/A run, and every detection run until its first rollback.
2. **A vectorised replica** of the gate's arithmetic: the pseudo-outcome sums of
   ``SequentialDiffStats.from_arm_sums`` with the gate's predictable centre (same expressions,
   same order of summation), abkit's ``cs_radius``, ``rate_ratio_pvalues`` and
   ``GroupSequentialDesign``, the per-step SRM product (``srm_log_evalues``, the body of
   ``srm_pvalues`` up to the log e-value) and the gate's signal and decision rule. The script
   *asserts* that the replica gives the real gate's signal (go, step-passed, no-go or
   inconclusive), per-metric ``regressed`` flags and SRM flag at every
   look the real gate ran, and, for the settings that run in full only in the replica (other
   ``tightest_at``, ``method = "gst"``, ``kind = "count"``), at every look of ``--check-runs``
   runs per scenario fed through the real gate with that setting.

Per-metric level: the gate rolls back when a gating metric's one-sided test rejects at
``alpha / m = 0.025`` (Bonferroni over the ``m = 2`` guardrails). Every comparison method is
run at that same per-metric level, so the tables compare tests, not alphas:

* ``naive``: one-sided Welch z-test of the cumulative arm means (unpooled variance),
  re-applied at every look (z > 1.96);
* ``bonferroni``: the same at 0.025 / 100 per look (z > 3.48);
* ``msprt``: the one-sided normal-mixture mSPRT (Johari et al. 2022; half-normal mixture,
  ``abkit.stats.sequential.msprt_log_lr``) on the gate's pseudo-outcomes with the gate's
  robust variance, ``tau = tau_for_effect(effect)`` (0.005 for the error rate, 6 ms for the
  latency): the anytime-valid reference tuned to the very effect being detected;
* the gate, ``method = "cs"``, with ``tightest_at`` = 10,000 (the default) or set from the
  planned horizon ``N`` = 100 looks x requests per look (``N / 8``, ``N / 4``, ``N / 2``,
  ``N``);
* the gate, ``method = "gst"``: O'Brien-Fleming and Pocock spending with ``max_samples = N``,
  and Pocock with a wrong horizon (``N / 2``: the rollout overruns its plan; ``2 N``);
* the gate with the error rate as ``kind = "count"`` (the rate-ratio mixture e-process of
  Lindon & Malek 2022, ``tau = log 1.5``), alone and with ``tightest_at = N / 8``;
* three variants that need a code change (replica only): the CS's one-sided normal mixture
  inverted exactly instead of its closed-form bound; the rollback bound of a proportion with
  the design (null) variance instead of the robust one; a Pocock GST at 0.8 alpha/m up to N
  plus the CS at 0.2 alpha/m at every look (valid by the union bound, also after N).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import ndtri

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from abkit.rollout.gate import SequentialGate
from abkit.engine.rollout_reduce import build_rollout_plan
from abkit.spec import parse_spec
from abkit.stats.gst import GroupSequentialDesign
from abkit.stats.mixture import DEFAULT_TAU, rate_ratio_pvalues
from abkit.stats.sequential import cs_radius, msprt_log_lr, rho_for, tau_for_effect


ALPHA = 0.05
LOOKS = 100
CONTROL, CANDIDATE = "current", "candidate"
ERR_RATE = 0.01
LAT_MEAN, LAT_SIGMA = 120.0, 0.5
ERR_EFFECT = 0.005  # 1.0 % -> 1.5 %
LAT_EFFECT = 0.05 * LAT_MEAN  # +5 % = 6 ms

# the guardrails of data/linear.toml (p99 and the secondary count left out)
METRICS = [
    {"name": "error_rate", "kind": "proportion", "column": "error", "role": "guardrail",
     "good": "decrease", "margin": 0.5},
    {"name": "latency", "kind": "mean", "column": "latency_ms", "role": "guardrail",
     "good": "decrease", "margin": 0.05},
]
M_GATING = 2
ALPHA_R = ALPHA / M_GATING  # the gate's per-metric rollback level


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # "canary" (constant 10 %) or "linear" (Linear10PercentEvery1Minute, 6 s looks)
    batch: int  # requests per look (both arms)
    err_c: float = ERR_RATE
    err_t: float = ERR_RATE
    lat_c: float = LAT_MEAN
    lat_t: float = LAT_MEAN
    stuck_from: int | None = None  # 0-based look from which the router is stuck (SRM check)
    stuck_share: float = 0.0  # the candidate's true share then (while the schedule splits)

    @property
    def true_shares(self) -> np.ndarray:
        """The shares the simulated router delivers: the schedule's, unless stuck."""
        out = self.shares.copy()
        if self.stuck_from is not None:
            late = (np.arange(LOOKS) >= self.stuck_from) & (out < 1.0)
            out[late] = self.stuck_share
        return out

    @property
    def shares(self) -> np.ndarray:
        if self.kind == "canary":
            return np.full(LOOKS, 0.10)
        return np.array([min(k // 10 + 1, 10) / 10 for k in range(LOOKS)])

    @property
    def steps(self) -> np.ndarray:
        if self.kind == "canary":
            return np.zeros(LOOKS, dtype=int)
        return np.array([min(k // 10, 9) for k in range(LOOKS)])

    @property
    def horizon(self) -> int:
        """Planned requests (both arms) of the 100 looks: the GST's max_samples."""
        return LOOKS * self.batch


def spec_dict(kind: str, **experiment) -> dict:
    exp = {"strategy": kind, "variant_column": "variant", "control": CONTROL,
           "candidate": CANDIDATE, "timestamp_column": "ts", "alpha": ALPHA,
           "min_samples": 500}
    if kind == "canary":
        exp.update(split={CONTROL: 0.9, CANDIDATE: 0.1}, look_every="1m")
    else:
        exp.update(schedule="Linear10PercentEvery1Minute", look_every="6s")
    exp.update(experiment)
    metrics = [dict(m) for m in METRICS]
    return {"experiment": exp, "metrics": metrics}


@dataclass
class Sim:
    """Per-look, per-arm sufficient statistics, arrays of shape (runs, LOOKS)."""

    sc: Scenario
    n_t: np.ndarray
    n_c: np.ndarray
    e_t: np.ndarray
    e_c: np.ndarray
    s_t: np.ndarray
    q_t: np.ndarray
    s_c: np.ndarray
    q_c: np.ndarray

    @property
    def runs(self) -> int:
        return self.n_t.shape[0]


def simulate(rng: np.random.Generator, runs: int, sc: Scenario, chunk: int = 200) -> Sim:
    share = sc.true_shares
    n_t = rng.binomial(sc.batch, share, size=(runs, LOOKS)).astype(np.int64)
    n_c = sc.batch - n_t
    e_t = rng.binomial(n_t, sc.err_t)
    e_c = rng.binomial(n_c, sc.err_c)
    mu_c = math.log(sc.lat_c) - LAT_SIGMA**2 / 2
    mu_t = math.log(sc.lat_t) - LAT_SIGMA**2 / 2
    s_t, q_t, s_c, q_c = (np.zeros((runs, LOOKS)) for _ in range(4))
    pos = np.arange(sc.batch)
    for lo in range(0, runs, chunk):
        hi = min(lo + chunk, runs)
        for k in range(LOOKS):
            t = pos[None, :] < n_t[lo:hi, k:k + 1]  # the first n_t requests are the canary's
            y = np.exp(np.where(t, mu_t, mu_c) + LAT_SIGMA * rng.standard_normal((hi - lo,
                                                                                  sc.batch)))
            yt = np.where(t, y, 0.0)
            yc = y - yt
            s_t[lo:hi, k] = yt.sum(1)
            q_t[lo:hi, k] = (yt * yt).sum(1)
            s_c[lo:hi, k] = yc.sum(1)
            q_c[lo:hi, k] = (yc * yc).sum(1)
    return Sim(sc, n_t, n_c, e_t.astype(float), e_c.astype(float), s_t, q_t, s_c, q_c)


# --------------------------------------------------------------------------- the real gate

# signal codes per look
INCONCLUSIVE, GO, NOGO, STEP_PASSED, NOT_RUN = 0, 1, 2, 3, -1


def _cells(sim: Sim, r: int, k: int) -> dict:
    per = {}
    nc, nt = int(sim.n_c[r, k]), int(sim.n_t[r, k])
    if nc:
        per[CONTROL] = np.array([nc, sim.e_c[r, k], sim.e_c[r, k], sim.s_c[r, k],
                                 sim.q_c[r, k]])
    if nt:
        per[CANDIDATE] = np.array([nt, sim.e_t[r, k], sim.e_t[r, k], sim.s_t[r, k],
                                   sim.q_t[r, k]])
    return {(k, int(sim.sc.steps[k])): per}


@dataclass
class GateTrace:
    """What the real gate said, per run and look (NOT_RUN after an early stop)."""

    signal: np.ndarray  # (runs, LOOKS) int8
    regressed: np.ndarray  # (runs, LOOKS, 2) bool, per gating metric
    srm: np.ndarray  # (runs, LOOKS) bool
    seconds: float
    looks_run: int


def run_gate(spec: dict, sim: Sim, runs: range | list[int], stop_on_nogo: bool = False
             ) -> GateTrace:
    """Feed ``sim``'s runs through a fresh SequentialGate each, look by look."""
    parsed = parse_spec(spec)
    plan = build_rollout_plan(parsed)
    runs = list(runs)
    sig = np.full((len(runs), LOOKS), NOT_RUN, dtype=np.int8)
    reg = np.zeros((len(runs), LOOKS, M_GATING), dtype=bool)
    srm = np.zeros((len(runs), LOOKS), dtype=bool)
    names = [m["name"] for m in spec["metrics"]]
    looks_run = 0
    t0 = time.perf_counter()
    for i, r in enumerate(runs):
        g = SequentialGate(parsed, plan, CONTROL, CANDIDATE, 0.0)
        for k in range(LOOKS):
            look = g.add_look(k, _cells(sim, r, k), {})
            looks_run += 1
            sig[i, k] = {"inconclusive": INCONCLUSIVE, "go": GO, "no-go": NOGO,
                         "step-passed": STEP_PASSED}[look.signal]
            by = {m.metric: m for m in look.metrics}
            reg[i, k] = [by[n].regressed for n in names]
            srm[i, k] = look.srm_pvalue is not None and look.srm_pvalue < parsed.srm_threshold
            if stop_on_nogo and look.signal == "no-go":
                break
    return GateTrace(sig, reg, srm, time.perf_counter() - t0, looks_run)


def _gate_worker(args):
    spec, sim, runs, stop = args
    return run_gate(spec, sim, runs, stop)


def run_gate_parallel(spec: dict, sim: Sim, runs: int, stop_on_nogo: bool, jobs: int
                      ) -> GateTrace:
    if jobs <= 1 or runs < 2 * jobs:
        return run_gate(spec, sim, range(runs), stop_on_nogo)
    import multiprocessing as mp

    bounds = np.linspace(0, runs, jobs + 1).astype(int)
    parts = [(spec, sim, range(bounds[j], bounds[j + 1]), stop_on_nogo) for j in range(jobs)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(jobs) as pool:
        out = pool.map(_gate_worker, parts)
    return GateTrace(np.concatenate([o.signal for o in out]),
                     np.concatenate([o.regressed for o in out]),
                     np.concatenate([o.srm for o in out]), time.perf_counter() - t0,
                     sum(o.looks_run for o in out))


# --------------------------------------------------------------------------- the replica


@dataclass
class DiffPath:
    """Cumulative pseudo-outcome statistics of one metric, as the gate's _DiffMetric keeps
    them (arrays of shape (runs, LOOKS))."""

    n: np.ndarray
    est: np.ndarray
    var_r: np.ndarray  # robust variance (the gate's), 0 where undefined
    var_d: np.ndarray  # design variance alone (an option, not the gate's)
    defined: np.ndarray  # estimate defined and n >= 2
    control_mean: np.ndarray
    nt: np.ndarray  # cumulative arm sizes and sums over the split looks (naive tests)
    nc: np.ndarray
    st: np.ndarray
    qt: np.ndarray
    sc: np.ndarray
    qc: np.ndarray


def diff_path(sim: Sim, metric: str) -> DiffPath:
    """The gate's _DiffMetric arithmetic on whole arrays (same expressions, same order)."""
    if metric == "error_rate":
        st, qt, sc, qc = sim.e_t, sim.e_t, sim.e_c, sim.e_c
    else:
        st, qt, sc, qc = sim.s_t, sim.q_t, sim.s_c, sim.q_c
    nt = sim.n_t.astype(float)
    nc = sim.n_c.astype(float)
    p = sim.sc.shares[None, :]
    split = (p > 0) & (p < 1) & ((nt + nc) > 0)
    pf = np.where(split, p, 0.5)
    # predictable centre: pooled mean of all rows of the earlier looks (0 at the first look)
    look_n = nc + nt
    look_s = sc + st
    pool_n = np.cumsum(look_n, axis=1) - look_n
    pool_s = np.cumsum(look_s, axis=1) - look_s
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(pool_n > 0, pool_s / np.where(pool_n > 0, pool_n, 1.0), 0.0)
        ct = np.maximum(qt - 2 * c * st + nt * c * c, 0.0)
        cc = np.maximum(qc - 2 * c * sc + nc * c * c, 0.0)
        s1 = (st - nt * c) / pf - (sc - nc * c) / (1 - pf)
        s2 = ct / (pf * pf) + cc / ((1 - pf) * (1 - pf))
        s0 = (ct + cc) / (pf * (1 - pf))
    z = np.zeros_like(s1)
    S1 = np.cumsum(np.where(split, s1, z), axis=1)
    S2 = np.cumsum(np.where(split, s2, z), axis=1)
    S0 = np.cumsum(np.where(split, s0, z), axis=1)
    NT = np.cumsum(np.where(split, nt, z), axis=1)
    NC = np.cumsum(np.where(split, nc, z), axis=1)
    N = NT + NC
    ST = np.cumsum(np.where(split, st, z), axis=1)
    QT = np.cumsum(np.where(split, qt, z), axis=1)
    SC = np.cumsum(np.where(split, sc, z), axis=1)
    QC = np.cumsum(np.where(split, qc, z), axis=1)
    defined = (NT > 0) & (NC > 0) & (N >= 2)
    Nf = np.where(N > 0, N, 1.0)
    est = S1 / Nf

    def var_from(second):
        with np.errstate(divide="ignore", invalid="ignore"):
            v = (second - S1 * (S1 / Nf)) / np.where(N > 1, N - 1, 1.0)
        return np.where(second == 0.0, 0.0, np.maximum(v, 0.0))

    var_d = var_from(S0)
    var_r = np.maximum(var_from(S2), var_d)
    cmean = SC / np.where(NC > 0, NC, 1.0)
    return DiffPath(N, est, np.where(defined, var_r, 0.0), np.where(defined, var_d, 0.0),
                    defined, cmean, NT, NC, ST, QT, SC, QC)


def first_true(hit: np.ndarray) -> np.ndarray:
    """1-based look of the first True per run; LOOKS + 1 when none."""
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, LOOKS + 1)


def cs_flags(d: DiffPath, margin: float, tightest_at: float, *, design_var: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
    """(regressed, noninferior) per look: the gate's one-sided CS bounds. ``design_var``:
    the rollback bound with the design variance alone (an option, not what the gate does)."""
    n = np.maximum(d.n, 1)
    v_roll = d.var_d if design_var else d.var_r
    r_roll = cs_radius(n, v_roll, ALPHA_R, rho_for(tightest_at, ALPHA_R, "greater"), "greater")
    r_prom = cs_radius(n, d.var_r, ALPHA, rho_for(tightest_at, ALPHA, "less"), "less")
    reg = d.defined & (d.est - r_roll > 0)
    noninf = d.defined & (d.est + r_prom < margin * np.abs(d.control_mean))
    return reg, noninf


def msprt_flags(d: DiffPath, effect: float, alpha: float = ALPHA_R, *, tau: float | None = None
                ) -> np.ndarray:
    good = d.defined & (d.var_r > 0)
    tau = tau_for_effect(effect) if tau is None else tau
    llr = msprt_log_lr(np.maximum(d.n, 1), d.est, np.where(good, d.var_r, 1.0), tau, "greater")
    return good & (llr >= math.log(1 / alpha))


def cs_exact_flags(d: DiffPath, tightest_at: float) -> np.ndarray:
    """The CS's normal mixture inverted exactly (the one-sided mSPRT with tau^2 = rho^2 V):
    what the gate would do without the closed-form bound of its one-sided boundary."""
    rho = rho_for(tightest_at, ALPHA_R, "greater")
    good = d.defined & (d.var_r > 0)
    v = np.where(good, d.var_r, 1.0)
    # msprt_log_lr takes one tau; tau^2 = rho^2 V varies by run and look, so use its formula
    # in the rho parameterisation: log L = -0.5 log(1 + n rho^2) + b^2 / 2 + log(2 Phi(b)),
    # b = rho S_n / sqrt(V (1 + n rho^2)), S_n = n * est (same as msprt_log_lr, tau = rho sqrt V)
    from scipy.special import log_ndtr

    n = np.maximum(d.n, 1).astype(float)
    x = 1.0 + n * rho * rho
    b = rho * n * d.est / np.sqrt(v * x)
    llr = -0.5 * np.log(x) + 0.5 * b * b + math.log(2.0) + log_ndtr(b)
    return good & (llr >= math.log(1 / ALPHA_R))


def welch_flags(d: DiffPath, level: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mt = d.st / d.nt
        mc = d.sc / d.nc
        vt = (d.qt - d.st * mt) / (d.nt - 1)
        vc = (d.qc - d.sc * mc) / (d.nc - 1)
        se = np.sqrt(np.maximum(vt, 0) / d.nt + np.maximum(vc, 0) / d.nc)
        z = (mt - mc) / se
    ok = (d.nt > 1) & (d.nc > 1) & (se > 0)
    return ok & (z > ndtri(1 - level))


@functools.cache
def gst_bounds(fracs: tuple[float, ...], alpha: float, spending: str) -> np.ndarray:
    design = GroupSequentialDesign(alpha, spending)
    out = []
    last = 0.0
    c = np.nan
    for f in fracs:
        if f > last:
            design, look = design.add_look(f)
            c = np.nan if look.boundary is None else look.boundary
            last = f
        out.append(c)
    return np.array(out)


def gst_flags(d: DiffPath, margin: float, max_samples: int, spending: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """The gate's method = "gst" on whole arrays: rollback by the group sequential boundary,
    promotion by the confidence sequence (as the gate does, with its default
    ``tightest_at = max_samples // 8``). The looks' information fractions
    ``n / max_samples`` are the same in every run here (fixed requests per look), so the
    boundaries are computed once."""
    if not (d.n == d.n[:1]).all() or not d.defined.all():
        raise ValueError("GST replica needs the same n in every run and defined looks")
    fr = tuple(float(x) / max_samples for x in d.n[0])
    c_r = gst_bounds(fr, ALPHA_R, spending)[None, :]
    se = np.sqrt(d.var_r / d.n)
    ok = ~np.isnan(c_r) & (se > 0)
    reg = ok & (d.est - np.nan_to_num(c_r) * se > 0)
    _, noninf = cs_flags(d, margin, max(2, max_samples // 8))
    return reg, noninf


_COUNT_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def count_flags(sim: Sim, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """The gate's kind = "count" error rate: rate-ratio e-process (Lindon & Malek 2022)."""
    key = id(sim)
    if key not in _COUNT_CACHE:
        _COUNT_CACHE[key] = _count_flags(sim, margin)
    return _COUNT_CACHE[key]


def _count_flags(sim: Sim, margin: float) -> tuple[np.ndarray, np.ndarray]:
    split = (sim.n_t > 0) & (sim.n_c > 0)
    x = np.where(split, sim.e_t, 0).astype(np.int64)
    y = np.where(split, sim.e_c, 0).astype(np.int64)
    et = np.where(split, sim.n_t, 0).astype(float)
    ec = np.where(split, sim.n_c, 0).astype(float)
    p_roll = rate_ratio_pvalues(x, et, y, ec, null=1.0, alternative="greater", tau=DEFAULT_TAU)
    p_prom = rate_ratio_pvalues(x, et, y, ec, null=1.0 + margin, alternative="less",
                                tau=DEFAULT_TAU)
    return p_roll <= ALPHA_R, p_prom <= ALPHA


def srm_log_evalues(counts: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Log e-value of the sequential SRM after every bucket, shape (runs, J), for counts
    ``(runs, J, 2)`` and shares ``(1, J, 2)``: the body of ``srm_pvalues`` up to the log
    e-value (which ``srm_pvalues`` turns into a p-value clipped at 1, losing the e-values
    below 1 that a product of per-step e-processes needs)."""
    from abkit.stats.mixture._common import DEFAULT_GRID_STEP, DEFAULT_SRM_TAU
    from abkit.stats.mixture.grid import _lse, _log_lincomb, _weights
    from abkit.stats.mixture.vectorised import _as_paths, _path_log_e

    n, s = np.broadcast_arrays(counts, shares / shares.sum(axis=-1, keepdims=True))
    w = _weights(DEFAULT_SRM_TAU, None, DEFAULT_GRID_STEP, 10**9)
    total = n.sum(axis=-1)
    logs = []
    for v in range(n.shape[-1]):
        (x, et, y, ec), _ = _as_paths(n[..., v], s[..., v], total - n[..., v], 1.0 - s[..., v])
        up, dn = _path_log_e(x, et, y, ec, 0.0, w, DEFAULT_GRID_STEP, True, True)
        logs.append(_log_lincomb(w.p_up, up, w.p_dn, dn).reshape(total.shape))
    return _lse(np.stack(logs, axis=-1)) - math.log(n.shape[-1])


def srm_flags(sim: Sim, threshold: float = 0.001) -> np.ndarray:
    """The gate's sequential SRM flag per look: one e-process per schedule step (started at
    1 when the step starts, frozen when it ends), their product the evidence, ``p = 1 / that
    product`` (at most 1), flagged while the running minimum of p is below ``threshold``."""
    share = sim.sc.shares
    steps = sim.sc.steps
    split = (share > 0) & (share < 1)
    total = np.zeros(sim.n_t.shape)  # sum over steps of each step's latest log e-value
    done = np.zeros(sim.n_t.shape[0])  # log e-values of the steps already ended
    for st in dict.fromkeys(int(x) for x in steps[split]):  # steps in order
        cols = np.flatnonzero(split & (steps == st))
        counts = np.stack([sim.n_c[:, cols], sim.n_t[:, cols]], axis=-1)
        shares = np.stack([1 - share[cols], share[cols]], axis=-1)[None, :, :]
        le = srm_log_evalues(counts, shares)
        total[:, cols] = done[:, None] + le
        done = done + le[:, -1]
    p = np.exp(np.minimum(-total, 0.0))
    out = np.zeros(sim.n_t.shape, dtype=bool)
    out[:, split] = np.minimum.accumulate(p[:, split], axis=1) < threshold
    # looks after the last split look keep the last p-value (running minimum)
    idx = np.maximum.accumulate(np.where(split, np.arange(LOOKS), -1))
    ok = idx >= 0
    out[:, ok] = out[:, idx[ok]]
    return out


def srm_flags_pooled(sim: Sim, threshold: float = 0.001) -> np.ndarray:
    """The sequential SRM as the gate had it before #11 (one e-process over every split look
    of every step), for comparison: flagged while its running minimum p is below
    ``threshold``."""
    from abkit.stats.mixture import srm_pvalues

    share = sim.sc.shares
    split = (share > 0) & (share < 1)
    counts = np.stack([sim.n_c[:, split], sim.n_t[:, split]], axis=-1)
    shares = np.stack([1 - share[split], share[split]], axis=-1)[None, :, :]
    out = np.zeros(sim.n_t.shape, dtype=bool)
    out[:, split] = np.minimum.accumulate(srm_pvalues(counts, shares), axis=1) < threshold
    idx = np.maximum.accumulate(np.where(split, np.arange(LOOKS), -1))
    out[:, idx >= 0] = out[:, idx[idx >= 0]]
    return out


@functools.cache
def schedule_facts(kind: str) -> tuple[int, float, float, float | None]:
    """(min_samples, min_duration s, look_every s, final shift s or None) of the spec of
    ``kind``, read from the parsed spec and plan as the gate reads them: the final shift is
    the start of the first step at 100 % (else the last step's start); None for a fixed
    split (one step below 100 %)."""
    parsed = parse_spec(spec_dict(kind))
    steps = build_rollout_plan(parsed).schedule.steps
    ro = parsed.rollout
    final = (None if len(steps) == 1 and steps[0][1] < 1.0
             else next((t for t, sh in steps if sh >= 1.0), steps[-1][0]))
    return ro.min_samples, ro.min_duration, ro.look_every, final


def gate_signals(sim: Sim, reg: list[np.ndarray], noninf: list[np.ndarray], srm: np.ndarray
                 ) -> np.ndarray:
    """The gate's signal per look, from per-metric flags: no-go (SRM or a regression), else
    the promotion evidence (every gating metric non-inferior, ``min_samples`` candidate rows,
    ``min_duration`` covered by look windows with rows of both variants) gives go at or
    after the schedule's final shift (or at once with a fixed split) and step-passed before
    it, else inconclusive."""
    min_samples, min_duration, look_every, final = schedule_facts(sim.sc.kind)
    nogo = srm.copy()
    for r in reg:
        nogo |= r
    ni = np.ones_like(nogo)
    for x in noninf:
        ni &= x
    share = sim.sc.shares[None, :]
    both = (share > 0) & (share < 1) & (sim.n_t > 0) & (sim.n_c > 0)
    covered = np.cumsum(both, axis=1) * look_every
    enough = (np.cumsum(sim.n_t, axis=1) >= min_samples) & (covered >= min_duration)
    elapsed = (np.arange(LOOKS) + 1.0) * look_every
    at_final = np.ones(LOOKS, dtype=bool) if final is None else elapsed >= final - 1e-9
    passed = np.where(at_final[None, :], GO, STEP_PASSED)
    return np.where(nogo, NOGO, np.where(ni & enough, passed, INCONCLUSIVE)).astype(np.int8)


def decisions(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(standing decision after the last look run, 1-based look that decided): NO-GO if any
    look signalled no-go (at the first one), else GO if any signalled go (at the first one),
    else (INCONCLUSIVE, LOOKS + 1)."""
    nogo = first_true(signal == NOGO)
    go = first_true(signal == GO)
    code = np.where(nogo <= LOOKS, NOGO, np.where(go <= LOOKS, GO, INCONCLUSIVE))
    return code.astype(np.int8), np.where(nogo <= LOOKS, nogo, go)


def live_promoted(signal: np.ndarray) -> np.ndarray:
    """Runs with a go before any no-go: what a live gate promotes (the canary then takes all
    traffic, so its later looks would never be run)."""
    return first_true(signal == GO) < first_true(signal == NOGO)


def hybrid_flags(d: DiffPath, horizon: int, share: float = 0.8) -> np.ndarray:
    """Not in the gate: a Pocock GST at ``share * alpha/m`` up to ``horizon`` plus the CS
    (tightest at horizon / 4) at ``(1 - share) * alpha/m`` at every look, before and after the
    horizon. Union bound: valid at alpha/m under any data-independent looks and any overrun."""
    fr = tuple(float(x) / horizon for x in d.n[0])
    if not (d.n == d.n[:1]).all():
        raise ValueError("hybrid replica needs the same n in every run")
    c = gst_bounds(fr, share * ALPHA_R, "pocock")[None, :]
    se = np.sqrt(d.var_r / np.maximum(d.n, 1))
    g = d.defined & ~np.isnan(c) & (se > 0) & (d.est - np.nan_to_num(c) * se > 0)
    a2 = (1 - share) * ALPHA_R
    r = cs_radius(np.maximum(d.n, 1), d.var_r, a2, rho_for(horizon / 4, a2, "greater"),
                  "greater")
    return g | (d.defined & (d.est - r > 0))


# --------------------------------------------------------------------------- the options


@dataclass(frozen=True)
class Option:
    """One way of deciding, applied to a simulated scenario."""

    key: str
    label: str
    group: str  # "reference", "gate", "change" (needs a gate change)
    spec: dict | None = None  # extra experiment keys / error-rate kind, for the real-gate check

    def flags(self, sim: Sim, de: DiffPath, dl: DiffPath):
        """(regressed error, regressed latency, noninferior error | None, ... latency | None)."""
        N = sim.sc.horizon
        k = self.key
        if k == "naive":
            return welch_flags(de, ALPHA_R), welch_flags(dl, ALPHA_R), None, None
        if k == "bonferroni":
            return (welch_flags(de, ALPHA_R / LOOKS), welch_flags(dl, ALPHA_R / LOOKS), None,
                    None)
        if k == "msprt":
            return msprt_flags(de, ERR_EFFECT), msprt_flags(dl, LAT_EFFECT), None, None
        if k.startswith("cs-"):
            ta = _tightest(k[3:], N)
            (re_, ne), (rl, nl) = cs_flags(de, 0.5, ta), cs_flags(dl, 0.05, ta)
            return re_, rl, ne, nl
        if k.startswith("gst-"):
            _, sp, f = k.split("-", 2)
            ms = int(N * float(f))
            spending = {"of": "obrien-fleming", "pocock": "pocock"}[sp]
            (re_, ne), (rl, nl) = gst_flags(de, 0.5, ms, spending), gst_flags(dl, 0.05, ms,
                                                                                spending)
            return re_, rl, ne, nl
        if k.startswith("count"):
            ta = _tightest(k.split("-", 1)[1], N)
            re_, ne = count_flags(sim, 0.5)
            rl, nl = cs_flags(dl, 0.05, ta)
            return re_, rl, ne, nl
        if k == "exact":
            return (cs_exact_flags(de, 10_000), cs_exact_flags(dl, 10_000), None, None)
        if k == "designvar":
            re_, ne = cs_flags(de, 0.5, 10_000, design_var=True)
            rl, nl = cs_flags(dl, 0.05, 10_000)
            return re_, rl, ne, nl
        if k == "hybrid":
            return hybrid_flags(de, N), hybrid_flags(dl, N), None, None
        raise KeyError(k)


def _tightest(code: str, N: int) -> int:
    return 10_000 if code == "default" else int(N / float(code))


def options() -> list[Option]:
    out = [
        Option("naive", "naive z-test re-applied at every look", "reference"),
        Option("bonferroni", "z-test at alpha/m/100 at every look (Bonferroni over looks)",
               "reference"),
        Option("msprt", "one-sided mSPRT, tau = the effect (Johari et al.)", "reference"),
        Option("cs-default", "gate cs, tightest_at = 10,000 (default)", "gate", {}),
    ]
    for f in ("8", "4", "2", "1"):
        frac = "N" if f == "1" else f"N/{f}"
        out.append(Option(f"cs-{f}", f"gate cs, tightest_at = {frac}", "gate",
                          {"tightest_at": f}))
    out += [
        Option("gst-of-1", "gate gst, O'Brien-Fleming, max_samples = N", "gate",
               {"method": "gst", "spending": "obrien-fleming", "max_samples": "1"}),
        Option("gst-pocock-1", "gate gst, Pocock, max_samples = N", "gate",
               {"method": "gst", "spending": "pocock", "max_samples": "1"}),
        Option("gst-pocock-0.5", "gate gst, Pocock, max_samples = N/2 (rollout overruns)",
               "gate", {"method": "gst", "spending": "pocock", "max_samples": "0.5"}),
        Option("gst-pocock-2", "gate gst, Pocock, max_samples = 2N (plan too long)", "gate",
               {"method": "gst", "spending": "pocock", "max_samples": "2"}),
        Option("count-default", "gate, error_rate as kind = \"count\" (rate-ratio e-process)",
               "gate", {"count": True}),
        Option("count-8", "gate, error_rate as count + tightest_at = N/8", "gate",
               {"count": True, "tightest_at": "8"}),
        Option("exact", "cs with its mixture inverted exactly (not the closed-form bound)",
               "change"),
        Option("designvar", "cs, proportion's rollback bound with the design variance",
               "change"),
        Option("hybrid", "Pocock GST at 0.8 alpha/m + cs (N/4) at 0.2 alpha/m", "change"),
    ]
    return out


def option_spec(opt: Option, sc: Scenario) -> dict:
    """The spec that makes the real gate do what ``opt`` replicates."""
    extra = dict(opt.spec or {})
    count = extra.pop("count", False)
    if "tightest_at" in extra:
        extra["tightest_at"] = _tightest(extra["tightest_at"], sc.horizon)
    if "max_samples" in extra:
        extra["max_samples"] = int(sc.horizon * float(extra["max_samples"]))
    spec = spec_dict(sc.kind, **extra)
    if count:
        spec["metrics"][0]["kind"] = "count"
    return spec


# --------------------------------------------------------------------------- reporting


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import scipy

    return (f"nproc {os.cpu_count()}, {cpu}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}, scipy "
            f"{scipy.__version__}")


def pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def quant(first: np.ndarray, q: float) -> float:
    return float(np.quantile(first, q, method="inverted_cdf"))


def fmt_looks(v: float) -> str:
    return f">{LOOKS}" if v > LOOKS else f"{v:.0f}"


def fmt_req(v: float, batch: int) -> str:
    return f">{LOOKS * batch:,}" if v > LOOKS else f"{v * batch:,.0f}"


def ever(flags: np.ndarray) -> float:
    return float(flags.any(axis=1).mean())


AA_SCENARIOS = [
    Scenario("10 % canary, 2,000 req/look", "canary", 2000),
    Scenario("Linear10PercentEvery1Minute, 2,000 req/look", "linear", 2000),
    Scenario("10 % canary, 500 req/look", "canary", 500),
]
DET_SCENARIOS = [
    (Scenario("error rate 1.0 % -> 1.5 %, 10 % canary, 2,000 req/look", "canary", 2000,
              err_t=0.015), 0, 0),  # (scenario, metric index, matching A/A scenario)
    (Scenario("latency +5 % (120 -> 126 ms), 10 % canary, 500 req/look", "canary", 500,
              lat_t=1.05 * LAT_MEAN), 1, 2),
    (Scenario("latency +5 % (120 -> 126 ms), 10 % canary, 2,000 req/look", "canary", 2000,
              lat_t=1.05 * LAT_MEAN), 1, 0),
    (Scenario("error rate 1.0 % -> 1.5 %, Linear10PercentEvery1Minute, 2,000 req/look",
              "linear", 2000, err_t=0.015), 0, 1),
    (Scenario("latency +5 % (120 -> 126 ms), Linear10PercentEvery1Minute, 2,000 req/look",
              "linear", 2000, lat_t=1.05 * LAT_MEAN), 1, 1),
]


def promo(sig: np.ndarray) -> str:
    """'live / by the end' promotion rates of the signals ``sig`` (see the tables)."""
    return (f"{100 * live_promoted(sig).mean():.2f} / "
            f"{100 * (decisions(sig)[0] == GO).mean():.2f} %")


def check_replica(name: str, trace: GateTrace, sig: np.ndarray, reg: list[np.ndarray],
                  srm: np.ndarray) -> int:
    """Assert the replica equals the real gate on every look the gate ran; return looks."""
    rows = trace.signal.shape[0]
    ran = trace.signal != NOT_RUN
    bad = int(((sig[:rows] != trace.signal) & ran).sum())
    for i, r in enumerate(reg):
        bad += int(((r[:rows] != trace.regressed[:, :, i]) & ran).sum())
    bad += int(((srm[:rows] != trace.srm) & ran).sum())
    if bad:
        raise AssertionError(f"replica differs from the real gate on {bad} looks ({name})")
    return int(ran.sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000, help="runs per scenario (default 2000)")
    ap.add_argument("--gate-runs", type=int, default=None,
                    help="runs fed through the real gate (default: all of --runs)")
    ap.add_argument("--check-runs", type=int, default=10,
                    help="runs per scenario fed through the real gate for each non-default "
                         "setting, to check the replica (default 10)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes for the real-gate runs (default 2)")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = ap.parse_args(argv)
    runs = args.runs
    gate_runs = min(args.gate_runs or runs, runs)
    check_runs = min(args.check_runs, runs)
    t_start = time.perf_counter()
    timing: dict[str, float] = {}

    # ---- simulate (one independent stream per scenario, fixed by --seed)
    t0 = time.perf_counter()
    scen = AA_SCENARIOS + [d[0] for d in DET_SCENARIOS]
    sims = {sc.name: simulate(np.random.default_rng([args.seed, i]), runs, sc)
            for i, sc in enumerate(scen)}
    timing["simulation"] = time.perf_counter() - t0

    # ---- replica: every option on every scenario
    t0 = time.perf_counter()
    opts = options()
    paths = {k: (diff_path(s, "error_rate"), diff_path(s, "latency")) for k, s in sims.items()}
    srm = {k: srm_flags(s) for k, s in sims.items()}
    flags = {}
    for opt in opts:
        for sc in scen:
            flags[opt.key, sc.name] = opt.flags(sims[sc.name], *paths[sc.name])
    timing["replica (all options)"] = time.perf_counter() - t0

    def signals(key: str, name: str) -> np.ndarray:
        re_, rl, ne, nl = flags[key, name]
        return gate_signals(sims[name], [re_, rl], [ne, nl], srm[name])

    # ---- the real gate, default spec: every A/A look, detection until the first rollback
    t0 = time.perf_counter()
    traces: dict[str, GateTrace] = {}
    gate_looks = 0
    for sc in scen:
        det = sc not in AA_SCENARIOS
        tr = run_gate_parallel(spec_dict(sc.kind), sims[sc.name], gate_runs, det, args.jobs)
        traces[sc.name] = tr
        re_, rl, _, _ = flags["cs-default", sc.name]
        check_replica(sc.name, tr, signals("cs-default", sc.name), [re_, rl], srm[sc.name])
        gate_looks += tr.looks_run
    timing["real gate, default spec"] = time.perf_counter() - t0

    # ---- the per-step SRM at a share change: real gate and replica, and the pooled e-process
    t0 = time.perf_counter()
    srm_runs = min(runs, 200)
    srm_rows = []
    for i, stuck_share in enumerate((0.20, 0.25)):
        stuck = Scenario(f"router stuck at {100 * stuck_share:.0f} % from step 3 (30 %) on",
                         "linear", 2000, stuck_from=20, stuck_share=stuck_share)
        sim_st = simulate(np.random.default_rng([args.seed, 99, i]), srm_runs, stuck)
        tr_st = run_gate_parallel(spec_dict("linear"), sim_st, srm_runs, False, args.jobs)
        d_st = (diff_path(sim_st, "error_rate"), diff_path(sim_st, "latency"))
        f_st = Option("cs-default", "", "gate").flags(sim_st, *d_st)
        srm_st = srm_flags(sim_st)
        check_replica(stuck.name, tr_st, gate_signals(sim_st, list(f_st[:2]), list(f_st[2:]),
                                                        srm_st), list(f_st[:2]), srm_st)
        srm_rows += [(f"{stuck.name}: per step (the gate)", first_true(tr_st.srm)),
                     (f"{stuck.name}: pooled over the steps (before #11)",
                      first_true(srm_flags_pooled(sim_st)))]
    timing["SRM step-change check"] = time.perf_counter() - t0

    # ---- the real gate with every other setting, on a subset: replica check
    t0 = time.perf_counter()
    checked = 0
    check_looks = 0
    if check_runs:
        tasks = []
        for opt in opts:
            if opt.group != "gate" or opt.key == "cs-default":
                continue
            for sc in scen:
                if sc is AA_SCENARIOS[2] or (sc.kind == "linear" and opt.key not in (
                        "cs-8", "count-default", "gst-pocock-1")):
                    continue
                sub = Sim(sc, *(getattr(sims[sc.name], f)[:check_runs] for f in
                                ("n_t", "n_c", "e_t", "e_c", "s_t", "q_t", "s_c", "q_c")))
                tasks.append((opt, sc, (option_spec(opt, sc), sub, range(check_runs),
                                        sc not in AA_SCENARIOS)))
        if args.jobs > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(args.jobs) as pool:
                outs = pool.map(_gate_worker, [t[2] for t in tasks])
        else:
            outs = [_gate_worker(t[2]) for t in tasks]
        for (opt, sc, _), tr in zip(tasks, outs):
            re_, rl, _, _ = flags[opt.key, sc.name]
            check_looks += check_replica(f"{opt.key}, {sc.name}", tr, signals(opt.key, sc.name),
                                         [re_, rl], srm[sc.name])
            checked += 1
    timing["real gate, other settings (replica check)"] = time.perf_counter() - t0
    total = time.perf_counter() - t_start

    # ---------------------------------------------------------------- tables
    se = math.sqrt(ALPHA * (1 - ALPHA) / gate_runs)
    L: list[str] = []
    L += [
        f"# Canary / linear gate: calibration and detection ({dt.date.today().isoformat()})",
        "",
        (f"{runs:,} runs per scenario, {LOOKS} looks, alpha = {ALPHA} (per gating metric "
         f"{ALPHA_R} for rollback), seed {args.seed}."),
        f"Machine: {machine()}; {args.jobs} processes for the real gate.",
        "Wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timing.items())
        + f"; total {total:.0f} s.",
        (f"Real gate: {gate_runs:,} runs per scenario, {gate_looks:,} looks "
         f"({1e3 * timing['real gate, default spec'] * args.jobs / max(gate_looks, 1):.2f} ms "
         f"per look per process); replica identical to it on every one of those looks, and on "
         f"{check_looks:,} looks of {checked} (setting, scenario) checks with {check_runs} runs "
         "each for the other settings."),
        "",
        f"## 1. A/A through the real gate (default spec; binomial se at 5 %: {pct(se)})",
        "",
        ("Spec: the two guardrails of `data/linear.toml` (error_rate margin +50 %, latency "
         "margin +5 %, min_samples 500), method cs, tightest_at 10,000, srm_threshold 0.001."),
        "",
        "| rate over the runs | " + " | ".join(sc.name for sc in AA_SCENARIOS) + " |",
        "|---|" + "---:|" * len(AA_SCENARIOS),
    ]
    def go_after(sig: np.ndarray) -> np.ndarray:  # a go, then a no-go at a later look
        return first_true(sig == GO) < first_true(sig == NOGO)

    aa_rows = [
        ("**false rollback: decision = no-go** (a no-go at any of the 100 looks)",
         lambda tr: (decisions(tr.signal)[0] == NOGO).mean()),
        ("of which the no-go came after a go (a promotion reversed)",
         lambda tr: (go_after(tr.signal) & (decisions(tr.signal)[0] == NOGO)).mean()),
        ("error_rate regressed at some look", lambda tr: tr.regressed[:, :, 0].any(1).mean()),
        ("latency regressed at some look", lambda tr: tr.regressed[:, :, 1].any(1).mean()),
        ("sequential SRM fired at some look", lambda tr: tr.srm.any(1).mean()),
        ("a step passed (signal step-passed) at some look",
         lambda tr: (tr.signal == STEP_PASSED).any(1).mean()),
        ("**promoted by the end (decision = go)**",
         lambda tr: (decisions(tr.signal)[0] == GO).mean()),
        ("a go signal before any no-go (what a live gate promotes)",
         lambda tr: live_promoted(tr.signal).mean()),
    ]
    for label, fn in aa_rows:
        L.append(f"| {label} | " + " | ".join(pct(fn(traces[sc.name])) for sc in AA_SCENARIOS)
                 + " |")

    def look_stats(first: np.ndarray) -> str:
        first = first[first <= LOOKS]
        if not first.size:
            return "-"
        return (f"{quant(first, 0.5):.0f} / {quant(first, 0.9):.0f} "
                f"({first.min():.0f}-{first.max():.0f})")

    L.append("| look of the first go, median / p90 (earliest-latest) | " + " | ".join(
        look_stats(first_true(traces[sc.name].signal == GO)) for sc in AA_SCENARIOS) + " |")
    L.append("| look of the first step-passed, median / p90 (earliest-latest) | " + " | ".join(
        look_stats(first_true(traces[sc.name].signal == STEP_PASSED)) for sc in AA_SCENARIOS)
        + " |")
    fin = [schedule_facts(sc.kind) for sc in AA_SCENARIOS]
    L += ["", "Final shift (the end of the last step with both variants; GO only at or after "
          "it): " + "; ".join(f"{sc.name}: " + ("none (fixed split: GO as soon as the "
                                                "evidence holds)" if f[3] is None else
                                                f"{f[3]:.0f} s = look {f[3] / f[2]:.0f}")
                              for sc, f in zip(AA_SCENARIOS, fin)) + "."]

    # ---- options, A/A
    L += [
        "",
        "## 2. A/A for every method and setting (same simulated runs)",
        "",
        ("Rate of runs in which the method ever rolls back within 100 looks: error_rate / "
         "latency / either guardrail (for the gate's settings: any no-go signal, SRM "
         "included; a no-go at any look is the decision no-go) / for the gate's settings, "
         "promoted by the end (decision go: a go and no no-go in the 100 looks). "
         f"Per-metric level {ALPHA_R}, whole gate {ALPHA}. N = 100 looks x requests per look "
         f"(the planned horizon). se at 2.5 %: {pct(math.sqrt(0.025 * 0.975 / runs))}."),
        "",
        "| method | " + " | ".join(sc.name for sc in AA_SCENARIOS) + " |",
        "|---|" + "---:|" * len(AA_SCENARIOS),
    ]
    for opt in opts:
        cells = []
        for sc in AA_SCENARIOS:
            re_, rl, _, _ = flags[opt.key, sc.name]
            either = re_ | rl
            parts = [pct(ever(re_)), pct(ever(rl))]
            if opt.group == "gate":
                sig = signals(opt.key, sc.name)
                parts.append(pct(float((decisions(sig)[0] == NOGO).mean())))
                parts.append(pct(float((decisions(sig)[0] == GO).mean())))
            else:
                parts.append(pct(ever(either)))
            cells.append(" / ".join(parts))
        mark = " (*)" if opt.group == "change" else ""
        L.append(f"| {opt.label}{mark} | " + " | ".join(cells) + " |")
    L += ["", "(*) not available in the gate today: needs a code change (replica only)."]

    # ---- detection
    for di, (sc, mi, aa_i) in enumerate(DET_SCENARIOS):
        aa = AA_SCENARIOS[aa_i]
        metric = ("error_rate", "latency")[mi]
        b = sc.batch
        L += [
            "",
            f"## 3{'abcdef'[di]}. Time to roll back: {sc.name}",
            "",
            (f"First look at which the method flags {metric} (per-metric level {ALPHA_R}). "
             "'vs mSPRT': mean looks to detection (runs not detected count as 101) relative to "
             "the mSPRT's, and the share of runs in which the method detects later / earlier "
             "than the mSPRT on the same data. 'A/A': the same test's false-rollback rate on "
             f"the A/A runs with the same traffic ({aa.name}). 'promoted, live / by the end': "
             "runs in which the gate with that setting signals go before any no-go (what a "
             "live gate promotes: the candidate then takes all traffic) / whose replay "
             "decision after the 100 looks is GO (a go and no no-go at any look); both are "
             "false promotions, the true harm being the margin. The whole-gate rows count a "
             "run as detected at its first no-go, also after a go (a no-go at any look is "
             "the decision)."),
            "",
            ("| method | detected | looks median | looks p90 | requests median | requests p90 "
             "| canary requests median | vs mSPRT (± se) | later / earlier "
             "| promoted, live / by the end | A/A |"),
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        ref = first_true(flags["msprt", sc.name][mi])
        nt_cum = np.cumsum(sims[sc.name].n_t, axis=1)

        def row(label: str, first: np.ndarray, aa_rate: str, promoted: str = "-", *,
                ref: np.ndarray = ref, nt_cum: np.ndarray = nt_cum, b: int = b) -> str:
            """``first`` covers the first len(first) runs (all, or the real-gate runs)."""
            det = float((first <= LOOKS).mean())
            med, p90 = quant(first, 0.5), quant(first, 0.9)
            hit = first <= LOOKS
            can = nt_cum[np.arange(len(first))[hit], first[hit] - 1]
            can_med = f"{np.quantile(can, 0.5, method='inverted_cdf'):,.0f}" if can.size else "-"
            r0 = ref[:len(first)]
            diff = np.minimum(first, LOOKS + 1) - np.minimum(r0, LOOKS + 1)
            rel = diff.mean() / np.minimum(r0, LOOKS + 1).mean()
            rel_se = diff.std(ddof=1) / math.sqrt(len(diff)) / np.minimum(r0, LOOKS + 1).mean()
            later = float((first > r0).mean())
            earlier = float((first < r0).mean())
            return (f"| {label} | {det:.3f} | {fmt_looks(med)} | {fmt_looks(p90)} | "
                    f"{fmt_req(med, b)} | {fmt_req(p90, b)} | {can_med} | "
                    f"{100 * rel:+.1f} ± {100 * rel_se:.1f} % | "
                    f"{100 * later:.0f} / {100 * earlier:.0f} % | {promoted} | {aa_rate} |")

        def promoted(key: str, name: str = sc.name) -> str:
            return promo(signals(key, name))

        for opt in opts:
            first = first_true(flags[opt.key, sc.name][mi])
            mark = " (*)" if opt.group == "change" else ""
            if (opt.key == "count-8" or (mi == 1 and opt.key.startswith("count"))
                    or (mi == 1 and opt.key == "designvar")):
                continue  # rows identical to another row of this table
            L.append(row(opt.label + mark, first, pct(ever(flags[opt.key, aa.name][mi])),
                         promoted(opt.key) if opt.group == "gate" else "-"))
        tr = traces[sc.name]
        code, at = decisions(tr.signal)
        first_gate = np.where(code == NOGO, at, LOOKS + 1)
        L.append(row(f"**the real gate, default: decision no-go** ({gate_runs:,} runs)",
                     first_gate,
                     pct(float((decisions(traces[aa.name].signal)[0] == NOGO).mean())),
                     promo(tr.signal)))
        sig = signals("count-8", sc.name)
        code8, at8 = decisions(sig)
        L.append(row("whole gate, error_rate as count + tightest_at = N/8: decision no-go "
                     "(replica)", np.where(code8 == NOGO, at8, LOOKS + 1),
                     pct(float((decisions(signals("count-8", aa.name))[0] == NOGO).mean())),
                     promo(sig)))
    L += [
        "",
        "## 4. Sequential SRM at a share change (Linear10PercentEvery1Minute, 2,000 req/look)",
        "",
        (f"{srm_runs} A/A runs (no metric effect) per row pair whose router delivers 20 % or "
         "25 % to the candidate from look 21 (the first look of step 3, scheduled 30 %) to "
         "look 90; threshold 0.001. The gate's per-step SRM (real gate; the replica identical "
         "at every look) against the e-process pooled over all steps that the gate used "
         "before #11 (replica)."),
        "",
        "| sequential SRM | flagged by look 90 | first flag: median | p90 | earliest | "
        "flagged at look 21 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, first in srm_rows:
        L.append(f"| {label} | {100 * (first <= 90).mean():.1f} % | "
                 f"{fmt_looks(quant(first, 0.5))} | {fmt_looks(quant(first, 0.9))} | "
                 f"{fmt_looks(float(first.min()))} | {100 * (first == 21).mean():.1f} % |")
    text = "\n".join(L) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
