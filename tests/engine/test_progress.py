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


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``abkit args`` in a child whose stderr is a pseudo-terminal: (exit code, what the
    terminal showed)."""
    import os
    import pty
    import subprocess
    import sys

    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "abkit", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=child, env={**os.environ, **env})
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    return proc.wait(timeout=120), shown.decode("utf-8", "replace")


CAPTURE = ["report", "data/shadow/datacapture/churn-endpoint", "--spec",
           "data/shadow/shadow.toml", "--format", "json"]


def test_capture_files_read_show_progress_on_a_terminal():
    env = {"ABKIT_PROGRESS_AFTER": "0", "ABKIT_PROGRESS": ""}
    code, shown = _on_a_terminal(CAPTURE, env)
    assert code == 0, shown
    assert "abkit: reducing " in shown and "capture files ..." in shown
    assert "done in" in shown
    code, quiet = _on_a_terminal([*CAPTURE, "--no-progress"], env)
    assert code == 0 and "abkit: reducing" not in quiet, quiet


def test_no_progress_when_stderr_is_not_a_terminal():
    import os
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "abkit", *CAPTURE], capture_output=True,
                       text=True, env={**os.environ, "ABKIT_PROGRESS_AFTER": "0",
                                       "ABKIT_PROGRESS": ""}, timeout=120)
    assert r.returncode == 0 and "abkit: reducing" not in r.stderr


def test_a_forced_setting_wins_over_the_terminal():
    from abkit.engine.progress import progress_setting

    with progress_setting(False):
        assert not progress_enabled(_Tty())
    with progress_setting(True):
        assert progress_enabled(io.StringIO())
    with progress_setting(None):
        assert progress_enabled(_Tty())
