"""The HTML report: self-contained, escaped, and rendered by a real browser (headless
Chromium, Debian's package, installed by .ci/run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
EVIL = "<script>alert(1)</script>"


def _embedded_json(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="abkit-result">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def regression_report():
    return abkit.analyze(ROOT / "data" / "ab_latency_regression.csv",
                         ROOT / "data" / "ab_example.toml")


def test_page_is_self_contained_and_small(regression_report):
    page = regression_report.to_html()
    assert len(page.encode()) < 1_000_000
    assert page.count("<script") == 1  # only the embedded JSON, no code
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "<link" not in page and "@import" not in page
    assert "<svg" in page  # the plots are inline
    assert _embedded_json(page) == json.loads(regression_report.to_json())
    assert 'data-decision="no-go"' in page and "NO-GO" in page
    assert "guardrail latency regressed" in page


def test_save_html_to_path_and_file_object(tmp_path, regression_report):
    regression_report.save_html(tmp_path / "a.html", plots=False)
    with open(tmp_path / "b.html", "w", encoding="utf-8") as fh:
        regression_report.save_html(fh, plots=False)
    a = (tmp_path / "a.html").read_text()
    assert a.startswith("<!DOCTYPE html>") and "<svg" not in a
    assert len((tmp_path / "b.html").read_text()) == len(a)


def _evil_report(tmp_path: Path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "variant": ["control"] * 200 + [EVIL] * 200,
        "y": rng.normal(0, 1, 400),
    })
    path = tmp_path / "<img src=x onerror=alert(2)>.csv"
    df.to_csv(path, index=False)
    spec = {"experiment": {"control": "control", "name": "</title><script>alert(3)</script>"},
            "metrics": [{"name": "<b onmouseover=alert(4)>m</b>", "kind": "mean",
                         "column": "y", "role": "primary"}]}
    return abkit.analyze(path, spec)


def test_names_from_logs_and_specs_are_escaped(tmp_path):
    page = _evil_report(tmp_path).to_html()
    assert page.count("<script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b onmouseover" not in page
    assert "</title><script>" not in page
    doc = _embedded_json(page)  # JSON inside the script element cannot close it
    assert any(c["treatment"] == EVIL for c in doc["comparisons"])


def test_cli_writes_html(tmp_path, capsys):
    out = tmp_path / "r.html"
    rc = main(["gate", str(ROOT / "data" / "ab_example.csv"), "--spec",
               str(ROOT / "data" / "ab_example.toml"), "--format", "html", "-o", str(out)])
    assert rc == 0 and 'data-decision="go"' in out.read_text()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
    pytest.skip("no Chromium on this machine (apt-get install chromium)")


def _browse(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    exe = _chromium()
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr", "--v=0", *extra, page.as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line or "Uncaught" in line or "Refused to" in line]


@pytest.mark.slow
def test_real_browser_shows_the_decision(tmp_path, regression_report):
    page = tmp_path / "report.html"
    regression_report.save_html(page)
    dom = _browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-decision="no-go"' in dom.stdout and "NO-GO" in dom.stdout
    assert "guardrail latency regressed" in dom.stdout
    assert not _console_errors(dom.stderr)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-no-go.png"
    r = _browse(page, tmp_path, "--window-size=1200,1900", f"--screenshot={shot}")
    assert r.returncode == 0 and shot.stat().st_size > 20_000


@pytest.mark.slow
def test_real_browser_runs_no_injected_script(tmp_path):
    page = tmp_path / "evil.html"
    _evil_report(tmp_path).save_html(page)
    dom = _browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0
    # the variant name is text in a table cell, not an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert dom.stdout.count("<script") == 1
    assert not _console_errors(dom.stderr)


@pytest.mark.slow
def test_console_error_detector_catches_a_real_error(tmp_path):
    """Negative control: the check above would see a script error if the page had one."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFn()</script></body></html>")
    r = _browse(page, tmp_path, "--dump-dom")
    assert _console_errors(r.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("name,data,spec,decision,marker", [
    ("canary", "data/canary.csv", "data/canary.toml", "no-go", 'id="timeline-table"'),
    ("linear", "data/linear.csv.gz", "data/linear.toml", "go", 'id="timeline-table"'),
    ("shadow", "data/shadow/datacapture/churn-endpoint", "data/shadow/guardrails.toml",
     "no-go", 'id="shadow-summary"'),
])
def test_real_browser_renders_every_strategy(tmp_path, name, data, spec, decision, marker):
    rep = abkit.analyze(ROOT / data, ROOT / spec)
    page = tmp_path / f"{name}.html"
    rep.save_html(page)
    text = page.read_text()
    assert text.count("<script") == 1 and text.count("<svg") >= 2 if name != "shadow" \
        else text.count("<svg") >= 1
    dom = _browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-decision="{decision}"' in dom.stdout and marker in dom.stdout
    assert not _console_errors(dom.stderr)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{name}.png"
    r = _browse(page, tmp_path, "--window-size=1200,2400", f"--screenshot={shot}")
    assert r.returncode == 0 and shot.stat().st_size > 20_000
