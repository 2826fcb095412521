"""Progress of long scans, on stderr: ``abkit: reducing logs/*.parquet ... 43 %``.

DuckDB knows how far a running query is (``query_progress()``, callable from another
thread); :func:`progress` polls it while a query runs and, once the query has taken longer
than :data:`AFTER` seconds, keeps one line on stderr up to date. Anything with a
``query_progress()`` in percent can stand in for the connection: :class:`PassesProgress`
(passes on several connections), :class:`SparkProgress` (the tasks of Spark's running
stages) and :class:`StepProgress` (steps such as capture files read). Results go to stdout,
so the line never mixes with a JSON report. It is on when stderr is a terminal, or when
``ABKIT_PROGRESS=1``; ``ABKIT_PROGRESS=0`` and ``abkit report --no-progress`` turn it off.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

__all__ = ["AFTER", "PassesProgress", "SparkProgress", "StepProgress", "progress",
           "progress_enabled", "progress_setting"]

#: seconds a query runs before its progress is shown
AFTER = 2.0
_EVERY = 0.5


#: set by :func:`progress_setting` (``abkit report --progress / --no-progress``)
_SETTING: list[bool | None] = [None]


@contextmanager
def progress_setting(on: bool | None) -> Iterator[None]:
    """Force progress on or off inside the block (None: the environment and the terminal
    decide, as outside it)."""
    before = _SETTING[0]
    _SETTING[0] = on if on is not None else before
    try:
        yield
    finally:
        _SETTING[0] = before


def progress_enabled(stream: TextIO | None = None) -> bool:
    if _SETTING[0] is not None:
        return _SETTING[0]
    flag = os.environ.get("ABKIT_PROGRESS", "").strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True
    if flag in ("0", "false", "no", "off"):
        return False
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress(con: Any, label: str, *, stream: TextIO | None = None,
             after: float | None = None) -> Iterator[None]:
    """Show ``con``'s query progress on ``stream`` (stderr) while the block runs, from
    ``after`` seconds on (default :data:`AFTER`, or ``$ABKIT_PROGRESS_AFTER`` for tests)."""
    stream = stream or sys.stderr
    if after is None:
        after = float(os.environ.get("ABKIT_PROGRESS_AFTER", "") or AFTER)
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


class StepProgress:
    """Progress counted in steps (files read, ...): :meth:`advance` after each one."""

    def __init__(self, total: int) -> None:
        self.total = max(int(total), 1)
        self.done = 0

    def advance(self, n: int = 1) -> None:
        self.done += n

    def query_progress(self) -> float:
        return min(100.0, 100.0 * self.done / self.total)


class SparkProgress:
    """The tasks of the running Spark stages, as one query's progress (-1, not shown, while
    no stage runs)."""

    def __init__(self, spark_context: Any) -> None:
        self.tracker = spark_context.statusTracker()

    def query_progress(self) -> float:
        total = done = 0
        for stage in self.tracker.getActiveStageIds():
            info = self.tracker.getStageInfo(stage)
            if info is not None:
                total += int(info.numTasks)
                done += int(info.numCompletedTasks)
        return 100.0 * done / total if total else -1.0
