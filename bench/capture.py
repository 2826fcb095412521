"""Reading a SageMaker Data Capture tree (2 variants x 1M records): Python reader, DuckDB
reader and a floor.

* input (``--make``): seeded (``numpy.random.default_rng(20261203)``), written to
  ``bench/out/capture_2m/churn-endpoint/<variant>/yyyy/mm/dd/hh/MM-SS-mmm-<uuid>.jsonl``
  as SageMaker writes it: 1,000,000 requests over 12 hours, each captured by
  ``variant-live`` (CSV input, bare CSV score) and ``variant-shadow`` (same input, JSON
  output ``{"predictions": [{"score": s, "label": l}]}``, 150 ms + lognormal later), a new
  file every 20 minutes per variant (36 files of ~28k records each). The records follow
  ``data/shadow`` (spec ``data/shadow/shadow.toml``: 8 features, ``output_field =
  "predictions[0].score"``). Mixed in on purpose: 0.1 % JSON inputs (``{"instances":
  [[...]]}`` or an object keyed by feature name) and, per variant, a handful of defects:
  2 truncated lines, 3 byte-identical duplicates, 1 eventId repeated with a different
  output (conflicting), 1 NaN and 1 out-of-range output, 1 bad timestamp, 5 BASE64
  payloads, 1 line without captureData, and 5 requests without ``inferenceId``.
  Ground truth (``bench/out/capture_2m_gt/churn-endpoint/yyyy/mm/dd/hh/labels-*.jsonl``):
  one label per request (1M lines) filed by arrival hour, plus a truncated line,
  duplicates, a conflicting and a bad label, ids nobody requested and BASE64 payloads.
  ``bench/out/capture_2m/manifest.json`` holds the expected accounting.
* python: ``abkit.io.datacapture.read_capture`` with the spec's parameters (what
  ``abkit report`` calls for a shadow spec).
* duckdb: ``abkit.io.datacapture.duckdb_capture.read_capture_duckdb``, same parameters.
* floor: one hand-written DuckDB query in a fresh process (DuckDB defaults, every core):
  ``read_json`` over the glob with explicit columns; eventId, variant (from the path) and
  score; count/sum per variant. No accounting, no frame.
* ground truth (``--gt``, default on): ``read_ground_truth`` vs ``read_ground_truth_duckdb``
  vs a floor query (count/sum of the label per file glob).

Each configuration runs in a fresh child process under ``/usr/bin/time -v`` (wall around
the child, user+sys CPU, max RSS; the helpers of ``bench/run.py``), alternating, ``--repeat``
rounds (default 3); medians. Before every round the 1-minute load average must drop below
1.5 (polled every 10 s, at most 10 minutes; the load is printed either way).
``--check`` reads the tree with both readers in one process and compares frame and
accounting, printing the first difference.

    .venv/bin/python bench/capture.py --make    # once (~70 s, ~1 GB)
    .venv/bin/python bench/capture.py --check   # equality of the two readers
    .venv/bin/python bench/capture.py           # timings; table to bench/out/capture_results.md
    .venv/bin/python bench/capture.py --pairs   # the capture plan against a join floor
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, _med, machine, measure  # noqa: E402

OUT = ROOT / "bench" / "out"
TREE = OUT / "capture_2m"
GT = OUT / "capture_2m_gt"
EP = "churn-endpoint"
LIVE, SHADOW = "variant-live", "variant-shadow"
SPEC = ROOT / "data" / "shadow" / "shadow.toml"
RESULTS = OUT / "capture_results.md"
START = dt.datetime(2026, 11, 20, 8, tzinfo=dt.timezone.utc).timestamp()
HOURS = 12
FILE_MINUTES = 20
JSON_INPUT_SHARE = 0.001
LOAD_MAX, LOAD_POLL_S, LOAD_WAIT_S = 1.5, 10.0, 600.0

#: the records both floors read: variant (from the path), one id, the score
_RECORDS_SQL = """
SELECT list_extract(string_split(filename, '/'), -6) AS variant, eventMetadata.{id} AS id,
       CASE WHEN captureData.endpointOutput.encoding = 'JSON'
            THEN TRY_CAST(json_extract_string(captureData.endpointOutput.data,
                                              '$.predictions[0].score') AS DOUBLE)
            WHEN captureData.endpointOutput.encoding = 'CSV'
            THEN TRY_CAST(split_part(captureData.endpointOutput.data, ',', 1) AS DOUBLE)
       END AS score
