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

The quality verdicts and the decision are here; the latency, error and bias guardrails are in
:mod:`abkit.shadow.guardrails`, the drift measures in :mod:`abkit.shadow.drift_check`, and
:class:`ShadowInputs` / :class:`Verdict` in :mod:`abkit.shadow.verdict` (all re-exported).
"""

from __future__ import annotations

import numpy as np

from ..spec import ExperimentSpec, MetricSpec
from .curves import curve_summaries
from .drift_check import _drift, _hourly_windows  # noqa: F401  (re-exported)
from .guardrails import (  # noqa: F401  (re-exported)
    _bias,
    _bias_verdict,
    _error_verdict,
    _errors,
    _latency,
    _latency_verdict,
)
from .verdict import ShadowInputs, Verdict, _ci, _f, _num, _signed

__all__ = ["ShadowInputs", "Verdict", "evaluate_shadow"]

_QUALITY = ("auc", "accuracy", "brier", "log_loss")


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
        "curves": curve_summaries(spec, pairs, y, drift),
    }
    return decision, reasons, verdicts, section
