"""Data Capture and ground-truth lines as SageMaker writes them, for the reader tests
(``tests/io``) and the engine conformance tests (``tests/engine``)."""

from __future__ import annotations

import json
from pathlib import Path


def cap_rec(eid="e", iid=None, t="2026-11-20T10:15:03Z", inp="12,70.5", out="0.83",
            enc_in="CSV", enc_out="CSV", ct_in="text/csv", ct_out="text/csv") -> str:
    """One Data Capture line as SageMaker writes it (features: a, b)."""
    meta = {"eventId": eid, "inferenceTime": t}
    if iid is not None:
        meta["inferenceId"] = iid
    if eid is None:
        del meta["eventId"]
    return json.dumps({"captureData": {
        "endpointInput": {"observedContentType": ct_in, "mode": "INPUT", "data": inp,
                          "encoding": enc_in},
        "endpointOutput": {"observedContentType": ct_out, "mode": "OUTPUT", "data": out,
                           "encoding": enc_out}},
        "eventMetadata": meta, "eventVersion": "0"})


def gt_rec(eid="e", label="1", key="eventId") -> str:
    return json.dumps({"groundTruthData": {"data": label, "encoding": "CSV"},
                       "eventMetadata": {key: eid}, "eventVersion": "0"})


def write_lines(root: Path, rel: str, lines: list, gz: bool = False) -> Path:
    """Lines (str or bytes) to ``root/rel``, gzip when ``gz``."""
    import gzip

    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    if gz:
        with gzip.open(p, "wb") as fh:
            fh.write(data)
    else:
        p.write_bytes(data)
    return p


CAP = "ep/variant-live/2026/11/20/10/f.jsonl"
CAP_SHADOW = "ep/variant-shadow/2026/11/20/10/f.jsonl"
GT = "gt/ep/2026/11/20/10/g.jsonl"
