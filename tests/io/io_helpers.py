"""Shared helpers of the hostile-input tests: the CLI in-process, and a child Python under a
memory limit and a timeout (a hang or a MemoryError there fails the test, not the suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from abkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
LIMIT_AS = 2 * 1024 ** 3  # 2 GiB address space for hostile cases


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    """``abkit`` in process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def report_json(path, capsys, *extra) -> dict:
    code, out, err = cli(["report", str(path), "--format", "json", *extra], capsys)
    assert code == 0, err
    return json.loads(out)


def limited(code: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run ``code`` in a child Python limited to 2 GiB of address space and ``timeout`` s."""
    prelude = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({LIMIT_AS}, {LIMIT_AS}))
    """)
    env = dict(os.environ, ABKIT_DUCKDB_MEMORY_LIMIT="512MB", ABKIT_DUCKDB_THREADS="1")
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, cwd=str(ROOT),
                          env=env)


# --------------------------------------------------------------------- capture builders
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
