"""The realised truth of one endpoint, computed from exactly the values that were written."""

from __future__ import annotations

import numpy as np

from .design import (
    _MS_HOUR, CONTRACTS, DRIFT_SD, DRIFT_SHIFT, FEATURES, GROUP, LIVE, MONTHLY_SD, SHADOW,
    THRESHOLD, VARIANTS,
)
from .helpers import _auc, _nearest_rank, _r


def _quality(s: np.ndarray, y: np.ndarray) -> dict:
    pred = s >= THRESHOLD
    with np.errstate(divide="ignore"):
        ll = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)) if len(y) else None
    return {"auc": _auc(s, y), "accuracy": float(np.mean(pred == y)) if len(y) else None,
            "brier": float(np.mean((s - y) ** 2)) if len(y) else None, "log_loss": ll,
            "calibration_in_the_large": float(s.mean() - y.mean()) if len(y) else None,
            "mean_score": float(s.mean()) if len(y) else None}


def _ks(a: np.ndarray, b: np.ndarray) -> dict:
    from scipy.stats import ks_2samp

    if len(a) == 0 or len(b) == 0:
        return {"statistic": None, "pvalue": None, "n_before": len(a), "n_after": len(b)}
    r = ks_2samp(a, b)
    return {"statistic": _r(r.statistic), "pvalue": _r(r.pvalue, 12),
            "n_before": len(a), "n_after": len(b)}


