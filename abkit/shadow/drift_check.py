"""Drift measures of a shadow test: inputs and outputs over time (first window against the
last, with the onset hour by hour) and the two models' outputs on the same requests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec import ExperimentSpec


def _hourly_windows(times: pd.Series) -> pd.Series:
    """Window labels (UTC hour starts, ISO) for each pair; halves when all in one hour."""
    t = pd.to_datetime(times, utc=True)
    hours = t.dt.floor("h")
    if hours.nunique() >= 2:  # each distinct hour formatted once
        codes, uniq = pd.factorize(hours)
        text = pd.Series(uniq).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return pd.Series(pd.concat([text, pd.Series([None], dtype=text.dtype)],
                                   ignore_index=True).to_numpy()[codes],
                         index=times.index, dtype=text.dtype)
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
