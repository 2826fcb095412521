"""Outputs never destroy inputs, writes are atomic, and the step summary cannot fail late.

The CLI runs for real (``main(argv)`` in-process, plus ``python -m abkit`` in a process) on
files in ``tmp_path``; every refusal must leave the input's bytes as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import abkit
from abkit.cli import main
from abkit.core.outputs import (atomic_path, check_output, expand_inputs, same_file,
                                writable_problem, write_text_atomic)
from abkit.datasets import make_ab_log, write_log
from abkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SPEC_TEXT = (ROOT / "data" / "ab_example.toml").read_text()
SHADOW = ROOT / "data" / "shadow"


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def leftovers(folder: Path) -> list[str]:
    """Temporary files a write left behind (there must be none)."""
    return sorted(p.name for p in folder.rglob(".abkit-*"))


@pytest.fixture(scope="module")
def log_bytes(tmp_path_factory) -> bytes:
    p = write_log(make_ab_log(2000, seed=3, dirty=False),
                  tmp_path_factory.mktemp("src") / "log.csv")
    return p.read_bytes()


@pytest.fixture
def exp(tmp_path, log_bytes):
    """tmp_path/logs/a.csv, tmp_path/logs/b.csv (the same data) and tmp_path/spec.toml."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.csv").write_bytes(log_bytes)
    (logs / "b.csv").write_bytes(log_bytes)
    (tmp_path / "spec.toml").write_text(SPEC_TEXT)
    (tmp_path / "sub").mkdir()
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


# ---------------------------------------------------------------- outputs never destroy inputs
CASES = {
    # name: (log arguments, -o, the input it hits)
    "the log": (["logs/a.csv"], "logs/a.csv", "a.csv"),
    "the spec": (["logs/a.csv"], "spec.toml", "spec.toml"),
    "the log through ..": (["logs/a.csv"], "sub/../logs/./a.csv", "a.csv"),
    "the spec through ..": (["logs/a.csv"], "logs/../sub/../spec.toml", "spec.toml"),
    "a symlink to the log": (["logs/a.csv"], "link.json", "a.csv"),
    "a symlink to the spec": (["logs/a.csv"], "link.json", "spec.toml"),
    "a hard link to the log": (["logs/a.csv"], "hard.json", "a.csv"),
    "a glob member": (["logs/*.csv"], "logs/b.csv", "b.csv"),
    "a folder member": (["logs"], "logs/b.csv", "b.csv"),
    "the second of two logs": (["logs/a.csv", "logs/b.csv"], "logs/b.csv", "b.csv"),
}


@pytest.mark.parametrize("command", ["report", "gate"])
@pytest.mark.parametrize("case", list(CASES))
def test_output_that_is_an_input_is_refused(exp, capsys, monkeypatch, case, command):
    logs, output, target = CASES[case]
    monkeypatch.chdir(exp)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    hit = exp / ("logs" if target.endswith(".csv") else "") / target
    if "symlink" in case:
        (exp / output).symlink_to(hit)
    if "hard link" in case:
        os.link(hit, exp / output)
    before = snapshot(exp)
    rc, out, err = run(capsys, command, *logs, "--spec", "spec.toml", "--format", "json",
                       "-o", output)
    assert rc == 2, err
    assert out == "" and "Traceback" not in err
    assert output in err and target in err  # names both paths
    assert "destroy the input" in err and "hint:" in err
    assert snapshot(exp) == before  # every input byte for byte
    assert leftovers(exp) == []


def test_python_dash_m_refuses_the_log_and_keeps_it(exp):
    log = exp / "logs" / "a.csv"
    before = log.read_bytes()
    r = subprocess.run([sys.executable, "-m", "abkit", "report", str(log), "--spec",
                        str(exp / "spec.toml"), "-o", str(exp / "sub" / ".." / "logs" / "a.csv")],
                       capture_output=True, text=True, timeout=120, cwd=exp)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "is the log file" in r.stderr and str(log) in r.stderr
    assert log.read_bytes() == before


def test_python_dash_m_refuses_a_glob_member(exp):
    before = snapshot(exp)
    r = subprocess.run([sys.executable, "-m", "abkit", "gate", "logs/*.csv", "--spec",
                        "spec.toml", "-o", "logs/a.csv"],
                       capture_output=True, text=True, timeout=120, cwd=exp)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stdout == ""
    assert "logs/a.csv" in r.stderr and "a.csv" in r.stderr
    assert snapshot(exp) == before