FROM read_json({{glob}}, format = 'newline_delimited', filename = true, ignore_errors = true,
               columns = {{{{'captureData': 'STRUCT(endpointOutput STRUCT(data VARCHAR, encoding VARCHAR))',
                           'eventMetadata': 'STRUCT({id} VARCHAR)'}}}})
"""
FLOOR_SQL = f"""
SELECT variant, count(*) AS n, count(id) AS ids,
       sum(score) FILTER (WHERE isfinite(score)) AS score_sum
FROM ({_RECORDS_SQL.format(id="eventId")})
GROUP BY ALL ORDER BY variant
"""
#: the issue's floor of the pairing: read_json, join on inferenceId, agreement and mean
#: difference (no accounting, no labels)
PAIRS_FLOOR_SQL = f"""
WITH r AS ({_RECORDS_SQL.format(id="inferenceId")})
SELECT count(*) AS pairs, avg(CAST((l.score >= 0.5) = (s.score >= 0.5) AS DOUBLE)) AS agree,
       avg(s.score - l.score) AS mean_diff
FROM r l JOIN r s ON l.id = s.id
WHERE l.variant = 'variant-live' AND s.variant = 'variant-shadow'
  AND isfinite(l.score) AND isfinite(s.score)
"""
GT_FLOOR_SQL = """
SELECT count(*) AS n, count(eventMetadata.eventId) AS ids,
       sum(TRY_CAST(groundTruthData.data AS DOUBLE)) AS label_sum
FROM read_json({glob}, format = 'newline_delimited', ignore_errors = true,
               columns = {{'groundTruthData': 'STRUCT(data VARCHAR, encoding VARCHAR)',
                           'eventMetadata': 'STRUCT(eventId VARCHAR)'}})
