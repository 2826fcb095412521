"""The line guard in the DuckDB scan: an over-long line or the rest of a gzip bomb is one
named rejection in every strategy's accounting, the other rows give the clean file's report,
and memory stays bounded (the big cases run in a child under a 2 GiB address-space limit)."""

from __future__ import annotations

import functools
import gzip
import json
import sys
from pathlib import Path

import pytest

from abkit.engine import duckdb_engine
from abkit.io.datacapture.discover import MAX_LINE_BYTES
from abkit.io.line_guard import guard_files

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from io_helpers import ROOT, cli, limited, report_json  # noqa: E402

DATA = ROOT / "data"
AB, AB_SPEC = DATA / "ab_example.csv", DATA / "ab_example.toml"
#: one line just over the cap (compresses to ~65 KB)
LONG = b"u9999999," + b"a" * (MAX_LINE_BYTES + 16)


def _with_line(src: bytes, after: int, line: bytes) -> bytes:
    """``src`` with ``line`` inserted after its first ``after`` lines."""
    lines = src.split(b"\n")
    return b"\n".join(lines[:after] + [line] + lines[after:])


def _same(doc: dict) -> dict:
    """A report without what an extra rejected line changes."""
    return {k: v for k, v in doc.items()
            if k not in ("generated_at", "input", "data", "warnings", "spec")}


def _child_report(path: Path, spec: Path, out: Path) -> dict:
    r = limited(f"""
        import sys
        from abkit.cli import main
        sys.exit(main(["report", {str(path)!r}, "--spec", {str(spec)!r}, "--format", "json",
                       "-o", {str(out)!r}]))
    """, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return json.loads(out.read_text())


def test_an_over_long_line_in_a_gzip_csv_is_one_rejection(tmp_path, capsys):
    bad = tmp_path / "ab.csv.gz"
    bad.write_bytes(gzip.compress(_with_line(AB.read_bytes(), 101, LONG), compresslevel=1))
    got = _child_report(bad, AB_SPEC, tmp_path / "r.json")
    clean = report_json(AB, capsys, "--spec", AB_SPEC)
    assert got["data"]["rows_rejected"]["oversized_line"] == 1
    assert got["data"]["rows_read"] == clean["data"]["rows_read"] + 1
    assert got["data"]["rows_used"] == clean["data"]["rows_used"]
    assert got["data"]["examples"]["oversized_line"].startswith(f"{bad}, line 102: ")
    assert _same(got) == _same(clean)
    assert not list(tmp_path.glob("abkit-lines-*"))


def test_an_over_long_json_line_is_one_rejection(tmp_path, capsys):
    src = DATA / "ab_requests.jsonl.gz"
    bad = tmp_path / "requests.jsonl.gz"
    line = b'{"unit_id": "' + b"x" * (MAX_LINE_BYTES + 16) + b'"}'
    bad.write_bytes(gzip.compress(_with_line(gzip.decompress(src.read_bytes()), 7, line),
                                  compresslevel=1))
    spec = DATA / "ab_requests.toml"
    got = _child_report(bad, spec, tmp_path / "r.json")
    clean = report_json(src, capsys, "--spec", spec)
    assert got["data"]["rows_rejected"]["oversized_line"] == 1
    assert got["data"]["rows_read"] == clean["data"]["rows_read"] + 1
    assert _same(got) == _same(clean)


def _small_cap(monkeypatch, **caps) -> None:
    monkeypatch.setattr(duckdb_engine, "guard_files", functools.partial(guard_files, **caps))


def test_the_rest_of_a_file_past_the_cap_is_one_rejection(tmp_path, capsys, monkeypatch):
    text = AB.read_bytes()
    cut = len(text) // 2
    kept = text[:text.rfind(b"\n", 0, cut) + 1].count(b"\n") - 1  # data lines before it
    _small_cap(monkeypatch, file_cap=cut)
    got = report_json(AB, capsys, "--spec", AB_SPEC)
    assert got["data"]["rows_rejected"] == {"decompressed_too_large": 1}
    assert got["data"]["rows_read"] == kept + 1
    assert "decompresses to more than" in got["data"]["examples"]["decompressed_too_large"]


def test_a_canary_log_accounts_for_the_over_long_line(tmp_path, capsys, monkeypatch):
    src = (DATA / "canary.csv").read_bytes()
    bad = tmp_path / "canary.csv"
    bad.write_bytes(_with_line(src, 40, b"x" * 300))
    _small_cap(monkeypatch, line_cap=200)
    got = report_json(bad, capsys, "--spec", DATA / "canary.toml")
    clean = report_json(DATA / "canary.csv", capsys, "--spec", DATA / "canary.toml")
    assert got["data"]["rows_rejected"].get("oversized_line") == 1
    assert got["data"]["rows_read"] == clean["data"]["rows_read"] + 1
    assert got["decision"] == clean["decision"]


def test_a_generic_shadow_log_accounts_for_the_over_long_line(tmp_path, capsys, monkeypatch):
    rows = ["request_id,variant,score"] + [
        f"r{i},{v},{(i % 10) / 10 + (0.05 if v == 'cand' else 0):.2f}"
        for v in ("live", "cand") for i in range(200)]
    path = tmp_path / "shadow.csv"
    path.write_text("\n".join(rows[:50] + ["r999,live," + "9" * 300] + rows[50:]) + "\n")
    spec = tmp_path / "shadow.toml"
    spec.write_text('[experiment]\nstrategy = "shadow"\nlive = "live"\ncandidate = "cand"\n')
    _small_cap(monkeypatch, line_cap=200)
    code, out, err = cli(["report", path, "--spec", spec, "--format", "json"], capsys)
    assert code == 0, err
    data = json.loads(out)["data"]
    assert data["rows_rejected"].get("oversized_line") == 1
    assert data["rows_read"] == 401 and data["rows_used"] == 400


def test_a_clean_file_is_scanned_as_it_is():
    from abkit.io.sources import resolve_sources

    logs = duckdb_engine.DuckDBLogs(resolve_sources(AB))
    assert logs.guard is not None and logs.guard.folder is None
    assert logs.scanned is logs.source


@pytest.mark.parametrize("name", ["ab_example.csv", "linear.csv.gz"])
def test_the_shipped_samples_need_no_copy(name):
    from abkit.io.sources import resolve_sources

    assert duckdb_engine.DuckDBLogs(resolve_sources(DATA / name)).guard.folder is None
