"""Progress of long scans on stderr (abkit.engine.progress), with a real DuckDB query."""

from __future__ import annotations

import io

import duckdb
import pytest

from abkit.engine.progress import progress, progress_enabled


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_enabled_on_a_terminal_or_by_the_environment(monkeypatch):
    monkeypatch.delenv("ABKIT_PROGRESS", raising=False)
    assert progress_enabled(_Tty()) and not progress_enabled(io.StringIO())
    monkeypatch.setenv("ABKIT_PROGRESS", "0")
    assert not progress_enabled(_Tty())
    monkeypatch.setenv("ABKIT_PROGRESS", "1")
    assert progress_enabled(io.StringIO())


@pytest.mark.slow
def test_a_long_query_shows_its_progress_and_a_short_one_does_not(monkeypatch):
    monkeypatch.setenv("ABKIT_PROGRESS", "1")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    err = io.StringIO()
    with progress(con, "big.parquet", stream=err, after=0.2):
        con.execute("SELECT sum(hash(i)) FROM range(300000000) t(i)").fetchall()
    text = err.getvalue()
    assert "abkit: reducing big.parquet ..." in text and "%" in text
    assert text.rstrip().endswith("s") and "done in" in text
    quiet = io.StringIO()
    with progress(con, "small", stream=quiet):
        con.execute("SELECT 1").fetchall()
    assert quiet.getvalue() == ""
