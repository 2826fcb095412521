"""The recipes in recipes/ run as written on the sample data (commands taken from the YAML)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ABKIT = str(Path(sys.executable).with_name("abkit"))


def test_github_actions_job(tmp_path):
    wf = yaml.safe_load((ROOT / "recipes" / "github-actions.yml").read_text())
    steps = wf["jobs"]["gate"]["steps"]
    gate = next(s for s in steps if s.get("name") == "Gate the release")
    upload = next(s for s in steps if s.get("name") == "Upload the report")
    assert upload["if"] == "always()"
    argv = shlex.split(gate["run"])
    assert argv[0] == "abkit"
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "PATH": str(Path(ABKIT).parent)}
    # the workflow runs from the repository root: a checkout with the sample data
    (tmp_path / "data").symlink_to(ROOT / "data")
    r = subprocess.run([ABKIT, *argv[1:]], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr  # the sample experiment is a GO
    assert "data-decision=\"go\"" in (tmp_path / upload["with"]["path"]).read_text()
    assert "**GO**" in summary.read_text()
    # the same step on the regressing log fails the job
    argv_bad = [a.replace("ab_example.csv", "ab_latency_regression.csv") for a in argv[1:]]
    r = subprocess.run([ABKIT, *argv_bad], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1


def test_argo_job_maps_every_verdict_to_success_or_failure(tmp_path):
    tpl = yaml.safe_load((ROOT / "recipes" / "argo-analysis-template.yaml").read_text())
    assert tpl["kind"] == "AnalysisTemplate"
    args = {a["name"]: a["value"] for a in tpl["spec"]["args"]}
    metric = tpl["spec"]["metrics"][0]
    container = metric["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["abkit"]

    def run(logs: str) -> int:
        argv = [a.replace("{{args.logs}}", logs).replace(
            "{{args.spec}}", str(ROOT / "data" / Path(args["spec"]).name))
            for a in container["args"]]
        return subprocess.run([ABKIT, *argv], capture_output=True, text=True,
                              timeout=120).returncode

    from abkit.datasets import make_ab_log, write_log

    aa = write_log(make_ab_log(3000, seed=12, scenario="null", dirty=False), tmp_path / "aa.csv")
    assert run(str(ROOT / "data" / "ab_example.csv")) == 0             # GO -> Successful
    assert run(str(ROOT / "data" / "ab_latency_regression.csv")) == 1  # NO-GO -> Failed
    assert run(str(aa)) == 1                                           # INCONCLUSIVE -> Failed
    assert run(str(tmp_path / "missing.csv")) == 2                     # bad input -> Failed
