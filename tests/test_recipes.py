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


def _guardrail(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "recipes" / "sagemaker_guardrail.py"),
                           *args, "--baseline", "blue", "--candidate", "green"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_sagemaker_guardrail_on_cloudwatch_exports(tmp_path):
    import json as _json

    cw = ROOT / "data" / "cloudwatch"
    ok = _guardrail(str(cw / "ok_results.json"), str(cw / "ok_queries.json"))
    assert ok.returncode == 0, ok.stderr
    assert _json.loads(ok.stdout)["decision"] == "go"
    bad = _guardrail(str(cw / "regression_results.json"), str(cw / "regression_queries.json"))
    assert bad.returncode == 1
    verdict = _json.loads(bad.stdout)
    assert verdict["error_rate"]["regressed"] and verdict["latency_ms"]["regressed"]
    # a few minutes of traffic: not enough to show the candidate is within its margins
    from abkit.datasets import make_cloudwatch_export

    q, r = make_cloudwatch_export("ok", minutes=3)
    (tmp_path / "q.json").write_text(_json.dumps(q))
    (tmp_path / "r.json").write_text(_json.dumps(r))
    few = _guardrail(str(tmp_path / "r.json"), str(tmp_path / "q.json"))
    assert few.returncode == 3 and _json.loads(few.stdout)["decision"] == "inconclusive"
    # the totals match the export
    inv = sum(v for s in r["MetricDataResults"] if s["Id"] == "invocations_sum_green"
              for v in s["Values"])
    assert _json.loads(few.stdout)["invocations"]["green"] == inv


def test_sagemaker_guardrail_bad_input(tmp_path):
    cw = ROOT / "data" / "cloudwatch"
    (tmp_path / "broken.json").write_text("{not json")
    r = _guardrail(str(tmp_path / "broken.json"), str(cw / "ok_queries.json"))
    assert r.returncode == 2 and "not a JSON" in r.stderr and "Traceback" not in r.stderr
    r = _guardrail(str(cw / "ok_results.json"), str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "no such file" in r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "recipes" / "sagemaker_guardrail.py"),
                        str(cw / "ok_results.json"), str(cw / "ok_queries.json"),
                        "--baseline", "blue", "--candidate", "purple"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "variant 'purple'" in r.stderr


def test_cloudwatch_reader_refuses_inconsistent_exports(tmp_path):
    import json as _json

    import pytest

    from abkit.datasets import make_cloudwatch_export
    from abkit.errors import InputError
    from abkit.io.cloudwatch import read_get_metric_data

    q, r = make_cloudwatch_export("ok", minutes=5)
    (tmp_path / "q.json").write_text(_json.dumps(q))
    series = read_get_metric_data(_write(tmp_path, "r.json", r), tmp_path / "q.json")
    assert {s.dimensions["VariantName"] for s in series} == {"blue", "green"}
    r["MetricDataResults"][0]["Values"].pop()
    with pytest.raises(InputError, match="5 timestamps but 4 values"):
        read_get_metric_data(_write(tmp_path, "r2.json", r), tmp_path / "q.json")
    r["MetricDataResults"][0]["Id"] = "nope"
    with pytest.raises(InputError, match="which no query"):
        read_get_metric_data(_write(tmp_path, "r3.json", r), tmp_path / "q.json")


def _write(folder: Path, name: str, doc: dict) -> Path:
    import json as _json

    (folder / name).write_text(_json.dumps(doc))
    return folder / name
