"""Golden outputs: the JSON, text and Markdown of every shipped sample and README example.

They pin behaviour across refactors. A change to a golden file must be deliberate and be
explained in its commit. Regenerate with ``ABKIT_REGEN_GOLDEN=1 pytest tests/test_golden.py``.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest

from abkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"

# name -> CLI arguments after "report" (paths relative to the repository root)
CASES: dict[str, list[str]] = {
    "ab_example": ["data/ab_example.csv", "--spec", "data/ab_example.toml"],
    "ab_latency_regression": ["data/ab_latency_regression.csv", "--spec",
                              "data/ab_example.toml"],
    "ab_requests": ["data/ab_requests.jsonl.gz", "--spec", "data/ab_requests.toml"],
    "ab_nospec": ["data/ab_example.csv"],
    "canary": ["data/canary.csv", "--spec", "data/canary.toml"],
    "linear": ["data/linear.csv.gz", "--spec", "data/linear.toml"],
    "shadow": ["data/shadow/datacapture/churn-endpoint", "--spec", "data/shadow/shadow.toml"],
    "shadow_same": ["data/shadow/datacapture/churn-endpoint-same", "--spec",
                    "data/shadow/shadow-same.toml"],
    "shadow_guardrails": ["data/shadow/datacapture/churn-endpoint", "--spec",
                          "data/shadow/guardrails.toml"],
    "shadow_guardrails_same": ["data/shadow/datacapture/churn-endpoint-same", "--spec",
                               "data/shadow/guardrails-same.toml"],
    "bluegreen_regression": ["data/bluegreen_regression.csv.gz", "--spec",
                             "data/bluegreen.toml"],
    "bluegreen_smoke": ["data/bluegreen_smoke.csv.gz", "--spec", "data/bluegreen.toml"],
}
FORMATS = {"json": "json", "text": "txt", "markdown": "md"}
_VOLATILE = re.compile(r'"generated_at": "[^"]*"')


def _render(args: list[str], fmt: str, capsys) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = main(["report", *args, "--format", fmt])
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert code == 0, out
    out = out.replace(str(ROOT) + os.sep, "<root>/")  # resolved file names
    if fmt == "json":
        doc = json.loads(out)
        doc.pop("generated_at", None)
        return json.dumps(doc, indent=2, sort_keys=False) + "\n"
    return _VOLATILE.sub('"generated_at": "-"', out)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, fmt: str, capsys) -> None:
    got = _render(CASES[name], fmt, capsys)
    path = GOLDEN / f"{name}.{FORMATS[fmt]}"
    if os.environ.get("ABKIT_REGEN_GOLDEN") == "1":
        path.write_text(got)
    want = path.read_text()
    if fmt == "json":  # numbers to 1e-9 relative: the last bits move with numpy/BLAS builds
        assert _close(json.loads(got), json.loads(want)), (
            f"{path.name} changed beyond 1e-9 relative; if deliberate, regenerate and explain "
            "why")
        return
    assert got == want, f"{path.name} changed; if deliberate, regenerate and explain why"


def _close(a, b) -> bool:
    """Equal JSON values: the same keys in the same order, the same strings, and numbers
    equal to 1e-9 relative (1e-12 absolute near zero)."""
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(_close(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and not isinstance(a, bool) and not isinstance(b, bool)
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))
    return type(a) is type(b) and a == b


def test_close_sees_a_change() -> None:
    doc = {"a": [1.0, {"p": 0.0123456789}], "s": "x"}
    assert _close(doc, {"a": [1.0, {"p": 0.0123456789 * (1 + 1e-12)}], "s": "x"})
    assert not _close(doc, {"a": [1.0, {"p": 0.0123456789 * (1 + 1e-7)}], "s": "x"})
    assert not _close(doc, {"s": "x", "a": [1.0, {"p": 0.0123456789}]})  # key order
    assert not _close(doc, {"a": [1.0, {"p": None}], "s": "x"})
