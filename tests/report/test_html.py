"""The HTML report: self-contained, escaped, and rendered by a real browser (headless
Chromium, Debian's package, installed by .ci/run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import abkit
from abkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
# screenshots: $ABKIT_ARTIFACTS when set (CI keeps it), else a folder under the temp dir
ARTIFACTS = Path(os.environ.get("ABKIT_ARTIFACTS") or
                 Path(tempfile.gettempdir()) / "abkit-artifacts")
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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


# every strategy's sample, its decision, and the figures its page must show
STRATEGIES = {
    "ab": ("data/ab_example.csv", "data/ab_example.toml", "go", ["fig-effects"]),
    "ab-requests": ("data/ab_requests.jsonl.gz", "data/ab_requests.toml", None,
                    ["fig-effects"]),
    "canary": ("data/canary.csv", "data/canary.toml", "no-go", ["fig-effects", "fig-timeline"]),
    "linear": ("data/linear.csv.gz", "data/linear.toml", "go", ["fig-effects", "fig-timeline"]),
    "bluegreen-regression": ("data/bluegreen_regression.csv.gz", "data/bluegreen.toml",
                             "no-go", ["fig-effects", "fig-bluegreen"]),
    "bluegreen-smoke": ("data/bluegreen_smoke.csv.gz", "data/bluegreen.toml", "go",
                        ["fig-effects", "fig-bluegreen"]),
    "shadow": ("data/shadow/datacapture/churn-endpoint", "data/shadow/shadow.toml", None,
               ["fig-shadow-quality", "fig-shadow-curves", "fig-shadow-drift"]),
    "shadow-guardrails": ("data/shadow/datacapture/churn-endpoint",
                          "data/shadow/guardrails.toml", "no-go",
                          ["fig-shadow-quality", "fig-shadow-curves", "fig-shadow-drift"]),
    "shadow-same": ("data/shadow/datacapture/churn-endpoint-same",
                    "data/shadow/guardrails-same.toml", None,
                    ["fig-shadow-quality", "fig-shadow-curves"]),
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, tuple[Path, str, dict]]:
    out = tmp_path_factory.mktemp("pages")
    got = {}
    for name, (data, spec, _, _) in STRATEGIES.items():
        rep = abkit.analyze(ROOT / data, ROOT / spec)
        page = out / f"{name}.html"
        rep.save_html(page)
        got[name] = (page, page.read_text(), rep.to_dict())
    return got


def _figure_ids(text: str) -> list[str]:
    return re.findall(r'<div class="figure" id="(fig-[a-z-]+)"[^>]*><svg', text)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_page_is_self_contained_with_its_figures(pages, name):
    _, text, doc = pages[name]
    expected = STRATEGIES[name][3]
    assert len(text.encode()) < 1_000_000
    assert text.count("<script") == 1  # only the embedded JSON, no code
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text, re.I)
    assert "<link" not in text and "@import" not in text
    assert not re.search(r"url\(\s*[\"']?(?!#)", text)  # only url(#clip-path) references
    assert set(expected) <= set(_figure_ids(text))
    if STRATEGIES[name][2]:
        assert f'data-decision="{STRATEGIES[name][2]}"' in text
    assert _embedded_json(text)["decision"] == doc["decision"]


def test_html_tables_are_full_and_headers_unambiguous(pages):
    _, text, doc = pages["linear"]
    table = re.search(r'<table id="timeline-table">(.*?)</table>', text, re.S).group(1)
    assert table.count("<tr>") == len(doc["timeline"]) + 1  # every look, and the header
    assert "…" not in table and "<td>...</td>" not in table
    assert "time (UTC)" in table and "requests so far, candidate / current" in table
    assert "error_rate: candidate − current [95% CS]" in table
    head = re.search(r'<table id="comparisons">\s*<thead>(.*?)</thead>', text, re.S).group(1)
    cells = re.findall(r"<th>(.*?)</th>", head, re.S)
    assert len(cells) == len(set(cells))  # no two columns share a name
    assert "control value" in cells and "treatment value" in cells
    assert re.search(r"\.scroll \{[^}]*overflow: auto", text)
    # the text report keeps its short table with "..." for the gaps
    assert "..." in abkit.report.render.render_text(doc)


def test_cuped_note_is_a_sentence(pages):
    _, text, doc = pages["ab"]
    c = next(c for c in doc["comparisons"] if c.get("cuped"))
    pct = round(c["cuped"]["variance_reduction"] * 100)
    assert f"CUPED on {c['cuped']['covariate']}: variance reduced by {pct} %" in text
    assert "variance −" not in text


def test_figure_ids_match_what_the_page_declares():
    from abkit.report.html import FIGURES

    ids = [i for v in STRATEGIES.values() for i in v[3]]
    assert set(ids) == set(FIGURES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_real_browser_renders_every_strategy(tmp_path, pages, name):
    page, _, doc = pages[name]
    dom = _browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-decision="{doc["decision"]}"' in dom.stdout
    for fig in STRATEGIES[name][3]:  # present in the DOM the browser built, with its SVG
        assert re.search(rf'<div class="figure" id="{fig}"[^>]*><svg', dom.stdout), fig
    assert not _console_errors(dom.stderr)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"report-{name}.png"
    r = _browse(page, tmp_path, "--window-size=1200,3200", f"--screenshot={shot}")
    assert r.returncode == 0 and shot.stat().st_size > 20_000
