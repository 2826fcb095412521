"""Calibration and detection speed of sequential rollout gates (see bench/SEQUENTIAL.md).

    .venv/bin/python bench/sequential_calibration.py            # ~50 s on 2 vCPUs
    .venv/bin/python bench/sequential_calibration.py --runs 4000 --out bench/out/sequential.md

Every gate is one-sided (roll back when the canary is *worse*: higher error rate, higher
latency), level alpha = 0.05, evaluated at each of 100 looks; a run "rolls back" at the first
look where the gate fires.

Gates:

* ``cs``: abkit's asymptotic confidence sequence on the inverse-propensity pseudo-outcomes,
  ``SequentialDiffStats.regressed(0, "increase")`` (lower bound of the one-sided CS > 0),
  robust variance (default), ``rho = rho_for(n_opt, alpha, "greater")``.
* ``cs-sample-var``: the same with the paper's plain sample variance (``variance="sample"``).
* ``naive``: fixed-horizon one-sided z-test (z > 1.645) on the same estimate with the sample
  variance, re-applied at every look.
* ``bonferroni``: the same z-test at alpha / 100 (z > 3.09) at every look.
* ``msprt``: one-sided normal-mixture mSPRT (Johari et al. 2022, half-normal mixture),
  ``tau = tau_for_effect(effect of interest)``, robust plug-in variance, rejects when
  ``Lambda_n >= 1 / alpha``.

Scenarios (10 % canary share unless stated):

* error rate: Bernoulli, 1.0 % in both arms (A/A) or 1.0 % -> 1.5 % (detection); looks of
  2,000 units (200 canary units), 100 looks. Per look and arm the counts are drawn exactly
  (binomial), so this is an exact simulation of the sufficient statistics.
* error rate, linear ramp: A/A with the share stepping 1 %, 5 %, 10 %, 25 %, 50 % every 20
  looks.
* latency: lognormal, mean 120 ms, sigma_log 0.5 (sd ~64 ms), A/A or treatment mean +5 %
  (126 ms, the whole distribution scaled by 1.05); looks of 1,000 units; simulated unit by
  unit and reduced per look to each arm's count, sum and sum of squares. The pseudo-outcomes
  are centred at the pre-period mean 120 ms.

The cumulative statistics are computed on whole arrays with the algebra of
``SequentialDiffStats.from_arm_sums`` / ``__add__`` (tests/test_sequential.py checks that
this reproduces the object API look by look), and the boundaries with abkit's vectorised
``cs_radius`` and ``msprt_log_lr``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtri

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from abkit.stats.sequential import cs_radius, msprt_log_lr, rho_for, tau_for_effect

ALPHA = 0.05
LOOKS = 100
SHARE = 0.10
RAMP = np.repeat([0.01, 0.05, 0.10, 0.25, 0.50], LOOKS // 5)
GATES = ("cs", "cs-sample-var", "naive", "bonferroni", "msprt")


# --------------------------------------------------------------------------- simulation


def bernoulli_arms(rng, runs, batch, share, p_c, p_t):
    share = np.broadcast_to(np.asarray(share, dtype=float), (LOOKS,))
    n_t = rng.binomial(batch, share, size=(runs, LOOKS))
    n_c = batch - n_t
    s_t = rng.binomial(n_t, p_t).astype(float)
    s_c = rng.binomial(n_c, p_c).astype(float)
    return share, n_t, s_t, s_t, n_c, s_c, s_c


def lognormal_arms(rng, runs, batch, share, mean_c, mean_t, sigma=0.5, chunk=250):
    out = {k: np.zeros((runs, LOOKS)) for k in ("n_t", "s_t", "q_t", "n_c", "s_c", "q_c")}
    mu_c = math.log(mean_c) - sigma**2 / 2
    mu_t = math.log(mean_t) - sigma**2 / 2
    for lo in range(0, runs, chunk):
        hi = min(lo + chunk, runs)
        for k in range(LOOKS):
            t = rng.random((hi - lo, batch)) < share
            y = np.exp(np.where(t, mu_t, mu_c) + sigma * rng.standard_normal((hi - lo, batch)))
            yt = np.where(t, y, 0.0)
            yc = y - yt
            out["n_t"][lo:hi, k] = t.sum(1)
            out["s_t"][lo:hi, k] = yt.sum(1)
            out["q_t"][lo:hi, k] = (yt * yt).sum(1)
            out["s_c"][lo:hi, k] = yc.sum(1)
            out["q_c"][lo:hi, k] = (yc * yc).sum(1)
    out["n_c"] = batch - out["n_t"]
    return (np.full(LOOKS, share), out["n_t"], out["s_t"], out["q_t"], out["n_c"], out["s_c"],
            out["q_c"])


def cumulate(share, n_t, s_t, q_t, n_c, s_c, q_c, center=0.0):
    """Cumulative n, estimate, sample and robust variance, both-arms-present, per look."""
    p = share[None, :]
    d_t = q_t - 2 * center * s_t + n_t * center**2
    d_c = q_c - 2 * center * s_c + n_c * center**2
    s1 = ((s_t - n_t * center) / p - (s_c - n_c * center) / (1 - p)).cumsum(1)
    s2 = (d_t / p**2 + d_c / (1 - p) ** 2).cumsum(1)
    s0 = ((d_t + d_c) / (p * (1 - p))).cumsum(1)
    n = (n_t + n_c).cumsum(1)
    est = s1 / n
    var_s = np.maximum((s2 - s1 * est) / (n - 1), 0.0)
    var_r = np.maximum(var_s, np.maximum((s0 - s1 * est) / (n - 1), 0.0))
    ok = (n_t.cumsum(1) > 0) & (n_c.cumsum(1) > 0)
    return n, est, var_s, var_r, ok


def first_alarm(hit: np.ndarray) -> np.ndarray:
    """1-based look of the first alarm per run; LOOKS + 1 when it never fires."""
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, LOOKS + 1)


def gate_alarms(cum, n_opt: float, effect: float) -> dict[str, np.ndarray]:
    n, est, var_s, var_r, ok = cum
    rho = rho_for(n_opt, ALPHA, "greater")
    out = {}
    out["cs"] = first_alarm(ok & (est - cs_radius(n, var_r, ALPHA, rho, "greater") > 0))
    r_s = cs_radius(n, var_s, ALPHA, rho, "greater")
    out["cs-sample-var"] = first_alarm(ok & (est - r_s > 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / np.sqrt(var_s / n)
    out["naive"] = first_alarm(ok & (var_s > 0) & (z > ndtri(1 - ALPHA)))
    out["bonferroni"] = first_alarm(ok & (var_s > 0) & (z > ndtri(1 - ALPHA / LOOKS)))
    good = ok & (var_r > 0)
    llr = msprt_log_lr(n, est, np.where(good, var_r, 1.0), tau_for_effect(effect), "greater")
    out["msprt"] = first_alarm(good & (llr >= math.log(1 / ALPHA)))
    return out


def proceed_alarms(cum, n_opt: float, effect: float, margin: float) -> dict[str, np.ndarray]:
    """First look at which each gate declares non-inferiority: harm < margin (harm = effect,
    "increase" is harmful), i.e. the one-sided upper bound of the effect below ``margin``."""
    n, est, var_s, var_r, ok = cum
    rho = rho_for(n_opt, ALPHA, "less")
    out = {}
    out["cs"] = first_alarm(ok & (est + cs_radius(n, var_r, ALPHA, rho, "less") < margin))
    r_s = cs_radius(n, var_s, ALPHA, rho, "less")
    out["cs-sample-var"] = first_alarm(ok & (est + r_s < margin))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (est - margin) / np.sqrt(var_s / n)
    out["naive"] = first_alarm(ok & (var_s > 0) & (z < -ndtri(1 - ALPHA)))
    out["bonferroni"] = first_alarm(ok & (var_s > 0) & (z < -ndtri(1 - ALPHA / LOOKS)))
    good = ok & (var_r > 0)
    llr = msprt_log_lr(n, est, np.where(good, var_r, 1.0), tau_for_effect(effect), "less",
                       null=margin)
    out["msprt"] = first_alarm(good & (llr >= math.log(1 / ALPHA)))
    return out


# --------------------------------------------------------------------------- reporting


def rate(first: np.ndarray) -> float:
    return float((first <= LOOKS).mean())


def quant(first: np.ndarray, q: float, batch: int) -> tuple[str, str]:
    v = float(np.quantile(first, q, method="inverted_cdf"))
    if v > LOOKS:
        return f">{LOOKS}", f">{LOOKS * batch:,}"
    return f"{v:.0f}", f"{v * batch:,.0f}"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"nproc {os.cpu_count()}, {cpu}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    runs = args.runs
    t0 = time.perf_counter()

    # (name, batch, n_opt, effect, cumulative statistics)
    aa = {
        "error rate 1%": (2000, 50_000, 0.005,
                          cumulate(*bernoulli_arms(rng, runs, 2000, SHARE, 0.01, 0.01))),
        "error rate 1%, ramp 1-50%": (2000, 50_000, 0.005,
                                      cumulate(*bernoulli_arms(rng, runs, 2000, RAMP, 0.01, 0.01))),
        "latency 120 ms": (1000, 15_000, 6.0,
                           cumulate(*lognormal_arms(rng, runs, 1000, SHARE, 120.0, 120.0),
                                    center=120.0)),
    }
    detect = {
        "error rate 1.0% -> 1.5%": (
            2000, 50_000, 0.005, cumulate(*bernoulli_arms(rng, runs, 2000, SHARE, 0.010, 0.015))
        ),
        "latency +5% (120 -> 126 ms)": (1000, 15_000, 6.0,
                                        cumulate(*lognormal_arms(rng, runs, 1000, SHARE, 120.0,
                                                                 126.0), center=120.0)),
    }
    aa_first = {k: gate_alarms(v[3], v[1], v[2]) for k, v in aa.items()}
    det_first = {k: (v[0], gate_alarms(v[3], v[1], v[2])) for k, v in detect.items()}
    # non-inferiority with margin = the effect: false "proceed" when the true harm IS the
    # margin (the detection data), time to "proceed" when there is no harm (the A/A data)
    ni = {
        "error rate, margin +0.5 pp": ("error rate 1%", "error rate 1.0% -> 1.5%"),
        "latency, margin +6 ms": ("latency 120 ms", "latency +5% (120 -> 126 ms)"),
    }
    ni_false = {k: proceed_alarms(detect[d][3], detect[d][1], detect[d][2], detect[d][2])
                for k, (a, d) in ni.items()}
    ni_time = {k: (aa[a][0], proceed_alarms(aa[a][3], aa[a][1], aa[a][2], aa[a][2]))
               for k, (a, d) in ni.items()}
    elapsed = time.perf_counter() - t0

    se = math.sqrt(ALPHA * (1 - ALPHA) / runs)
    lines = [
        f"# Sequential gates: calibration and detection ({dt.date.today().isoformat()})",
        "",
        (f"{runs} runs per scenario, {LOOKS} looks, one-sided alpha = {ALPHA}, "
         f"seed {args.seed}; {machine()}; simulation {elapsed:.1f} s."),
        "",
        f"## A/A: false-rollback rate (ever fired in {LOOKS} looks; binomial se ~{se:.4f})",
        "",
        "| gate | " + " | ".join(aa) + " |",
        "|---|" + "---:|" * len(aa),
    ]
    for g in GATES:
        lines.append(f"| {g} | " + " | ".join(f"{rate(aa_first[k][g]):.4f}" for k in aa) + " |")
    lines += [
        "",
        ("## Non-inferiority: false-proceed rate (true harm = margin; declared non-inferior "
         f"at any of {LOOKS} looks)"),
        "",
        "| gate | " + " | ".join(ni) + " |",
        "|---|" + "---:|" * len(ni),
    ]
    for g in GATES:
        lines.append(f"| {g} | " + " | ".join(f"{rate(ni_false[k][g]):.4f}" for k in ni) + " |")

    def timing(title: str, batch: int, firsts: dict[str, np.ndarray]) -> None:
        lines.extend([
            "",
            f"## {title}, {int(SHARE * 100)}% canary, looks of {batch:,} units",
            "",
            "| gate | fired | median looks | p90 looks | median units | p90 units |",
            "|---|---:|---:|---:|---:|---:|",
        ])
        for g in GATES:
            f = firsts[g]
            ml, mu = quant(f, 0.5, batch)
            pl, pu = quant(f, 0.9, batch)
            lines.append(f"| {g} | {rate(f):.3f} | {ml} | {pl} | {mu} | {pu} |")

    for name, (batch, firsts) in det_first.items():
        timing(f"Time to roll back: {name}", batch, firsts)
    for name, (batch, firsts) in ni_time.items():
        timing(f"Time to proceed (A/A, non-inferiority {name})", batch, firsts)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
