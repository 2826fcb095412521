"""Writing the Data Capture and ground-truth JSON Lines files of one endpoint."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np

from .design import _MS_MIN, CONTRACTS, LIVE, THRESHOLD, VARIANTS
from .helpers import _fmt_score, _hour_dirs, _stamp, _uuid4s


def _input_csv(sim: dict, i: int) -> str:
    return (f"{sim['tenure'][i]},{float(sim['monthly'][i])!r},{float(sim['total'][i])!r},"
            f"{sim['tickets'][i]},{CONTRACTS[sim['contract'][i]]},{sim['fiber'][i]},"
            f"{sim['age'][i]},{sim['days'][i]}")


def _output(variant: str, score: float, defect: int, oor: float) -> tuple[str, str, str]:
    """(observedContentType, encoding, payload) of one variant's output."""
    if defect == 3:
        score = float("nan")
    elif defect == 4:
        score = float(oor)
    if variant == LIVE:
        text = "nan" if math.isnan(score) else _fmt_score(score)
        return "text/csv; charset=utf-8", "CSV", text
    label = 1 if not math.isnan(score) and score >= THRESHOLD else 0
    # Python's json writes NaN as the bare token NaN, as a Python model server would
    text = json.dumps({"predictions": [{"score": score, "label": label}]})
    return "application/json", "JSON", text


def _capture_line(sim: dict, variant: str, i: int, stamp: str) -> str:
    payload_in = _input_csv(sim, i)
    ct_out, enc_out, payload_out = _output(variant, float(sim["score"][variant][i]),
                                           int(sim["defect"][variant][i]),
                                           float(sim["oor_value"][variant][i]))
    enc_in = "CSV"
    if sim["base64"][variant][i]:
        payload_in = base64.b64encode(payload_in.encode()).decode()
        payload_out = base64.b64encode(payload_out.encode()).decode()
        enc_in = enc_out = "BASE64"
    meta = {"eventId": str(sim["event_id"][variant][i])}
    if sim["has_inf"][i]:
        meta["inferenceId"] = str(sim["inference_id"][i])
    meta["inferenceTime"] = stamp
    rec = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                              "data": payload_in, "encoding": enc_in},
            "endpointOutput": {"observedContentType": ct_out, "mode": "OUTPUT",
                               "data": payload_out, "encoding": enc_out},
        },
        "eventMetadata": meta,
        "eventVersion": "0",
    }
    return json.dumps(rec, separators=(",", ":"))


def _truncate(line: str, rng: np.random.Generator) -> str:
    cut = int(len(line) * rng.uniform(0.2, 0.8))
    return line[:cut]


def _write_capture(sim: dict, root: Path, endpoint: str, base: np.datetime64) -> dict:
    """Write both variants' capture files; return per-variant file counts and hour folders."""
    rng = sim["r_files"]
    info = {}
    for v in VARIANTS:
        t = sim["arrive"] if v == LIVE else sim["shadow_time"]
        idx = np.flatnonzero(sim["captured"][v])
        idx = idx[np.argsort(t[idx], kind="stable")]
        stamps = _stamp(base, t[idx])
        dirs = _hour_dirs(base, t[idx])
        # files: a new file every 20 minutes of the hour, named after its first record's time
        seg = (t[idx] // (20 * _MS_MIN)).astype(np.int64)
        files: dict[tuple[str, int], list[str]] = {}
        names: dict[tuple[str, int], str] = {}
        for k, i in enumerate(idx):
            key = (dirs[k], int(seg[k]))
            line = _capture_line(sim, v, int(i), str(stamps[k]))
            d = int(sim["defect"][v][i])
            if key not in files:
                files[key] = []
                ms = int(t[i])
                mm, sec, milli = (ms // _MS_MIN) % 60, (ms // 1000) % 60, ms % 1000
                names[key] = f"{mm:02d}-{sec:02d}-{milli:03d}"
            if d == 1:
                files[key].append(_truncate(line, rng))
            else:
                files[key].append(line)
                if d == 2:
                    files[key].append(line)  # at-least-once delivery: the same record twice
        keys = sorted(files)
        uuids = _uuid4s(rng, len(keys))
        for key, u in zip(keys, uuids):
            path = root / endpoint / v / key[0] / f"{names[key]}-{u}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(("\n".join(files[key]) + "\n").encode())
        info[v] = {"files": len(keys), "hour_folders": sorted({k[0] for k in keys})}
    return info


def _write_groundtruth(sim: dict, root: Path, endpoint: str, base: np.datetime64) -> dict:
    lab = np.flatnonzero(sim["has_label"])
    keys = np.where(sim["has_inf"][lab], sim["inference_id"][lab], sim["event_id"][LIVE][lab])
    times = np.concatenate([sim["label_time"][lab], sim["unknown_time"]])
    keys = np.concatenate([keys, sim["unknown_ids"]])
    ys = np.concatenate([sim["y"][lab], sim["unknown_y"]])
    order = np.lexsort((keys, times))
    dirs = _hour_dirs(base, times[order])
    by_dir: dict[str, list[str]] = {}
    for k, j in enumerate(order):
        rec = {"groundTruthData": {"data": str(int(ys[j])), "encoding": "CSV"},
               "eventMetadata": {"eventId": str(keys[j])}, "eventVersion": "0"}
        by_dir.setdefault(dirs[k], []).append(json.dumps(rec, separators=(",", ":")))
    for d in sorted(by_dir):
        path = root / endpoint / d / f"labels-{d.replace('/', '')}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\n".join(by_dir[d]) + "\n").encode())
    return {"files": len(by_dir), "records": len(keys),
            "hour_folders": sorted(by_dir)}
