"""Operational guardrails of a shadow test: latency quantiles (per request or from CloudWatch
aggregates), error rates and the bias shift between groups, each with its verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..spec import ExperimentSpec, MetricSpec
from .verdict import ShadowInputs, Verdict, _f


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