def test_shadow_spec_files_are_inputs_too(tmp_path, capsys):
    tree = tmp_path / "shadow"
    shutil.copytree(SHADOW, tree)
    ep = tree / "datacapture" / "churn-endpoint-same"
    spec = tree / "guardrails-same.toml"
    labels = next((tree / "groundtruth" / "churn-endpoint-same").rglob("*.jsonl"))
    capture = next(ep.rglob("*.jsonl"))
    for victim in (labels, capture, tree / "cloudwatch" / "churn-endpoint-same_results.json",
                   tree / "endpoint-config" / "churn-endpoint-same.json"):
        before = snapshot(tree)
        rc, out, err = run(capsys, "report", ep, "--spec", spec, "--format", "json",
                           "-o", victim)
        assert rc == 2 and "destroy the input" in err and victim.name in err, err
        assert snapshot(tree) == before and leftovers(tree) == []
    out_file = tmp_path / "r.json"
    assert run(capsys, "report", ep, "--spec", spec, "--format", "json", "-o", out_file)[0] == 0
    assert json.loads(out_file.read_text())["strategy"] == "shadow"


# ---------------------------------------------------------------- normal outputs still work
def test_normal_output_is_written_and_replaced_keeping_its_mode(exp, capsys, monkeypatch):
    monkeypatch.chdir(exp)
    out = exp / "sub" / "r.json"
    out.write_text("an older report")
    out.chmod(0o640)
    rc, stdout, err = run(capsys, "report", "logs/a.csv", "--spec", "spec.toml", "--format",
                          "json", "-o", out)
    assert rc == 0 and stdout == "" and "wrote json report" in err
    assert json.loads(out.read_text())["decision"] in ("go", "no-go", "inconclusive")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert leftovers(exp) == []
    # a report next to the logs, in the logs' folder, is not an input
    (exp / "logs" / "b.csv").unlink()  # (b.csv repeats a.csv's units)
    rc, _, _ = run(capsys, "report", "logs", "--spec", "spec.toml", "--format", "markdown",
                   "-o", "logs/report.md")
    assert rc == 0 and (exp / "logs" / "report.md").read_text().startswith("#")


def test_output_through_a_symlink_writes_the_target(exp, capsys, monkeypatch):
    monkeypatch.chdir(exp)
    real = exp / "sub" / "real.json"
    real.write_text("old")
    (exp / "link.json").symlink_to(real)
    rc, _, _ = run(capsys, "report", "logs/a.csv", "--spec", "spec.toml", "--format", "json",
                   "-o", "link.json")
    assert rc == 0 and (exp / "link.json").is_symlink()
    assert json.loads(real.read_text())["schema_version"] == 1


def test_missing_output_folder_fails_before_the_analysis(exp, capsys, monkeypatch):
    import abkit.pipeline

    def must_not_run(*a, **k):
        raise AssertionError("analysed although the output cannot be written")

    monkeypatch.setattr(abkit.pipeline, "analyze", must_not_run)
    rc, out, err = run(capsys, "report", exp / "logs" / "a.csv", "-o", exp / "no" / "r.json")
    assert rc == 2 and "cannot write" in err and "does not exist" in err
    assert "Traceback" not in err and out == ""


# ---------------------------------------------------------------- atomic writes
def test_crash_while_writing_leaves_the_old_report(exp, capsys, monkeypatch):
    """The renderer's text cannot be encoded half way through: the write starts, then
    fails. A plain open("w") would already have emptied the old report."""
    from abkit.report.model import Report

    good = Report.to_json

    def broken(self, indent=2):
        return good(self, indent) + "\udcff trailing"  # a lone surrogate: not UTF-8

    monkeypatch.setattr(Report, "to_json", broken)
    out = exp / "sub" / "r.json"
    out.write_text("the previous report\n")
    rc, _, err = run(capsys, "gate", exp / "logs" / "a.csv", "--spec", exp / "spec.toml",
                     "--format", "json", "-o", out)
    assert rc == 4 and "internal error" in err
    assert out.read_text() == "the previous report\n"
    assert leftovers(exp) == []
    out.unlink()
    rc, _, _ = run(capsys, "report", exp / "logs" / "a.csv", "--spec", exp / "spec.toml",
                   "--format", "json", "-o", out)
    assert rc == 4 and not out.exists() and leftovers(exp) == []


def test_a_renderer_failing_after_it_started_leaves_nothing(tmp_path):
    target = tmp_path / "r.md"

    def chunks():
        yield "# half a report\n"
        raise RuntimeError("renderer died")

    with pytest.raises(RuntimeError, match="renderer died"):
        write_text_atomic(target, chunks())
    assert not target.exists() and leftovers(tmp_path) == []
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and leftovers(tmp_path) == []
    write_text_atomic(target, ["a", "b"])
    assert target.read_text() == "ab" and leftovers(tmp_path) == []


