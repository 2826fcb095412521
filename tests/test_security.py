"""Security properties: no code execution from inputs, no network at run time."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

import abkit

PKG = Path(abkit.__file__).resolve().parent
SOURCES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("pattern, why", [
    (r"\beval\(", "eval"),
    (r"\bexec\(", "exec"),
    (r"\bimport pickle\b|\bpickle\.", "pickle"),
    (r"\byaml\.load\(|\byaml\.unsafe_load\(|Loader\s*=", "YAML only through safe_load"),
    (r"autoescape\s*=\s*False|\|\s*safe\b", "HTML always escaped"),
    (r"\bsubprocess\b|\bos\.system\(", "no shelling out"),
    (r"\burllib\b|\bimport requests\b|\bfrom requests\b|\bhttp\.client\b|\bsocket\.",
     "no network clients"),
])
def test_source_has_no(pattern, why):
    hits = [f"{p.relative_to(PKG)}:{i}" for p in SOURCES
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(pattern, line) and not line.lstrip().startswith("#")]
    assert not hits, f"{why}: {hits}"


def test_templates_autoescape_and_no_safe_filter():
    from abkit.report.html import _env

    env = _env()
    assert env.autoescape is True
    for t in (PKG / "report" / "templates").glob("*"):
        assert "|safe" not in t.read_text().replace(" ", "")


def test_duckdb_never_installs_extensions(data_dir):
    from abkit.engine.duckdb_engine import DuckDBLogs
    from abkit.io import resolve_sources

    logs = DuckDBLogs(resolve_sources(data_dir / "ab_example.csv"))
    value = logs.con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()
    assert value[0] is False


def test_no_network_during_analysis_and_rendering(monkeypatch, data_dir, tmp_path):
    """Python-level sockets refuse to connect; DuckDB's own downloads are off (above)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    rep = abkit.analyze(data_dir / "ab_requests.jsonl.gz", data_dir / "ab_requests.toml")
    rep.save_html(tmp_path / "r.html")
    rep.to_json()
    rep.to_markdown()
