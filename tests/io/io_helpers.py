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

# the capture builders are shared with the engine tests (tests/capture_lines.py)
from capture_lines import CAP, CAP_SHADOW, GT, cap_rec, gt_rec, write_lines

__all__ = ["CAP", "CAP_SHADOW", "GT", "cap_rec", "cli", "gt_rec", "limited", "report_json",
           "write_lines"]

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

