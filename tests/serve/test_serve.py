"""``abkit serve``: a real uvicorn server on 127.0.0.1, called with an HTTP client (httpx)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from abkit.errors import SpecError  # noqa: E402
from abkit.serve import create_app, load_config  # noqa: E402
from abkit.serve.app import GATE_STATUS  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "logs" / "canary").mkdir(parents=True)
    (tmp_path / "logs" / "linear").mkdir(parents=True)
    (tmp_path / "specs").mkdir()
    shutil.copy(DATA / "canary.csv", tmp_path / "logs" / "canary" / "part-1.csv")
    shutil.copy(DATA / "linear.csv.gz", tmp_path / "logs" / "linear" / "part-1.csv.gz")
    for s in ("canary.toml", "linear.toml", "ab_example.toml"):
        shutil.copy(DATA / s, tmp_path / "specs" / s)
    shutil.copy(DATA / "ab_example.csv", tmp_path / "logs" / "ab.csv")
    (tmp_path / "serve.toml").write_text(
        '[[gates]]\nname = "canary"\nspec = "specs/canary.toml"\nlogs = "logs/canary/"\n\n'
        '[[gates]]\nname = "linear"\nspec = "specs/linear.toml"\nlogs = "logs/linear/*.csv.gz"\n\n'
        '[[gates]]\nname = "ab-wrong-spec"\nspec = "specs/canary.toml"\nlogs = "logs/ab.csv"\n')
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(config: Path):
    """A real uvicorn server on 127.0.0.1 (a free port) serving ``config``; yields its URL."""
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture
def server(tree):
    with serving(tree / "serve.toml") as url:
        yield url


def test_report_gate_and_health(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        h = c.get("/healthz")
        assert h.status_code == 200
        assert h.json() == {"status": "ok", "gates": ["ab-wrong-spec", "canary", "linear"]}
        r = c.get("/v1/report/canary")  # Argo's web provider: always 200, the JSON
        assert r.status_code == 200 and r.json()["decision"] == "no-go"
        g = c.get("/v1/gate/canary")  # Flagger: non-2xx on NO-GO
        assert g.status_code == GATE_STATUS["no-go"] == 409
        assert g.json()["strategy"] == "canary"
        assert c.get("/v1/gate/linear").status_code == 200  # the linear sample is a GO
        missing = c.get("/v1/gate/nope")
        assert missing.status_code == 404 and "canary" in missing.json()["gates"]
        bad = c.get("/v1/gate/ab-wrong-spec")  # a canary spec on an A/B log: exit 2 -> 422
        assert bad.status_code == 422 and bad.json()["error"]


def test_logs_are_reread_when_they_grow_and_cached_otherwise(server, tree):
    with httpx.Client(base_url=server, timeout=60) as c:
        first = c.get("/v1/report/canary").json()
        again = c.get("/v1/report/canary").json()
        assert again["generated_at"] == first["generated_at"]  # cached: same document
        # the rollout log grows: a new part appears in the folder
        shutil.copy(DATA / "canary.csv", tree / "logs" / "canary" / "part-2.csv")
        grown = c.get("/v1/report/canary").json()
        assert grown["data"]["rows_read"] == 2 * first["data"]["rows_read"]


def test_files_outside_the_log_root_are_not_read(tree):
    outside = tree / "outside.csv"
    shutil.copy(DATA / "canary.csv", outside)
    (tree / "logs" / "canary" / "escape.csv").symlink_to(outside)
    (gate,) = [g for g in load_config(tree / "serve.toml") if g.name == "canary"]
    names = sorted(p.name for p in gate.files())
    assert names == ["part-1.csv"]


@pytest.mark.parametrize("text, says", [
    ("", "no [[gates]] table"),
    ('[[gates]]\nname = "a b"\nspec = "specs/canary.toml"\nlogs = "x"\n', "URL-safe"),
    ('[[gates]]\nname = "a"\nspec = "nope.toml"\nlogs = "x"\n', "no such file"),
    ('[[gates]]\nname = "a"\nspec = "specs/canary.toml"\nlogs = "x"\nport = 1\n',
     "unknown key"),
    ('[[gates]]\nname = "a"\nspec = "specs/canary.toml"\nlogs = "x"\n'
     '[[gates]]\nname = "a"\nspec = "specs/canary.toml"\nlogs = "y"\n', "used twice"),
])
def test_config_errors_name_the_key(tree, text, says):
    p = tree / "bad.toml"
    p.write_text(text)
    with pytest.raises(SpecError, match=says.replace("[", r"\[").replace("]", r"\]")):
        load_config(p)


def test_recipes_point_at_served_routes_and_map_every_decision():
    import yaml

    root = DATA.parent / "recipes"
    gates = {g.name for g in load_config(root / "serve.toml")}
    argo = yaml.safe_load((root / "argo-web-analysis-template.yaml").read_text())
    (metric,) = argo["spec"]["metrics"]
    assert metric["provider"]["web"]["url"].endswith("/v1/report/{{args.gate}}")
    assert argo["spec"]["args"][0]["value"] in gates
    assert metric["provider"]["web"]["jsonPath"] == "{$.decision}"
    # go succeeds, no-go fails, inconclusive is neither (Argo: Inconclusive, a pause)
    ok = {d: eval(metric["successCondition"], {"result": d}) for d in GATE_STATUS}
    bad = {d: eval(metric["failureCondition"], {"result": d}) for d in GATE_STATUS}
    assert ok == {"go": True, "no-go": False, "inconclusive": False}
    assert bad == {"go": False, "no-go": True, "inconclusive": False}
    flagger = yaml.safe_load((root / "flagger-canary.yaml").read_text())
    (hook,) = flagger["spec"]["analysis"]["webhooks"]
    assert hook["url"].rsplit("/v1/gate/", 1)[1] in gates


def test_flagger_posts_and_the_served_recipe_config_works():
    with serving(DATA.parent / "recipes" / "serve.toml") as url:
        with httpx.Client(base_url=url, timeout=60) as c:
            assert c.post("/v1/gate/churn-canary",
                          json={"name": "churn-model", "phase": "Progressing"}).status_code == 409
            assert c.get("/v1/gate/churn-linear").status_code == 200


def test_the_cli_serves_until_stopped(tree):
    import subprocess
    import sys

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "abkit", "serve", str(tree / "serve.toml"),
                             "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(20)
    assert "serving" in proc.stderr.read()