def test_simulate_writes_atomically(tmp_path, capsys):
    out = tmp_path / "new" / "sim.csv.gz"
    rc, _, _ = run(capsys, "simulate", "ab", "-o", out, "--users", "200")
    assert rc == 0 and out.exists() and leftovers(tmp_path) == []
    rc, _, err = run(capsys, "simulate", "ab", "-o", tmp_path / "sim.xlsx", "--users", "200")
    assert rc == 2 and "cannot write" in err
    assert not (tmp_path / "sim.xlsx").exists() and leftovers(tmp_path) == []


# ---------------------------------------------------------------- Report.save_html
def test_save_html_refuses_inputs_and_writes_atomically(exp):
    rep = abkit.analyze(exp / "logs" / "a.csv", exp / "spec.toml")
    os.link(exp / "logs" / "a.csv", exp / "hard.html")
    before = snapshot(exp)
    for victim in (exp / "logs" / "a.csv", exp / "spec.toml", exp / "sub" / ".." / "spec.toml"):
        with pytest.raises(InputError, match="destroy the input"):
            rep.save_html(victim, plots=False)
    with pytest.raises(InputError, match="hard link"):
        rep.save_html(exp / "hard.html", plots=False)
    assert snapshot(exp) == before
    page = exp / "sub" / "r.html"
    rep.save_html(page, plots=False)
    assert page.read_text().lstrip().lower().startswith("<!doctype html")
    assert leftovers(exp) == []
    labels = {what for what, _ in rep.input_paths()}
    assert labels == {"log file", "spec file"}


# ---------------------------------------------------------------- the step summary
@pytest.mark.parametrize("log, code", [("a.csv", None), ("regression", 1)])
def test_step_summary_in_a_missing_folder_is_a_warning(exp, capsys, monkeypatch, log, code):
    if log == "regression":
        path = ROOT / "data" / "ab_latency_regression.csv"
        spec = ROOT / "data" / "ab_example.toml"
    else:
        path, spec = exp / "logs" / log, exp / "spec.toml"
        code = main(["gate", str(path), "--spec", str(spec), "--no-step-summary"])
        capsys.readouterr()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(exp / "missing" / "summary.md"))
    rc, out, err = run(capsys, "gate", path, "--spec", spec)
    assert rc == code
    assert out.startswith("abkit ab analysis:")  # the report is still printed
    assert "warning" in err and "step summary" in err and "missing" in err
    assert "Traceback" not in err and not (exp / "missing").exists()


def test_step_summary_failing_late_keeps_the_verdict(capsys, monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full (writes to it fail with ENOSPC)")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "/dev/full")
    rc, out, err = run(capsys, "gate", ROOT / "data" / "ab_latency_regression.csv", "--spec",
                       ROOT / "data" / "ab_example.toml")
    assert rc == 1 and "NO-GO" in out
    assert "could not write the step summary" in err and "Traceback" not in err


def test_step_summary_that_is_an_input_is_not_appended_to(exp, capsys, monkeypatch):
    log = exp / "logs" / "a.csv"
    before = log.read_bytes()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(exp / "sub" / ".." / "logs" / "a.csv"))
    rc, out, err = run(capsys, "gate", log, "--spec", exp / "spec.toml")
    assert rc in (0, 1, 3) and out.startswith("abkit ab analysis:")
    assert "not writing the step summary" in err and "Traceback" not in err
    assert log.read_bytes() == before


def test_step_summary_still_appended(exp, capsys, monkeypatch):
    summary = exp / "sub" / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run(capsys, "gate", exp / "logs" / "a.csv", "--spec", exp / "spec.toml")
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "abkit" in text.lower()


# ---------------------------------------------------------------- the module itself
def test_check_output_and_same_file(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("x")
    (tmp_path / "d").mkdir()
    check_output(tmp_path / "b.csv", [("log file", a)])  # another file: fine
    check_output(tmp_path / "new" / "a.csv", [("log file", a)])
    with pytest.raises(InputError) as e:
        check_output(tmp_path / "d" / ".." / "a.csv", [("log file", a)], option="--out")
    assert "--out" in e.value.hint and str(a) in e.value.message
    assert same_file(a, tmp_path / "d" / ".." / "a.csv")
    assert not same_file(a, tmp_path / "b.csv")


def test_expand_inputs_and_writable_problem(tmp_path):
    (tmp_path / "d" / "e").mkdir(parents=True)
    for name in ("d/x.csv", "d/e/y.jsonl", "z.csv"):
        (tmp_path / name).write_text("1")
    got = {p.name for p in expand_inputs([tmp_path / "d", str(tmp_path / "*.csv"),
                                          tmp_path / "gone.csv"])}
    assert got == {"x.csv", "y.jsonl", "z.csv"}
    assert writable_problem(tmp_path / "ok.md") is None
    assert "does not exist" in writable_problem(tmp_path / "no" / "s.md")
    assert "is a folder" in writable_problem(tmp_path / "d")
