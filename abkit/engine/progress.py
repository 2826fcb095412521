"""Progress of long scans, on stderr: ``abkit: reducing logs/*.parquet ... 43 %``.

DuckDB knows how far a running query is (``query_progress()``, callable from another
thread); :func:`progress` polls it while a query runs and, once the query has taken longer
than :data:`AFTER` seconds, keeps one line on stderr up to date. Results go to stdout, so the
line never mixes with a JSON report. It is on when stderr is a terminal, or when
``ABKIT_PROGRESS=1``; ``ABKIT_PROGRESS=0`` turns it off.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

__all__ = ["AFTER", "PassesProgress", "progress", "progress_enabled"]

#: seconds a query runs before its progress is shown
AFTER = 2.0
_EVERY = 0.5


def progress_enabled(stream: TextIO | None = None) -> bool:
    flag = os.environ.get("ABKIT_PROGRESS", "").strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True
    if flag in ("0", "false", "no", "off"):
        return False
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress(con: Any, label: str, *, stream: TextIO | None = None,
             after: float = AFTER) -> Iterator[None]:
    """Show ``con``'s query progress on ``stream`` (stderr) while the block runs."""
    stream = stream or sys.stderr
    if not progress_enabled(stream):
        yield
        return
    done = threading.Event()
    shown = [False]

    def poll() -> None:
        if done.wait(after):
            return
        while not done.is_set():
            try:
                pct = float(con.query_progress())
            except Exception:  # the query finished between two polls, or the API refused
                pct = -1.0
            if pct >= 0:
                stream.write(f"\rabkit: reducing {label} ... {min(pct, 100.0):3.0f} %")
                stream.flush()
                shown[0] = True
            done.wait(_EVERY)

    thread = threading.Thread(target=poll, name="abkit-progress", daemon=True)
    thread.start()
    start = time.monotonic()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown[0]:
            stream.write(f"\rabkit: reducing {label} ... done in "
                         f"{time.monotonic() - start:.1f} s\n")
            stream.flush()


class PassesProgress:
    """The progress of ``k`` passes run on several connections, as one query's: passes
    finished count 100 % each, running ones what their connection reports.

    Give it to :func:`progress` in place of a connection; the runner calls
    :meth:`finished` after each pass.
    """

    def __init__(self, cons: list[Any], k: int) -> None:
        self.cons = cons
        self.k = max(int(k), 1)
        self.done = 0
        self._lock = threading.Lock()

    def finished(self) -> None:
        with self._lock:
            self.done += 1

    def query_progress(self) -> float:
        running = 0.0
        for con in self.cons:
            try:
                running += max(float(con.query_progress()), 0.0)
            except Exception:  # idle, closed, or the API refused: counts as nothing
                pass
        return min(100.0, (100.0 * self.done + running) / self.k)
