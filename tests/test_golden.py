"""Golden outputs: the JSON, text and Markdown of every shipped sample and README example.

They pin behaviour across refactors. A change to a golden file must be deliberate and be
explained in its commit. Regenerate with ``ABKIT_REGEN_GOLDEN=1 pytest tests/test_golden.py``.
"""

from __future__ import annotations

import json
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
    assert got == want, f"{path.name} changed; if deliberate, regenerate and explain why"
