"""abkit.testing assertions and the pytest plugin (run in a real inner pytest session)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import abkit
from abkit.testing import assert_go, assert_no_regression, assert_not_no_go

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[1]
EX, REG = ROOT / "data" / "ab_example.csv", ROOT / "data" / "ab_latency_regression.csv"
SPEC = ROOT / "data" / "ab_example.toml"


def test_assert_go_passes_and_fails_with_a_table():
    rep = assert_go(EX, SPEC)
    assert rep.decision == "go"
    with pytest.raises(AssertionError) as e:
        assert_go(REG, SPEC)
    msg = str(e.value)
    assert "expected GO" in msg and "decision: NO-GO" in msg
    assert "guardrail latency regressed" in msg and "REGRESSED" in msg


def test_assert_no_regression_by_metric():
    rep = abkit.analyze(REG, SPEC)
    assert_no_regression(rep, metric="conversion")  # conversion did not regress
    with pytest.raises(AssertionError, match="regression in latency"):
        assert_no_regression(rep, metric="latency")
    with pytest.raises(AssertionError, match="no metric 'nope'"):
        assert_no_regression(rep, metric="nope")
    with pytest.raises(AssertionError, match="NO-GO"):
        assert_not_no_go(rep)


def test_plugin_fixtures_and_report_dir(pytester):
    pytester.makepyfile(
        f"""
        from abkit.testing import assert_go

        def test_gate(abkit_logs, abkit_spec, abkit_gate):
            spec = abkit_spec({str(SPEC)!r}, alpha=0.01)
            assert spec.alpha == 0.01
            log = abkit_logs(scenario="latency-regression", users=4000)
            report = abkit_gate(log, spec)
            assert report.decision == "no-go"

        def test_assert(abkit_logs):
            assert_go({str(EX)!r}, {str(SPEC)!r})
        """
    )
    out = pytester.path / "reports"
    result = pytester.runpytest(f"--abkit-report-dir={out}")  # plugin autoloads
    result.assert_outcomes(passed=2)
    saved = sorted(p.name for p in out.iterdir())
    assert saved == ["test_plugin_fixtures_and_report_dir.py_test_assert.json",
                     "test_plugin_fixtures_and_report_dir.py_test_assert.md",
                     "test_plugin_fixtures_and_report_dir.py_test_gate.json",
                     "test_plugin_fixtures_and_report_dir.py_test_gate.md"]
    doc = json.loads((out / saved[2]).read_text())
    assert doc["decision"] == "no-go"


def test_plugin_is_registered_and_import_light():
    code = (
        "import sys, importlib.metadata as m\n"
        "eps = [e for e in m.entry_points(group='pytest11') if e.name == 'abkit']\n"
        "assert eps and eps[0].value == 'abkit.pytest_plugin', eps\n"
        "import abkit.pytest_plugin\n"
        "heavy = [x for x in ('pandas', 'numpy', 'scipy', 'duckdb') if x in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_helpers_take_every_strategy():
    from pathlib import Path

    from abkit.testing import assert_go, assert_no_regression

    data = Path(__file__).resolve().parents[1] / "data"
    rep = assert_go(data / "linear.csv.gz", data / "linear.toml")
    assert assert_go(rep) is rep  # a report is taken as it is, not re-analysed
    with pytest.raises(AssertionError, match="error_rate"):
        assert_no_regression(data / "canary.csv", data / "canary.toml", metric="error_rate")
    assert_no_regression(data / "canary.csv", data / "canary.toml", metric="latency")
    with pytest.raises(AssertionError, match="(?s)regression in any metric.*auc"):
        assert_no_regression(data / "shadow" / "datacapture" / "churn-endpoint",
                             data / "shadow" / "shadow.toml")