"""


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# ------------------------------------------------------------------------------ generator
def _uuids(rng, n: int) -> list[str]:
    h = rng.bytes(16 * n).hex()
    out = []
    for k in range(n):
        x = h[32 * k:32 * k + 32]
        out.append(f"{x[0:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-"
                   f"{x[20:32]}")
    return out


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(math.floor(t), dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _b64(s: str) -> str:
    import base64

    return base64.b64encode(s.encode()).decode()


def _record(inp_ct: str, inp_enc: str, inp: str, out_ct: str, out_enc: str, out: str,
            eid: str, iid: str | None, ts: str) -> str:
    meta = (f'"eventId":"{eid}","inferenceId":"{iid}","inferenceTime":"{ts}"' if iid is not None
            else f'"eventId":"{eid}","inferenceTime":"{ts}"')
    return ('{"captureData":{"endpointInput":{"observedContentType":"' + inp_ct +
            '","mode":"INPUT","data":' + json.dumps(inp) + ',"encoding":"' + inp_enc +
            '"},"endpointOutput":{"observedContentType":"' + out_ct +
            '","mode":"OUTPUT","data":' + json.dumps(out) + ',"encoding":"' + out_enc +
            '"}},"eventMetadata":{' + meta + '},"eventVersion":"0"}')


def make(requests: int, tree: Path, gt: Path, seed: int = 20261203) -> dict:
    """Write the capture tree and the ground truth; return the manifest (expected counts)."""
    import shutil

    import numpy as np

    rng = np.random.default_rng(seed)
    n = requests
    for p in (tree, gt):
        if p.exists():
            shutil.rmtree(p)
    span = HOURS * 3600.0
    t_live = np.sort(rng.uniform(START, START + span, n))
    lag = 0.15 + rng.lognormal(math.log(0.45), 0.6, n)
    t_shadow = t_live + lag
    tenure = rng.integers(0, 73, n)
    monthly = np.round(rng.uniform(18.0, 140.0, n), 2)
    total = np.round(np.maximum(tenure, 1) * monthly * rng.uniform(0.85, 1.1, n), 2)
    tickets = rng.poisson(1.2, n)
    contract = rng.choice(np.array(["month-to-month", "one-year", "two-year"]), n,
                          p=[0.55, 0.25, 0.20])
    fiber = rng.integers(0, 2, n)
    age = rng.integers(18, 86, n)
    login = np.minimum(rng.geometric(0.12, n) - 1, 60)
    z = (-1.2 - 0.035 * tenure + 0.012 * monthly + 0.25 * tickets
         + 0.9 * (contract == "month-to-month") + 0.3 * fiber + 0.02 * login)
    p_true = 1.0 / (1.0 + np.exp(-z))
    s_live = 1.0 / (1.0 + np.exp(-(z + rng.normal(0.0, 0.35, n))))
    s_shadow = 1.0 / (1.0 + np.exp(-(z + rng.normal(0.0, 0.55, n))))
    label = (rng.uniform(size=n) < p_true).astype(int)
    hx = rng.bytes(6 * n).hex()
    iids = [f"req-{hx[12 * k:12 * k + 12]}" for k in range(n)]
    no_iid = set(rng.choice(n, 5, replace=False).tolist())
    json_in = rng.uniform(size=n) < JSON_INPUT_SHARE
    rows = list(zip(tenure.tolist(), monthly.tolist(), total.tolist(), tickets.tolist(),
                    contract.tolist(), fiber.tolist(), age.tolist(), login.tolist()))
    names = ["tenure_months", "monthly_charges", "total_charges", "num_support_tickets",
             "contract_type", "has_fiber", "age", "days_since_last_login"]

    def inputs(i: int) -> tuple[str, str, str]:
        r = rows[i]
        if json_in[i]:
            if i % 2:
                return "application/json", "JSON", json.dumps({"instances": [list(r)]})
            return "application/json", "JSON", json.dumps(dict(zip(names, r)))
        return "text/csv", "CSV", ",".join(str(v) for v in r)

    manifest: dict = {"seed": seed, "requests": n, "hours": HOURS, "variants": {},
                      "json_inputs": int(json_in.sum()), "no_inference_id": len(no_iid)}
    live_eids: list[str] = []
    for variant, t, score in ((LIVE, t_live, s_live), (SHADOW, t_shadow, s_shadow)):
        order = np.argsort(t, kind="stable")
        eids = _uuids(rng, n)
        defects = rng.choice(n, 17, replace=False).tolist()
        trunc, dup, conf = set(defects[0:2]), set(defects[2:5]), defects[5]
        nan_i, oor_i, bad_ts, no_cd = defects[6], defects[7], defects[8], defects[9]
        b64 = set(defects[10:15])
        lines: list[tuple[float, str]] = []
        for k in order.tolist():
            ts = _iso(t[k]) if k != bad_ts else "2026-11-20 8h" + _iso(t[k])[13:]
            s = float(np.round(score[k], 4))
            if k == nan_i:
                s_txt = "nan" if variant == LIVE else "NaN"
            elif k == oor_i:
                s_txt = "1.0731"
            else:
                s_txt = f"{s:.4f}"
            ict, ienc, idata = inputs(k)
            if variant == LIVE:
                oct_, oenc, odata = "text/csv; charset=utf-8", "CSV", s_txt
            else:
                oct_, oenc = "application/json", "JSON"
                odata = f'{{"predictions": [{{"score": {s_txt}, "label": {int(s >= 0.5)}}}]}}'
            if k in b64:
                ienc, idata, oenc, odata = "BASE64", _b64(idata), "BASE64", _b64(odata)
            rec = _record(ict, ienc, idata, oct_, oenc, odata, eids[k],
                          None if k in no_iid else iids[k], ts)
            if k == no_cd:
                rec = '{"eventMetadata":' + rec.split('"eventMetadata":', 1)[1]
            if k in trunc:
                rec = rec[:int(rng.integers(40, len(rec) - 5))]
            lines.append((float(t[k]), rec))
            if k in dup:
                lines.append((float(t[k]), rec))
            if k == conf:
                other = f"{min(s + 0.0101, 1.0):.4f}"
                odata2 = other if variant == LIVE else odata.replace(s_txt, other, 1)
                lines.append((float(t[k]), _record(ict, ienc, idata, oct_, oenc, odata2,
                                                   eids[k], None if k in no_iid else iids[k],
                                                   ts)))
        if variant == LIVE:
            live_eids = eids
        # files: a new one every FILE_MINUTES, in its first record's hour folder
        nfiles = 0
        cur_win, fh = None, None
        uu = iter(_uuids(rng, HOURS * 60 // FILE_MINUTES + 10))
        for tt, rec in lines:
            win = int((tt - START) // (FILE_MINUTES * 60))
            if win != cur_win:
                if fh is not None:
                    fh.close()
                d = dt.datetime.fromtimestamp(tt, dt.timezone.utc)
                folder = tree / EP / variant / d.strftime("%Y/%m/%d/%H")
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{d:%M-%S}-{d.microsecond // 1000:03d}-{next(uu)}.jsonl"
                fh = open(folder / name, "w", encoding="utf-8", newline="\n")
                cur_win = win
                nfiles += 1
            fh.write(rec + "\n")
        if fh is not None:
            fh.close()
        rejected = {"unparseable_line": 2, "duplicate_event": 3, "conflicting_event": 2,
                    "non_finite_output": 1, "out_of_range_output": 1, "bad_timestamp": 1,
                    "missing_field": 1}
        manifest["variants"][variant] = {
            "files": nfiles, "records_read": len(lines),
            "records_used": len(lines) - sum(rejected.values()), "rejected": rejected,
            "base64": len(b64)}

    # ground truth: one label per request, filed by the hour it arrived
    arrive = t_live + rng.uniform(20 * 60.0, 10 * 3600.0, n)
    ids = [iids[k] if k not in no_iid else live_eids[k] for k in range(n)]
    gdef = rng.choice(n, 12, replace=False).tolist()
    g_trunc, g_dup, g_conf, g_bad = gdef[0], set(gdef[1:4]), gdef[4], gdef[5:7]
    g_b64 = set(gdef[7:12])
    glines: list[tuple[float, str]] = []

    def glab(eid: str, data: str, enc: str = "CSV") -> str:
        return ('{"groundTruthData":{"data":"' + data + '","encoding":"' + enc +
                '"},"eventMetadata":{"eventId":"' + eid + '"},"eventVersion":"0"}')

    lab = label.tolist()
    for k in range(n):
        if k in g_bad:
            rec = glab(ids[k], "maybe")
        elif k in g_b64:
            rec = glab(ids[k], _b64(str(lab[k])), "BASE64")
        else:
            rec = glab(ids[k], str(lab[k]))
        if k == g_trunc:
            rec = rec[:50]
        glines.append((float(arrive[k]), rec))
        if k in g_dup:
            glines.append((float(arrive[k]) + 60.0, rec))
        if k == g_conf:
            glines.append((float(arrive[k]) + 60.0, glab(ids[k], str(1 - lab[k]))))
    for j in range(3):  # ids no request had
        glines.append((START + 3600.0 * (j + 2), glab(f"req-orphan{j:07d}", "1")))
    glines.sort(key=lambda x: x[0])
    gfiles, cur, fh = 0, None, None
    for tt, rec in glines:
        d = dt.datetime.fromtimestamp(tt, dt.timezone.utc)
        key = d.strftime("%Y/%m/%d/%H")
        if key != cur:
            if fh is not None:
                fh.close()
            folder = gt / EP / key
            folder.mkdir(parents=True, exist_ok=True)
            fh = open(folder / f"labels-{d:%Y%m%d%H}.jsonl", "w", encoding="utf-8",
                      newline="\n")
            cur = key
            gfiles += 1
        fh.write(rec + "\n")
    if fh is not None:
        fh.close()
    g_rej = {"unparseable_line": 1, "bad_label": 2, "duplicate_label": 0,
             "conflicting_label": 2}
    # the duplicates of g_dup are duplicate_label (3); the conflicting pair: 2 rejected
    g_rej["duplicate_label"] = 3
    manifest["ground_truth"] = {"files": gfiles, "records_read": len(glines),
                                "records_used": len(glines) - sum(g_rej.values()),
                                "rejected": g_rej, "base64": len(g_b64)}
    (tree / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


# ------------------------------------------------------------------------------ children
def _spec_kwargs() -> dict:
    import tomllib

    e = tomllib.loads(SPEC.read_text())["experiment"]
    return dict(features=e["features"], output_field=e["output_field"],
                variants=[e["live"], e["candidate"]], output_range=(0.0, 1.0))


def _summary(res) -> dict:
    acc = res.accounting
    return {"records_read": acc.records_read, "records_used": acc.records_used,
            "rejected": dict(sorted(acc.rejected.items())), "rows": len(res.frame),
            "reader_s": res.seconds}


def child(kind: str, root: Path) -> int:
    t0 = time.perf_counter()
    if kind in ("python", "duckdb"):
        if kind == "python":
            from abkit.io.datacapture import read_capture as reader
        else:
            from abkit.io.datacapture.duckdb_capture import read_capture_duckdb as reader
        res = reader(root / EP, **_spec_kwargs())
        out = _summary(res)
        out["by_variant"] = {v: a.records_used for v, a in res.by_variant.items()}
    elif kind in ("gt-python", "gt-duckdb"):
        if kind == "gt-python":
            from abkit.io.datacapture import read_ground_truth as reader
        else:
            from abkit.io.datacapture.duckdb_truth import read_ground_truth_duckdb as reader
        out = _summary(reader(root / EP, label_kind="binary"))
    elif kind == "floor":
        import duckdb

        glob = str(root / EP / "*" / "*" / "*" / "*" / "*" / "*.jsonl")
        rows = duckdb.connect().execute(FLOOR_SQL.format(glob=_q(glob))).fetchall()
        out = {"by_variant": {r[0]: {"n": r[1], "ids": r[2], "score_sum": r[3]} for r in rows}}
    elif kind == "pairs":  # the engine's capture plan: lines, labels and the pairing
        from abkit.engine.base import get_engine
        from abkit.engine.capture import CapturePlan

        kw = _spec_kwargs()
        live, cand = kw.pop("variants")
        red = get_engine("duckdb").reduce(root / EP, CapturePlan(
            live, cand, features=tuple(kw["features"]), output_field=kw["output_field"],
            labels=GT / EP))
        f = red.pairs.frame
        agree = float(((f["output_live"] >= 0.5) == (f["output_shadow"] >= 0.5)).mean())
        out = {"pairs": red.pairs.n_pairs, "labelled": red.pairs.n_labelled,
               "agree": agree, "mean_diff": float((f["output_shadow"] - f["output_live"]).mean())}
    elif kind == "pairs-floor":
        import duckdb

        glob = str(root / EP / "*" / "*" / "*" / "*" / "*" / "*.jsonl")
        r = duckdb.connect().execute(PAIRS_FLOOR_SQL.format(glob=_q(glob))).fetchone()
        out = {"pairs": r[0], "agree": r[1], "mean_diff": r[2]}
    elif kind == "gt-floor":
        import duckdb

        glob = str(root / EP / "*" / "*" / "*" / "*" / "*.jsonl")
        r = duckdb.connect().execute(GT_FLOOR_SQL.format(glob=_q(glob))).fetchone()
        out = {"n": r[0], "ids": r[1], "label_sum": r[2]}
    else:
        raise SystemExit(f"unknown child {kind}")
    out["child_s"] = time.perf_counter() - t0
    print(json.dumps(out))
    return 0


# ------------------------------------------------------------------------------ equality
def _first_frame_diff(a, b) -> str | None:
    """None when the frames are equal, else the first differing column/row, precisely."""
    import numpy as np
    import pandas as pd

    if list(a.columns) != list(b.columns):
        return f"columns differ: {list(a.columns)} vs {list(b.columns)}"
    if len(a) != len(b):
        return f"row count differs: {len(a)} vs {len(b)}"
    for c in a.columns:
        if str(a[c].dtype) != str(b[c].dtype):
            return f"column {c!r}: dtype {a[c].dtype} vs {b[c].dtype}"
    for c in a.columns:
        x, y = a[c], b[c]
        if isinstance(x.dtype, pd.CategoricalDtype):
            if list(x.cat.categories) != list(y.cat.categories):
                return f"column {c!r}: categories differ"
        xa, ya = x.astype(object).to_numpy(), y.astype(object).to_numpy()
        same = np.fromiter(((u == v) or (pd.isna(u) and pd.isna(v))
                            if not (isinstance(u, float) and isinstance(v, float))
                            else (u == v or (math.isnan(u) and math.isnan(v)))
                            for u, v in zip(xa, ya)), dtype=bool, count=len(xa))
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            return (f"column {c!r}, row {i} (file {a['file'].iloc[i]}:{a['line'].iloc[i]}): "
                    f"{xa[i]!r} vs {ya[i]!r}; {int((~same).sum())} rows differ")
        # same values: also the same Python types (e.g. 1.0 vs '1.0' in an object column)
        if x.dtype == object:
            bad = [i for i, (u, v) in enumerate(zip(xa, ya)) if type(u) is not type(v)]
            if bad:
                i = bad[0]
                return (f"column {c!r}, row {i}: type {type(xa[i]).__name__} vs "
                        f"{type(ya[i]).__name__} ({xa[i]!r})")
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError as e:
        return f"assert_frame_equal: {e}"
    return None


def _dict_diff(a, b, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'python' if k in a else 'duckdb'} "
                           f"({(a if k in a else b)[k]!r})")
            else:
                out += _dict_diff(a[k], b[k], f"{path}.{k}")
        return out
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def check(tree: Path, gt: Path, with_gt: bool) -> int:
    from abkit.io.datacapture import read_capture, read_ground_truth
    from abkit.io.datacapture.duckdb_capture import read_capture_duckdb
    from abkit.io.datacapture.duckdb_truth import read_ground_truth_duckdb

    manifest = json.loads((tree / "manifest.json").read_text())
    kw = _spec_kwargs()
    a = read_capture(tree / EP, **kw)
    b = read_capture_duckdb(tree / EP, **kw)
    print(f"read_capture {a.seconds:.1f} s, read_capture_duckdb {b.seconds:.1f} s")
    ok = True
    diff = _first_frame_diff(a.frame, b.frame)
    print("capture frame:", "equal" if diff is None else f"DIFFERENT: {diff}")
    ok &= diff is None
    da = {**a.to_dict(), "seconds": None}
    db = {**b.to_dict(), "seconds": None}
    dd = _dict_diff(da, db) + _dict_diff({"files": [str(p) for p in a.files]},
                                         {"files": [str(p) for p in b.files]})
    print("capture accounting (+ by_variant, examples, warnings):",
          "equal" if not dd else "DIFFERENT:\n  " + "\n  ".join(dd[:20]))
    ok &= not dd
    for v, m in manifest["variants"].items():
        got = a.by_variant[v]
        exp = (m["records_read"], m["records_used"], m["rejected"])
        have = (got.records_read, got.records_used, got.rejected)
        print(f"  {v}: read {got.records_read:,} used {got.records_used:,} rejected "
              f"{got.rejected} unreadable_input {got.unreadable_input}"
              + ("" if exp == have else f"  (manifest expects {exp})"))
    if with_gt:
        la = read_ground_truth(gt / EP, label_kind="binary")
        lb = read_ground_truth_duckdb(gt / EP, label_kind="binary")
        print(f"read_ground_truth {la.seconds:.1f} s, read_ground_truth_duckdb "
              f"{lb.seconds:.1f} s")
        diff = _first_frame_diff(la.frame, lb.frame)
        print("labels frame:", "equal" if diff is None else f"DIFFERENT: {diff}")
        dd = _dict_diff(la.to_dict(), lb.to_dict())
        print("labels accounting:", "equal" if not dd else "DIFFERENT:\n  " + "\n  ".join(dd))
        ok &= diff is None and not dd
        m = manifest["ground_truth"]
        print(f"  read {la.accounting.records_read:,} used {la.accounting.records_used:,} "
              f"rejected {la.accounting.rejected} (manifest: {m['records_used']:,} used, "
              f"{m['rejected']})")
    print("RESULT:", "equal" if ok else "DIFFERENT")
    return 0 if ok else 1


# ------------------------------------------------------------------------------ timings
def wait_for_load(limit: float = LOAD_MAX, max_wait: float = LOAD_WAIT_S) -> dict:
    t0 = time.monotonic()
    while True:
        load = os.getloadavg()[0]
        if load < limit:
            return {"load": load, "waited_s": time.monotonic() - t0, "gave_up": False}
        if time.monotonic() - t0 >= max_wait:
            return {"load": load, "waited_s": time.monotonic() - t0, "gave_up": True}
        time.sleep(LOAD_POLL_S)


def series(configs: list[tuple[str, str, Path]], repeat: int, max_wait: float) -> tuple:
    """Alternate the configurations ``repeat`` rounds; wait for a quiet machine first."""
    py = sys.executable
    me = str(Path(__file__).resolve())
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in configs}
    waits = []
    for i in range(repeat):
        w = wait_for_load(max_wait=max_wait)
        waits.append(w)
        print(f"round {i + 1}: load {w['load']:.2f} after {w['waited_s']:.0f} s"
              + (" (gave up waiting)" if w["gave_up"] else ""), flush=True)
        for name, kind, root in configs:
            load = os.getloadavg()[0]
            r = measure([py, me, "--child", kind, str(root)])
            r.update(json.loads(r["stdout"]))
            r["load_before"] = load
            runs[name].append(r)
            print(f"  {name}: {r['wall_s']:.2f} s, CPU {r.get('user_s', 0) + r.get('sys_s', 0):.1f}"
                  f" s, {r.get('rss_mb', float('nan')):.0f} MB (load {load:.2f})", flush=True)
    return runs, waits


def table(runs: dict[str, list[dict]], floor: str) -> list[str]:
    fw = _med(runs[floor], "wall_s")
    lines = ["| configuration | wall s (median) | runs | x floor | CPU s (user+sys) | "
             "peak RSS MB | load at start |",
             "|---|---:|---|---:|---:|---:|---|"]
    for name, rs in runs.items():
        w = _med(rs, "wall_s")
        lines.append(
            f"| {name} | {w:.2f} | {', '.join(format(r['wall_s'], '.1f') for r in rs)} | "
            f"{w / fw:.1f} | {_med(rs, 'user_s') + _med(rs, 'sys_s'):.1f} | "
            f"{_med(rs, 'rss_mb'):.0f} | "
            f"{', '.join(format(r['load_before'], '.2f') for r in rs)} |")
    return lines


def _pairs_series(args, m: str) -> int:
    cfg = [("abkit capture plan (DuckDB): lines, labels, pairing", "pairs", args.tree),
           ("floor (read_json, join on inferenceId, agreement, mean difference)",
            "pairs-floor", args.tree)]
    runs, waits = series(cfg, args.repeat, args.max_wait)
    out = [f"machine: {m}", "", "### Data Capture pairs, 2 variants x 1M records", ""]
    out += table(runs, cfg[1][0])
    a, f = runs[cfg[0][0]][-1], runs[cfg[1][0]][-1]
    out += ["", f"abkit: {a['pairs']:,} pairs ({a['labelled']:,} labelled), agreement "
            f"{a['agree']:.6f}, mean difference {a['mean_diff']:.6g}; floor: {f['pairs']:,} "
            f"pairs, agreement {f['agree']:.6f}, mean difference {f['mean_diff']:.6g}",
            "load waits: " + ", ".join(f"{w['load']:.2f} after {w['waited_s']:.0f} s"
                                       for w in waits)]
    text = "\n".join(out) + "\n"
    (OUT / "capture_pairs_results.md").write_text(text)
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--make", action="store_true", help="write the capture tree and labels")
    ap.add_argument("--check", action="store_true", help="compare the two readers' results")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--tree", type=Path, default=TREE)
    ap.add_argument("--gt-tree", type=Path, default=GT)
    ap.add_argument("--no-gt", action="store_true", help="skip the ground-truth readers")
    ap.add_argument("--pairs", action="store_true",
                    help="time the capture plan (read + labels + pairing) against a join floor")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-wait", type=float, default=LOAD_WAIT_S,
                    help="seconds to wait for load < 1.5 before a round (default 600)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--child", nargs=2, metavar=("KIND", "ROOT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child[0], Path(args.child[1]))
    if args.make:
        t0 = time.perf_counter()
        m = make(args.requests, args.tree, args.gt_tree)
        size = sum(p.stat().st_size for p in args.tree.rglob("*.jsonl"))
        print(json.dumps(m, indent=1))
        print(f"wrote {args.tree} ({size / 2**20:.0f} MiB) and {args.gt_tree} in "
              f"{time.perf_counter() - t0:.0f} s")
        return 0
    if args.check:
        return check(args.tree, args.gt_tree, not args.no_gt)

    if not (args.tree / "manifest.json").exists():
        raise SystemExit(f"{args.tree} not found: run  bench/capture.py --make  first")
    for p in list(args.tree.rglob("*.jsonl")) + list(args.gt_tree.rglob("*.jsonl")):
        p.read_bytes()  # page cache warm
    m = machine()
    print(f"machine: {m}", flush=True)
    if args.pairs:
        return _pairs_series(args, m)
    cap_cfg = [("Python reader `read_capture`", "python", args.tree),
               ("DuckDB reader `read_capture_duckdb`", "duckdb", args.tree),
               ("floor (one `read_json` query, every core)", "floor", args.tree)]
    runs, waits = series(cap_cfg, args.repeat, args.max_wait)
    out = [f"machine: {m}", "", "### Data Capture, 2 variants x 1M records", ""]
    out += table(runs, cap_cfg[2][0])
    py, ddb, fl = (runs[c[0]][-1] for c in cap_cfg)
    out += ["", f"records used: python {py['by_variant']}, duckdb {ddb['by_variant']}; "
            f"rejected python {py['rejected']}, duckdb {ddb['rejected']}; "
            f"floor lines per variant {({k: v['n'] for k, v in fl['by_variant'].items()})}",
            f"reader-internal seconds (median): python {_med(runs[cap_cfg[0][0]], 'reader_s'):.2f}"
            f", duckdb {_med(runs[cap_cfg[1][0]], 'reader_s'):.2f}",
            "load waits: " + ", ".join(f"{w['load']:.2f} after {w['waited_s']:.0f} s"
                                       + (" (gave up)" if w["gave_up"] else "") for w in waits)]
    all_runs = {"capture": runs}
    if not args.no_gt:
        gt_cfg = [("Python `read_ground_truth`", "gt-python", args.gt_tree),
                  ("DuckDB `read_ground_truth_duckdb`", "gt-duckdb", args.gt_tree),
                  ("floor (one `read_json` query)", "gt-floor", args.gt_tree)]
        gruns, gwaits = series(gt_cfg, args.repeat, args.max_wait)
        out += ["", "### Ground truth, ~1M label lines", ""] + table(gruns, gt_cfg[2][0])
        a, b = (gruns[c[0]][-1] for c in gt_cfg[:2])
        out += ["", f"used python {a['records_used']:,} duckdb {b['records_used']:,}; "
                f"rejected python {a['rejected']}, duckdb {b['rejected']}",
                "load waits: " + ", ".join(f"{w['load']:.2f} after {w['waited_s']:.0f} s"
                                           + (" (gave up)" if w["gave_up"] else "")
                                           for w in gwaits)]
        all_runs["ground_truth"] = gruns
    text = "\n".join(out) + "\n"
    print("\n" + text)
    args.results.write_text(text)
    args.results.with_suffix(".json").write_text(json.dumps(
        {"machine": m, "runs": {k: {n: [{kk: vv for kk, vv in r.items()
                                          if kk not in ("stdout", "stderr")} for r in rs]
                                     for n, rs in v.items()} for k, v in all_runs.items()}},
        indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