def _truth(sim: dict, base: np.datetime64, drift_hour: int, per_minute: dict) -> dict:
    from scipy.stats import spearmanr

    n = sim["n"]
    has_inf = sim["has_inf"]
    # --- records as a reader sees them ---------------------------------------------------------
    rec = {}
    parse, valid = {}, {}
    for v in VARIANTS:
        cap, d = sim["captured"][v], sim["defect"][v]
        parse[v] = cap & (d != 1)
        valid[v] = parse[v] & has_inf & (d != 3) & (d != 4)
        rec[v] = {
            "lines": int(cap.sum() + (cap & (d == 2)).sum()),
            "unparseable_lines": int((cap & (d == 1)).sum()),
            "parsed_records": int(parse[v].sum() + (cap & (d == 2)).sum()),
            "duplicate_records": int((cap & (d == 2)).sum()),
            "unique_records": int(parse[v].sum()),
            "missing_inference_id": int((parse[v] & ~has_inf).sum()),
            "base64_records": int((parse[v] & sim["base64"][v]).sum()),
            "non_finite_output": int((parse[v] & (d == 3)).sum()),
            "out_of_range_output": int((parse[v] & (d == 4)).sum()),
            "valid_records": int(valid[v].sum()),
        }
    pairs = valid[LIVE] & valid[SHADOW]
    with_id = {v: parse[v] & has_inf for v in VARIANTS}
    live_only = valid[LIVE] & ~valid[SHADOW]
    shadow_only = valid[SHADOW] & ~valid[LIVE]
    unmatched = {
        "live_only": int(live_only.sum()),
        "live_only_no_shadow_record": int((live_only & ~with_id[SHADOW]).sum()),
        "live_only_shadow_output_invalid": int((live_only & with_id[SHADOW]).sum()),
        "shadow_only": int(shadow_only.sum()),
        "shadow_only_no_live_record": int((shadow_only & ~with_id[LIVE]).sum()),
        "shadow_only_live_output_invalid": int((shadow_only & with_id[LIVE]).sum()),
        # the same, when records without inferenceId are keyed on their own eventId (they
        # can then never pair, so each valid one is unmatched)
        "live_only_counting_missing_inference_id": int(
            live_only.sum() + (parse[LIVE] & ~has_inf & (sim["defect"][LIVE] < 3)).sum()),
        "shadow_only_counting_missing_inference_id": int(
            shadow_only.sum() + (parse[SHADOW] & ~has_inf & (sim["defect"][SHADOW] < 3)).sum()),
    }
    # causes (generator-side, not observable in the files)
    causes = {}
    for v, other in ((SHADOW, LIVE), (LIVE, SHADOW)):
        miss = valid[other] & ~with_id[v]
        causes[f"{'live_only' if v == SHADOW else 'shadow_only'}_because_{v}"] = {
            "5xx": int((miss & sim["err5"][v]).sum()),
            "capture_dropped": int((miss & sim["served"][v] & ~sim["captured"][v]).sum()),
            "truncated": int((miss & sim["captured"][v] & (sim["defect"][v] == 1)).sum()),
        }
    # --- labels ---------------------------------------------------------------------------------
    has_label = sim["has_label"]
    matched_any = np.where(has_inf, parse[LIVE] | parse[SHADOW], parse[LIVE])
    label_only_known = has_label & ~matched_any
    labels = {
        "records": int(has_label.sum() + len(sim["unknown_ids"])),
        "keyed_on_event_id": int((has_label & ~has_inf).sum()),
        "labels_only": int(label_only_known.sum() + len(sim["unknown_ids"])),
        "labels_only_unknown_ids": len(sim["unknown_ids"]),
        "labels_not_in_pairs": int(has_label.sum() + len(sim["unknown_ids"])
                                   - (pairs & has_label).sum()),
        "labelled_pairs": int((pairs & has_label).sum()),
        "unlabelled_pairs": int((pairs & ~has_label).sum()),
        "positives_in_labelled_pairs": int(sim["y"][pairs & has_label].sum()),
    }
    # --- matched-pair comparisons ---------------------------------------------------------------
    sl, ss = sim["score"][LIVE][pairs], sim["score"][SHADOW][pairs]
    pl, ps = sl >= THRESHOLD, ss >= THRESHOLD
    diff = ss - sl
    qs = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    rho = spearmanr(sl, ss).statistic if len(sl) > 2 and sl.std() > 0 and ss.std() > 0 else None
    comparison = {
        "pairs": int(pairs.sum()),
        "cross_hour_pairs": int((pairs & ((sim["arrive"] // _MS_HOUR)
                                          != (sim["shadow_time"] // _MS_HOUR))).sum()),
        "agreement": _r(np.mean(pl == ps)),
        "flips": {"positive_to_negative": int((pl & ~ps).sum()),
                  "negative_to_positive": int((~pl & ps).sum())},
        "score_diff": {"mean": _r(diff.mean()), "mean_abs": _r(np.abs(diff).mean()),
                       "quantiles": {str(q): _r(np.quantile(diff, q)) for q in qs}},
        "spearman": _r(rho),
    }
    lab = pairs & has_label
    yl = sim["y"][lab]
    ql = _quality(sim["score"][LIVE][lab], yl)
    qsh = _quality(sim["score"][SHADOW][lab], yl)
    quality = {k: {"live": _r(ql[k]), "shadow": _r(qsh[k]),
                   "diff": _r(None if ql[k] is None or qsh[k] is None else qsh[k] - ql[k])}
               for k in ql}
    cl = (sim["score"][LIVE][lab] >= THRESHOLD) == yl
    cs = (sim["score"][SHADOW][lab] >= THRESHOLD) == yl
    mcnemar = {"b": int((cl & ~cs).sum()), "c": int((~cl & cs).sum())}
    # --- bias by contract type ------------------------------------------------------------------
    contract = sim["contract"]
    groups = {}
    for g, name in enumerate(CONTRACTS):
        sel = pairs & (contract == g)
        sel_l = lab & (contract == g)
        row = {"pairs": int(sel.sum()), "labelled_pairs": int(sel_l.sum())}
        for v in VARIANTS:
            s = sim["score"][v]
            row[v] = {"positive_rate": _r(np.mean(s[sel] >= THRESHOLD)) if sel.any() else None,
                      "accuracy": (_r(np.mean((s[sel_l] >= THRESHOLD) == sim["y"][sel_l]))
                                   if sel_l.any() else None)}
        groups[name] = row
    disparity = {}
    for v in VARIANTS:
        s = sim["score"][v]
        a = np.mean(s[pairs & (contract == 0)] >= THRESHOLD)
        b = np.mean(s[pairs & (contract != 0)] >= THRESHOLD)
        disparity[v] = {"positive_rate_group": _r(a), "positive_rate_rest": _r(b),
                        "difference": _r(a - b), "ratio": _r(a / b) if b > 0 else None}
    bias = {"column": "contract_type", "group": GROUP, "rest": [c for c in CONTRACTS if c != GROUP],
            "by_group": groups, "disparity": disparity,
            "difference_change": _r(disparity[SHADOW]["difference"]
                                    - disparity[LIVE]["difference"])}
    # --- latency and errors (CloudWatch) --------------------------------------------------------
    latency, errors = {}, {}
    for v in VARIANTS:
        x = np.sort(sim["latency"][v][sim["served"][v]])
        p99s = [row["ModelLatency/p99"] for row in per_minute[v].values()
                if "ModelLatency/p99" in row]
        cnts = [row["ModelLatency/SampleCount"] for row in per_minute[v].values()
                if "ModelLatency/p99" in row]
        latency[v] = {"samples": len(x), "mean_us": _r(x.mean(), 3),
                      **{f"p{q}_us": _nearest_rank(x, q) for q in (50, 90, 95, 99)},
                      "minimum_us": float(x[0]), "maximum_us": float(x[-1]),
                      "mean_of_minute_p99_us": _r(np.mean(p99s), 3),
                      "count_weighted_mean_of_minute_p99_us": _r(np.average(p99s, weights=cnts),
                                                                 3),
                      "minutes_with_data": len(p99s)}
        inv = int(n)
        errors[v] = {"invocations": inv, "4xx": int(sim["err4"].sum()),
                     "5xx": int(sim["err5"][v].sum()),
                     "5xx_rate": _r(sim["err5"][v].sum() / inv),
                     "4xx_rate": _r(sim["err4"].sum() / inv)}
    latency["ratio"] = {f"p{q}": _r(latency[SHADOW][f"p{q}_us"] / latency[LIVE][f"p{q}_us"])
                        for q in (50, 90, 95, 99)}
    latency["ratio"]["mean"] = _r(latency[SHADOW]["mean_us"] / latency[LIVE]["mean_us"])
    # --- drift ----------------------------------------------------------------------------------
    by_hour = {}
    for v in VARIANTS:
        t = sim["arrive"] if v == LIVE else sim["shadow_time"]
        hr = t // _MS_HOUR
        rows = []
        for h in range(int(hr.max()) + 1):
            sel = valid[v] & (hr == h)
            rows.append({"hour": h, "records": int(sel.sum()),
                         "monthly_charges_mean": _r(sim["monthly"][sel].mean(), 4)
                         if sel.any() else None})
        by_hour[v] = rows
    ks = {}
    for v in VARIANTS:
        t = sim["arrive"] if v == LIVE else sim["shadow_time"]
        before = valid[v] & (t < drift_hour * _MS_HOUR)
        after = valid[v] & (t >= drift_hour * _MS_HOUR)
        ks[v] = {"monthly_charges": _ks(sim["monthly"][before], sim["monthly"][after]),
                 "tenure_months": _ks(sim["tenure"][before], sim["tenure"][after])}
    pre = ~sim["drifted"]
    drift = {
        "feature": "monthly_charges",
        "onset_hour": drift_hour,
        "onset_time": str(np.datetime_as_string(base + np.timedelta64(drift_hour, "h"),
                                                unit="s")) + "Z",
        "shift": DRIFT_SHIFT, "shift_in_design_sd": DRIFT_SD, "design_sd": _r(MONTHLY_SD, 4),
        "in_both_variants": True,
        "undrifted_features": [f for f in FEATURES if f != "monthly_charges"],
        "realised_mean_before": _r(sim["monthly"][pre].mean(), 4),
        "realised_mean_after": _r(sim["monthly"][~pre].mean(), 4),
        "realised_sd_before": _r(sim["monthly"][pre].std(ddof=1), 4),
        "label_rate_before": _r(sim["y"][pre].mean(), 4),
        "label_rate_after": _r(sim["y"][~pre].mean(), 4),
        "ks_before_after": ks,
        "by_hour": by_hour,
    }
    return {
        "records": rec, "unmatched": unmatched, "unmatched_causes": causes, "labels": labels,
        **comparison, "quality": quality, "mcnemar": mcnemar, "bias": bias,
        "latency": latency, "errors": errors, "drift": drift,
    }
