"""The CLI contract: outputs, streams and exit codes (in-process via main(argv), plus real
processes for the console script and ``python -m abkit``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from abkit.cli import main
from abkit.datasets import make_ab_log, write_log

ROOT = Path(__file__).resolve().parents[1]
EX = str(ROOT / "data" / "ab_example.csv")
SPEC = str(ROOT / "data" / "ab_example.toml")
REG = str(ROOT / "data" / "ab_latency_regression.csv")


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_report_text_and_json(capsys, validate_report):
    rc, out, err = run(capsys, "report", EX, "--spec", SPEC)
    assert rc == 0 and out.startswith("abkit ab analysis: GO")
    rc, out, err = run(capsys, "report", EX, "--spec", SPEC, "--format", "json")
    assert rc == 0
    doc = validate_report(json.loads(out))  # stdout is pure JSON
    assert doc["decision"] == "go"


def test_report_exits_0_even_on_no_go(capsys):
    rc, out, _ = run(capsys, "report", REG, "--spec", SPEC)
    assert rc == 0 and "NO-GO" in out


@pytest.mark.parametrize(
    "path, args, code",
    [
        (EX, [], 0),
        (REG, [], 1),
        (EX, ["--control", "treatment"], 1),  # primaries are significantly worse vs treatment
    ],
)
def test_gate_exit_codes(capsys, path, args, code):
    rc, _, _ = run(capsys, "gate", path, "--spec", SPEC, *args)
    assert rc == code


def test_gate_inconclusive_and_its_mapping(capsys, tmp_path):
    p = write_log(make_ab_log(3000, seed=12, scenario="null", dirty=False), tmp_path / "aa.csv")
    assert run(capsys, "gate", str(p), "--spec", SPEC)[0] == 3
    assert run(capsys, "gate", str(p), "--spec", SPEC, "--inconclusive-exit-code", "0")[0] == 0
    assert run(capsys, "gate", str(p), "--spec", SPEC, "--inconclusive-exit-code", "1")[0] == 1
    # 2 means a usage error, 4 an internal one: a verdict can never be mistaken for them
    for code in ("2", "4", "-1"):
        rc, out, err = run(capsys, "gate", str(p), "--spec", SPEC, "--inconclusive-exit-code",
                           code)
        assert rc == 2 and "'0', '1', '3'" in err and out == ""


def test_output_file_and_step_summary(capsys, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out_file = tmp_path / "r.json"
    rc, out, err = run(capsys, "gate", EX, "--spec", SPEC, "--format", "json", "-o",
                       str(out_file))
    assert rc == 0 and out == ""
    assert json.loads(out_file.read_text())["decision"] == "go"
    assert "GO" in err
    assert "**GO**" in summary.read_text()
    summary.unlink()
    run(capsys, "gate", EX, "--spec", SPEC, "--no-step-summary")
    assert not summary.exists()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["report", "nope.csv", "--spec", SPEC], "no such file: nope.csv"),
        (["report", EX, "--spec", "nope.toml"], "spec file not found"),
        (["report", EX, "--spec", SPEC, "--variant-col", "arm"], "no variant column 'arm'"),
        (["report", EX, "--spec", SPEC, "--control", "ctrl"],
         "control 'ctrl' is not one of the split's variants"),
        (["report", EX, "--spec", SPEC, "--fail-on-rejected"], "rows rejected"),
        (["gate", EX, "--format", "xml"], "Invalid value for '--format'"),
        (["report"], "Missing argument 'LOGS"),
        (["frobnicate"], "No such command"),
    ],
)
def test_user_errors_exit_2_without_traceback(capsys, argv, needle):
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert needle in err
    assert "Traceback" not in err and out == ""


def test_bad_spec_exit_2(capsys, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(Path(SPEC).read_text() + "\n[extra]\nx = 1\n")
    rc, _, err = run(capsys, "gate", EX, "--spec", str(spec))
    assert rc == 2 and "unknown key 'extra'" in err and "s.toml" in err


def test_internal_error_exit_4(capsys, monkeypatch):
    import abkit.pipeline

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(abkit.pipeline, "analyze", boom)
    rc, _, err = run(capsys, "gate", EX, "--spec", SPEC)
    assert rc == 4 and "internal error" in err and "kaboom" in err


def test_validate_spec_and_simulate(capsys, tmp_path):
    rc, out, _ = run(capsys, "validate-spec", SPEC)
    assert rc == 0 and "valid ab spec, 4 metrics" in out
    target = tmp_path / "sim.parquet"
    rc, _, err = run(capsys, "simulate", "ab", "-o", str(target), "--users", "500")
    assert rc == 0 and target.exists()
    rc, out, _ = run(capsys, "report", str(target), "--spec", SPEC)
    assert rc == 0


def test_help_documents_exit_codes(capsys):
    rc, out, _ = run(capsys, "gate", "--help")
    assert rc == 0 and "Exit codes:" in out and "INCONCLUSIVE" in out


def test_console_script_and_module_entry_points():
    exe = Path(sys.executable).with_name("abkit")
    r = subprocess.run([str(exe), "gate", REG, "--spec", SPEC, "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and json.loads(r.stdout)["decision"] == "no-go"
    r = subprocess.run([sys.executable, "-m", "abkit", "report", "missing.csv"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
