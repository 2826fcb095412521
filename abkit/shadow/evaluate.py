"""Shadow-test statistics on matched pairs, and the go / no-go rule.

Input: the matched pairs (one row per request answered by live and candidate, with the label
when one arrived), optional per-request latencies / errors or CloudWatch aggregates. Output:
the ``shadow`` section of the report and the decision with its reasons.

Decision (documented in the README):

* quality guardrails (``auc``, ``accuracy``, ``brier``, ``log_loss``; margin absolute on the
  metric's scale): *pass* when non-inferiority within the margin is shown at ``alpha``
  (DeLong for AUC, Newcombe interval for accuracy, paired t-test on per-request losses for
  Brier and log loss), or when the two models' answers are identical; *fail* when the
  two-sided ``1 - alpha`` interval of the difference lies entirely beyond the margin on the
  worse side; *inconclusive* otherwise, and whenever there are fewer than
  ``min_labelled_pairs`` labelled pairs;
* latency (``latency_pNN``, margin = tolerated relative increase of the quantile): pass when
  the interval of candidate / live lies below ``1 + margin``, fail when it lies above;
* errors (``error_rate``, margin absolute): pass when the Newcombe interval of the difference
  lies below the margin, fail when it lies above;
* bias (``bias_dppl``, margin absolute): pass when every group's change in DPPL has its
  interval inside ``[-margin, margin]``, fail when one lies entirely outside;
* ``no-go`` if any guardrail fails; ``go`` if every guardrail passes; else ``inconclusive``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..spec import ExperimentSpec, MetricSpec

__all__ = ["ShadowInputs", "Verdict", "evaluate_shadow"]

_QUALITY = ("auc", "accuracy", "brier", "log_loss")


@dataclass
class ShadowInputs:
    """What the loaders hand to :func:`evaluate_shadow`."""

    pairs: pd.DataFrame  # output_live, output_shadow, label, time, features ...
    unmatched: dict[str, int]
    pairs_info: dict[str, Any]
    latency: dict[str, Any] | None = None  # {"paired": bool, "live": arr, "candidate": arr}
    # or {"cloudwatch": {"live": [PeriodSummary], "candidate": [...]}, "unit": "ms"}
    errors: dict[str, Any] | None = None  # {"live": (errors, requests), "candidate": (...)}
    endpoint_config: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    metric: str
    kind: str
    role: str
    status: str  # pass | fail | inconclusive
    live: float | None
    candidate: float | None
    diff: float | None
    ci: tuple[float, float] | None
    pvalue: float | None
    margin: float
    method: str
    reason: str
    diagnostics: tuple[dict, ...] = ()


def _f(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _hourly_windows(times: pd.Series) -> pd.Series:
    """Window labels (UTC hour starts, ISO) for each pair; halves when all in one hour."""
    t = pd.to_datetime(times, utc=True)
    hours = t.dt.floor("h")
    if hours.nunique() >= 2:
        return hours.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    mid = t.min() + (t.max() - t.min()) / 2
    lab = np.where(t <= mid, "first half", "second half")
    return pd.Series(lab, index=times.index)


def _drift(spec: ExperimentSpec, pairs: pd.DataFrame) -> tuple[list[dict], list[str]]:
    from ..stats.drift import drift_onset, drift_table

    sh = spec.shadow
    assert sh is not None
    out: list[dict] = []
    notes: list[str] = []
    if len(pairs) < 20 or "time" not in pairs:
        return out, ["too few pairs (or no times) for drift measures"]
    win = _hourly_windows(pairs["time"])
    labels = list(dict.fromkeys(sorted(win.unique())))
    first, last = labels[0], labels[-1]
    ref_mask, cur_mask = (win == first).to_numpy(), (win == last).to_numpy()
    cols = [c for c in sh.features if c in pairs.columns]
    series = {c: pairs[c].to_numpy() for c in cols}
    series["output (live)"] = pairs["output_live"].to_numpy(float)
    series["output (candidate)"] = pairs["output_shadow"].to_numpy(float)
    cat = set(sh.categorical)
    # over time: the first window against the last, and the onset hour by hour
    table = drift_table({k: v[ref_mask] for k, v in series.items()},
                        {k: v[cur_mask] for k, v in series.items()}, categorical=cat)
    # flags come from the tests that account for sample size (KS for numbers, chi-square for
    # categories, each with an effect floor); PSI, JS and Wasserstein are reported as sizes
    flagging = {"ks", "chi2"}
    primary = {}
    for r in table:
        d = r.to_dict()
        feat = d.get("feature")
        d["flags"] = d["method"] in flagging
        onset = None
        if d["flags"] and d.get("drifted") and len(labels) > 2:
            # onset: hour by hour against the first window, by the effect size (normalised
            # Wasserstein, PSI for categories), from the first window that stays drifted
            if feat not in primary:
                wins = [(lab, series[feat][(win == lab).to_numpy()]) for lab in labels[1:]]
                o = drift_onset(wins, series[feat][ref_mask],
                                "psi" if feat in cat else "wasserstein", categorical=feat in cat)
                primary[feat] = o.onset
            onset = primary[feat]
        out.append({**d, "feature": feat, "scope": f"time: {first} vs {last}",
                    "onset": None if onset is None else str(onset)})
    # between variants: the outputs on the same requests
    for r in drift_table({"output": series["output (live)"]},
                         {"output": series["output (candidate)"]}):
        d = r.to_dict()
        d["flags"] = d["method"] in flagging
        out.append({**d, "feature": "output", "scope": "variants: live vs candidate",
                    "onset": None})
    drifted_inputs = sorted({d["feature"] for d in out if d["drifted"] and d["flags"] and
                             d["scope"].startswith("time") and d["feature"] in cols})
    if drifted_inputs:
        notes.append(
            f"input drift over time in {', '.join(drifted_inputs)}: live and candidate see the "
            "same requests in a shadow test, so this drift belongs to the traffic, not to the "
            "candidate")
    out_live = any(d["drifted"] and d["flags"] for d in out
                   if d["feature"] == "output (live)")
    out_cand = any(d["drifted"] and d["flags"] for d in out
                   if d["feature"] == "output (candidate)")
    if out_cand and not out_live:
        notes.append("the candidate's outputs drift over time while live's do not: a change "
                     "in the candidate's behaviour, not in the traffic")
    elif out_cand and out_live:
        notes.append("both models' outputs drift over time: it follows the traffic")
    return out, notes


def _quality(spec, m: MetricSpec, q: dict, n_lab: int, alpha: float) -> Verdict:
    sh = spec.shadow
    row = q.get(m.name) or {}
    live, cand, diff = _f(row.get("live")), _f(row.get("candidate")), _f(row.get("diff"))
    ci = row.get("ci")
    ci_t = None if not ci else (float(ci["low"]), float(ci["high"]))
    higher = bool(row.get("higher_is_better", m.good == "increase"))
    method = str(row.get("method", ""))
    diags = tuple(row.get("diagnostics", ()))
    nip = _f(row.get("noninferiority_pvalue"))
    kind = "quality"
    if n_lab < sh.min_labelled_pairs:
        return Verdict(m.name, kind, m.role, "inconclusive", live, cand, diff, ci_t, nip,
                       m.margin, method,
                       f"{m.name}: only {n_lab} labelled pairs (min_labelled_pairs "
                       f"{sh.min_labelled_pairs}): too few to judge a margin of {m.margin:g}")
    if diff is not None and diff == 0.0 and ci_t is None:
        return Verdict(m.name, kind, m.role, "pass", live, cand, diff, ci_t, nip, m.margin,
                       method, f"{m.name}: the candidate's answers equal live's "
                       f"({live if live is None else round(live, 4)}) on every labelled pair")
    worse = (lambda x: x < -m.margin) if higher else (lambda x: x > m.margin)
    shown_ni = nip is not None and nip < alpha
    if nip is None and ci_t is not None:  # accuracy: the interval's far end vs the margin
        shown_ni = ci_t[0] > -m.margin if higher else ci_t[1] < m.margin
    if shown_ni:
        return Verdict(m.name, kind, m.role, "pass", live, cand, diff, ci_t, nip, m.margin,
                       method, f"{m.name} non-inferior: {_num(cand)} vs live {_num(live)}, "
                       f"difference {_signed(diff)} {_ci(ci_t)} within margin {m.margin:g}")
    if ci_t is not None and worse(ci_t[0]) and worse(ci_t[1]):
        return Verdict(m.name, kind, m.role, "fail", live, cand, diff, ci_t, nip, m.margin,
                       method, f"{m.name} is worse than live beyond the margin: {_num(cand)} vs "
                       f"{_num(live)}, difference {_signed(diff)} {_ci(ci_t)}, margin "
                       f"{m.margin:g}")
    return Verdict(m.name, kind, m.role, "inconclusive", live, cand, diff, ci_t, nip, m.margin,
                   method, f"{m.name} not shown non-inferior within {m.margin:g}: difference "
                   f"{_signed(diff)} {_ci(ci_t)} ({n_lab} labelled pairs)", diags)


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4g}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "[n/a]" if ci is None else f"[{ci[0]:+.4g}, {ci[1]:+.4g}]"


def _latency(inp: ShadowInputs, level: float) -> dict[str, Any] | None:
    lat = inp.latency
    if not lat:
        return None
    if "cloudwatch" in lat:
        from ..stats.latency import window_quantile

        from scipy.stats import norm

        out: dict[str, Any] = {"source": "cloudwatch", "unit": lat.get("unit", "ms"),
                               "quantiles": {}}
        z = float(norm.ppf(1.0 - (1.0 - level) / 4.0))  # each arm at 1 - alpha/2
        for q in (0.5, 0.95, 0.99):
            key = f"p{q * 100:g}"
            row: dict[str, Any] = {}
            ends = {}
            for side in ("live", "candidate"):
                periods = lat["cloudwatch"][side]
                w = window_quantile(periods, q).to_dict()
                n = float(w.get("sample_count") or 0.0)
                half = z * (q * (1.0 - q) / n) ** 0.5 if n else None
                lo = hi = None
                if half is not None and q - half > 0 and q + half < 1:
                    lo = _f(window_quantile(periods, q - half).to_dict().get("estimate"))
                    hi = _f(window_quantile(periods, q + half).to_dict().get("estimate"))
                w["ci"] = None if lo is None or hi is None else {"low": lo, "high": hi}
                row[side] = w
                ends[side] = (_f(w.get("estimate")), lo, hi)
            (el, ll, hl), (ec, lc, hc) = ends["live"], ends["candidate"]
            row["ratio"] = ec / el if el and ec is not None else None
            row["ratio_ci"] = ({"low": lc / hl, "high": hc / ll}
                               if None not in (ll, hl, lc, hc) and hl and ll else None)
            out["quantiles"][key] = row
        out["method"] = (
            "window quantiles from CloudWatch per-period percentiles: the sample-count-weighted "
            "mixture of the periods' distributions (never an average of per-period "
            "percentiles); each quantile's interval maps the binomial order-statistic levels "
            "q +/- z sqrt(q(1-q)/N) through that mixture at 1 - alpha/2, and the ratio's "
            "interval divides the ends (conservative); the bracket is where the window "
            "quantile must lie whatever the within-period shapes")
        return out
    from ..stats.latency import compare_latency

    res = compare_latency(np.asarray(lat["live"], float), np.asarray(lat["candidate"], float),
                          paired=bool(lat.get("paired")), confidence_level=level,
                          unit=lat.get("unit"))
    d = res.to_dict()
    d["quantiles"] = {f"p{row['q'] * 100:g}": {**row, "ratio_ci": row.get("ci")}
                      for row in d["quantiles"]}
    d["source"] = "requests"
    return d


def _latency_verdict(m: MetricSpec, lat: dict | None) -> Verdict:
    q = m.name.split("_p", 1)[1]
    key = f"p{q}"
    if lat is None:
        return Verdict(m.name, "latency", m.role, "inconclusive", None, None, None, None, None,
                       m.margin, "", f"{m.name}: no latency data (give latency_column for "
                       "logs, or cloudwatch = <export prefix> for a capture tree)")
    row = (lat.get("quantiles") or {}).get(key) or {}
    if lat.get("source") == "cloudwatch":
        ratio = _f(row.get("ratio"))
        rci = row.get("ratio_ci")
        ci = None if not rci else (float(rci["low"]), float(rci["high"]))
        live = _f((row.get("live") or {}).get("estimate"))
        cand = _f((row.get("candidate") or {}).get("estimate"))
        method = "CloudWatch window quantile ratio"
    else:
        ratio = _f(row.get("ratio"))
        rci = row.get("ratio_ci")
        ci = None if not rci else (float(rci["low"]), float(rci["high"]))
        live = _f((row.get("live") or {}).get("estimate"))
        cand = _f((row.get("candidate") or {}).get("estimate"))
        method = str(lat.get("method", "bootstrap ratio of quantiles"))
    limit = 1.0 + m.margin
    if ratio is None:
        return Verdict(m.name, "latency", m.role, "inconclusive", live, cand, None, ci, None,
                       m.margin, method, f"{m.name}: the ratio could not be computed")
    lo, hi = ci if ci is not None else (ratio, ratio)
    text = f"{m.name}: candidate / live = {ratio:.3f} [{lo:.3f}, {hi:.3f}], budget {limit:.3f}"
    if hi <= limit:
        status = "pass"
    elif lo > limit:
        status = "fail"
        text = f"{m.name} over budget: " + text.split(": ", 1)[1]
    else:
        status = "inconclusive"
    return Verdict(m.name, "latency", m.role, status, live, cand, ratio - 1.0,
                   (lo - 1.0, hi - 1.0), None, m.margin, method, text)


def _errors(inp: ShadowInputs, spec: ExperimentSpec, level: float) -> dict | None:
    e = inp.errors
    if not e:
        return None
    from ..stats.latency import compare_error_rates

    margin = next((m.margin for m in spec.metrics if m.name == "error_rate"), 0.0)
    (le, ln), (ce, cn) = e["live"], e["candidate"]
    r = compare_error_rates(int(le), int(ln), int(ce), int(cn), margin=margin,
                            confidence_level=level)
    return {**r.to_dict(), "source": e.get("source", "requests")}


def _error_verdict(m: MetricSpec, err: dict | None) -> Verdict:
    if err is None:
        return Verdict(m.name, "errors", m.role, "inconclusive", None, None, None, None, None,
                       m.margin, "", "error_rate: no error data (give error_column for logs, "
                       "or cloudwatch = <export prefix> for a capture tree)")
    live = _f((err.get("live") or {}).get("rate"))
    cand = _f((err.get("candidate") or {}).get("rate"))
    diff = _f(err.get("difference"))
    ci = err.get("ci")
    ci_t = None if not ci else (float(ci["low"]), float(ci["high"]))
    method = "Newcombe hybrid score interval"
    if diff is None or ci_t is None or live is None or cand is None:
        return Verdict(m.name, "errors", m.role, "inconclusive", live, cand, diff, ci_t, None,
                       m.margin, method, "error_rate: no interval (no requests?)")
    text = (f"error rate {cand:.3%} vs live {live:.3%}, difference {diff:+.3%} "
            f"[{ci_t[0]:+.3%}, {ci_t[1]:+.3%}], budget +{m.margin:.3%}")
    status = "pass" if ci_t[1] <= m.margin else "fail" if ci_t[0] > m.margin else "inconclusive"
    if status == "fail":
        text = "error rate over budget: " + text
    return Verdict(m.name, "errors", m.role, status, live, cand, diff, ci_t,
                   _f(err.get("pvalue")), m.margin, method, text)


def _bias(spec, pairs: pd.DataFrame, level: float) -> dict | None:
    sh = spec.shadow
    if not sh.group or sh.group not in pairs.columns:
        return None
    from ..stats.bias import bias_shift

    y = pairs["label"].to_numpy(float) if "label" in pairs else None
    res = bias_shift(pairs[sh.group].astype(str).to_numpy(), pairs["output_live"].to_numpy(float),
                     pairs["output_shadow"].to_numpy(float), y, threshold=sh.threshold,
                     confidence_level=level)
    d = res.to_dict()
    d["group_column"] = sh.group
    return d


def _bias_verdict(m: MetricSpec, bias: dict | None) -> Verdict:
    if bias is None:
        return Verdict(m.name, "bias", m.role, "inconclusive", None, None, None, None, None,
                       m.margin, "", "bias_dppl: no group column (set group = <feature>)")
    worst = None
    status = "pass"
    for c in bias.get("comparisons", []):
        ch = (c.get("dppl") or {}).get("change") or {}
        ci = ch.get("ci")
        est = _f(ch.get("estimate"))
        if est == 0.0 and not ci:  # identical decisions on both sides: no change at all
            ci = {"low": 0.0, "high": 0.0}
        if est is None or not ci:
            status = "inconclusive" if status == "pass" else status
            continue
        lo, hi = float(ci["low"]), float(ci["high"])
        if lo > m.margin or hi < -m.margin:
            status = "fail"
        elif (lo < -m.margin or hi > m.margin) and status == "pass":
            status = "inconclusive"
        if worst is None or abs(est) > abs(worst[1]):
            worst = (c.get("facet_d"), est, (lo, hi))
    if worst is None:
        return Verdict(m.name, "bias", m.role, "inconclusive", None, None, None, None, None,
                       m.margin, "delta method", "bias_dppl: no group could be compared")
    g, est, ci = worst
    text = (f"largest change in DPPL: group {g} {est:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}], "
            f"budget ±{m.margin:g}")
    if status == "fail":
        text = "bias shift over budget: " + text
    return Verdict(m.name, "bias", m.role, status, None, None, est, ci, None, m.margin,
                   str(bias.get("method", "delta")), text)


def evaluate_shadow(spec: ExperimentSpec, inp: ShadowInputs) -> tuple[str, list[str],
                                                                      list[Verdict], dict]:
    """(decision, reasons, verdicts, shadow section)."""
    from ..stats.paired import paired_comparison

    sh = spec.shadow
    assert sh is not None
    level = 1.0 - spec.alpha
    pairs = inp.pairs
    margins = {m.name: m.margin for m in spec.metrics}
    y = pairs["label"].to_numpy(float)
    if sh.output_kind == "regression":  # label-based quality needs 0/1 labels
        y = np.full(len(pairs), np.nan)
    pc = paired_comparison(
        pairs["output_live"].to_numpy(float), pairs["output_shadow"].to_numpy(float), y,
        threshold=sh.threshold, confidence_level=level,
        auc_margin=margins.get("auc", 0.0), log_loss_margin=margins.get("log_loss", 0.0),
        brier_margin=margins.get("brier", 0.0)).to_dict()
    n_lab = int(np.isfinite(y).sum())
    latency = _latency(inp, level)
    errors = _errors(inp, spec, level)
    bias = _bias(spec, pairs, level)
    drift, drift_notes = _drift(spec, pairs)
    verdicts = []
    for m in spec.metrics:
        if m.kind == "quality":
            verdicts.append(_quality(spec, m, pc["quality"], n_lab, spec.alpha))
        elif m.kind == "latency":
            verdicts.append(_latency_verdict(m, latency))
        elif m.kind == "errors":
            verdicts.append(_error_verdict(m, errors))
        else:
            verdicts.append(_bias_verdict(m, bias))
    gating = [v for v in verdicts if v.role == "guardrail"]
    fails = [v for v in gating if v.status == "fail"]
    if fails:
        decision = "no-go"
        reasons = [v.reason for v in fails]
    elif gating and all(v.status == "pass" for v in gating):
        decision = "go"
        reasons = [v.reason for v in gating]
    else:
        decision = "inconclusive"
        reasons = [v.reason for v in gating if v.status != "pass"] or [
            "no guardrail metric: add [[metrics]] with role = \"guardrail\" (e.g. auc)"]
    mc = pc.get("mcnemar") or {}
    quality = {}
    for name, row in (pc.get("quality") or {}).items():
        quality[name] = {"live": row.get("live"), "shadow": row.get("candidate"),
                         "diff": row.get("diff"), "ci": row.get("ci"),
                         "pvalue": row.get("pvalue"), "margin": row.get("margin"),
                         "noninferiority_pvalue": row.get("noninferiority_pvalue"),
                         "method": row.get("method")}
    agreement = pc.get("agreement") or {}
    section = {
        "pairs": int(len(pairs)),
        "labelled_pairs": n_lab,
        "unmatched": dict(inp.unmatched),
        "threshold": sh.threshold,
        "agreement": agreement.get("agreement"),
        "flips": agreement.get("flips"),
        "scores": pc.get("scores"),
        "mcnemar": {"b": mc.get("b"), "c": mc.get("c"), "pvalue": mc.get("pvalue"),
                    **{k: v for k, v in mc.items() if k not in ("b", "c", "pvalue")}},
        "delong": pc.get("delong"),
        "quality": quality,
        "latency": latency,
        "errors": errors,
        "drift": drift,
        "bias": bias,
        "input": inp.pairs_info,
        "endpoint_config": inp.endpoint_config,
        "notes": list(inp.notes) + drift_notes,
        "diagnostics": pc.get("diagnostics", []),
    }
    return decision, reasons, verdicts, section
