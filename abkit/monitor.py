"""Incremental canary / linear gate for services that feed data in batches.

>>> mon = RolloutMonitor("canary.toml")
>>> for batch in stream:                      # pandas DataFrames, in time order
...     decision = mon.update(batch)          # "go" | "no-go" | "inconclusive"
...     if decision != "inconclusive":
...         break
>>> mon.report().to_json()

Each ``update`` reduces only the batch (O(batch) rows, plus O(cells) of bookkeeping) and
feeds closed look windows to the same :class:`~abkit.rollout.gate.SequentialGate` that
:func:`abkit.analyze` replays, so on the same rows (batches in time order) the monitor's
looks, decision, ``decided_at_look`` and report equal the replay's. The last, still open
window is evaluated provisionally at each update, as replay evaluates the last window of
a log.

Rows of a window that is already closed (an out-of-order batch) join the running
statistics for later looks; looks already taken stand as they were, so the timeline can
then differ from a replay of the sorted data. Quantile metrics keep the raw values of
their baseline period (the first look window(s), until the control has enough rows), and
nothing after it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .errors import InputError, SpecError
from .spec import SEQUENTIAL_STRATEGIES, ExperimentSpec, load_spec
from .rollout.gate import SequentialGate
from .engine.rollout_reduce import (
    Reduction,
    _iso_seconds,
    add_exceedances,
    build_rollout_plan,
    freeze_looks,
    quantile_threshold,
    reduce_frame_cells,
)

__all__ = ["RolloutMonitor"]


class RolloutMonitor:
    """A canary / linear gate fed batch by batch (see the module docstring).

    Parameters
    ----------
    spec : path, dict or ExperimentSpec
        A ``strategy = "canary"`` or ``"linear"`` spec.
    """

    def __init__(self, spec: str | Path | Mapping[str, Any] | ExperimentSpec) -> None:
        sp = load_spec(spec)
        if sp.strategy not in SEQUENTIAL_STRATEGIES or sp.rollout is None:
            raise SpecError(f"RolloutMonitor needs a canary or linear spec, got strategy "
                            f"{sp.strategy!r}")
        self.spec = sp
        self.plan = build_rollout_plan(sp)
        self.control = str(sp.control)
        start = sp.rollout.start
        self.red = Reduction(_iso_seconds(start) if start else None)
        self.gate: SequentialGate | None = None
        self.open_window: int | None = None
        self.pending: dict = {}
        self.pending_exceed: dict = {}
        self.pending_sketch: dict = {}  # variant -> column -> {bucket key: rows}
        self.closed: set[int] = set()
        self.buffer: list[pd.DataFrame] = []  # quantile baseline values, until frozen
        self.frozen = not self.plan.quantiles
        self.batches = 0

    # ------------------------------------------------------------------ feeding
    def update(self, batch: pd.DataFrame) -> str:
        """Add a batch of rows; returns the standing decision after it."""
        if not isinstance(batch, pd.DataFrame):
            raise InputError("update() takes a pandas DataFrame of log rows")
        need = [self.spec.variant_column, self.spec.rollout.timestamp_column,  # type: ignore[union-attr]
                *self.plan.columns]
        missing = [c for c in need if c not in batch.columns.map(str)]
        if missing:
            raise InputError(f"batch {self.batches + 1}: no column(s) {', '.join(missing)}",
                             "each batch needs the spec's variant, timestamp and metric "
                             "columns")
        self.batches += 1
        part = Reduction(self.red.origin)
        part, used = reduce_frame_cells(batch, self.plan, self.red.origin, part,
                                        keep_values=True)
        if self.red.origin is None:
            self.red.origin = part.origin
        self._merge_accounting(part)
        if self.red.origin is None:
            return self.decision  # nothing usable yet
        if self.gate is None:
            self.gate = SequentialGate(self.spec, self.plan, self.control,
                                       self.spec.rollout.candidate,  # type: ignore[union-attr]
                                       float(self.red.origin))
        self._quantiles(part, used)
        for key in sorted(part.cells):
            for v, vec in part.cells[key].items():
                self.red.add_cell(key, v, vec)
        for look, per in part.sketch.items():
            for v, cols in per.items():
                for c, counts in cols.items():
                    for k, n in counts.items():
                        self.red.add_sketch(look, v, c, k, n)
        self._route(part)
        return self.decision

    def _merge_accounting(self, part: Reduction) -> None:
        r = self.red
        r.rows_read += part.rows_read
        r.rows_used += part.rows_used
        for code, n in part.rejected.items():
            r.rejected[code] = r.rejected.get(code, 0) + n
        for code, cols in part.rejected_columns.items():
            d = r.rejected_columns.setdefault(code, {})
            for c, n in cols.items():
                d[c] = d.get(c, 0) + n
        for v, n in part.unknown_variants.items():
            r.unknown_variants[v] = r.unknown_variants.get(v, 0) + n
        r.see_times(part.first_time, part.last_time)

    def _quantiles(self, part: Reduction, used: pd.DataFrame) -> None:
        """Baseline values until each quantile threshold can be frozen; exceedances after."""
        if not self.plan.quantiles:
            return
        if self.frozen:
            part.thresholds = dict(self.red.thresholds)
            for m in self.plan.quantiles:
                if m.name in self.red.thresholds:
                    add_exceedances(part, used, self.plan, m)
            return
        self.buffer.append(used)
        # counts per look including this batch (the cells are merged after this call)
        probe = Reduction(self.red.origin, cells={k: dict(v) for k, v in self.red.cells.items()})
        for key, per in part.cells.items():
            for v, vec in per.items():
                probe.add_cell(key, v, vec)
        freeze = freeze_looks(probe, self.plan, self.control)
        latest = max(k[0] for k in probe.cells)
        ready = {name: k for name, k in freeze.items() if latest > k}
        if len(ready) < len(self.plan.quantiles):
            return
        allrows = pd.concat(self.buffer, ignore_index=True)
        for m in self.plan.quantiles:
            k = ready[m.name]
            base = allrows[(allrows["v"] == self.control) & (allrows["look"] <= k)]
            thr = quantile_threshold(base[m.column].to_numpy(float), m.quantile)  # type: ignore[arg-type]
            self.red.thresholds[m.name] = (thr, k)
            self.gate.thresholds[m.name] = (thr, k)  # type: ignore[union-attr]
            part.thresholds[m.name] = (thr, k)
            # buffered rows of windows after the baseline that are not in this batch were
            # already merged into cells; count their exceedances into pending/closed cells
            add_exceedances(part, allrows, self.plan, m)
        self.buffer = []
        self.frozen = True

    def _route(self, part: Reduction) -> None:
        gate = self.gate
        assert gate is not None
        by_window: dict[int, dict] = {}
        for key, per in part.cells.items():
            by_window.setdefault(key[0], {})[key] = per
        ex_window: dict[int, dict] = {}
        for key, per in part.exceed.items():
            ex_window.setdefault(key[0], {})[key] = per
        for w in sorted(set(by_window) | set(ex_window)):
            cells, exceed = by_window.get(w, {}), ex_window.get(w, {})
            if self.open_window is None or w > self.open_window:
                if self.open_window is not None:
                    self._close()
                self.open_window = w
                self.pending, self.pending_exceed, self.pending_sketch = {}, {}, {}
            if w == self.open_window:
                _merge_cells(self.pending, cells)
                _merge_exceed(self.pending_exceed, exceed)
                _merge_exceed(self.pending_sketch, part.sketch.get(w, {}))
            else:  # a window already looked at
                gate.add_late(cells, exceed, part.sketch.get(w))

    def _close(self) -> None:
        assert self.gate is not None and self.open_window is not None
        self.gate.add_look(self.open_window, self.pending, self.pending_exceed,
                           sketch=self.pending_sketch)
        self.closed.add(self.open_window)

    # ------------------------------------------------------------------ results
    def _provisional(self) -> SequentialGate | None:
        if self.gate is None:
            return None
        if self.open_window is None:
            return self.gate
        g = copy.deepcopy(self.gate)
        g.add_look(self.open_window, self.pending, self.pending_exceed,
                   sketch=self.pending_sketch)
        return g

    @property
    def decision(self) -> str:
        """The standing decision, the open window included."""
        g = self._provisional()
        if g is None or g.decided is None:
            return "inconclusive"
        return g.decided.decision

    @property
    def looks(self):
        g = self._provisional()
        return [] if g is None else list(g.looks)

    def report(self):
        """A :class:`~abkit.report.rollout.RolloutReport` of everything fed so far."""
        from .report.rollout import RolloutReport

        g = self._provisional()
        if g is None:
            raise InputError("no usable rows yet", "feed at least one batch with usable rows")
        self.red.check()
        return RolloutReport.build(self.spec, self.red, g, [],
                                   {"label": f"{self.batches} batches", "format": "dataframe",
                                    "files": [], "engine": "pandas"})


def _merge_cells(into: dict, cells: dict) -> None:
    for key, per in cells.items():
        d = into.setdefault(key, {})
        for v, vec in per.items():
            d[v] = d[v] + vec if v in d else np.array(vec, dtype=float)


def _merge_exceed(into: dict, exceed: dict) -> None:
    """Add three-level counts: exceedances (cell -> variant -> metric) or log-bucket counts
    (variant -> column -> bucket)."""
    for key, per in exceed.items():
        d = into.setdefault(key, {})
        for v, counts in per.items():
            e = d.setdefault(v, {})
            for name, k in counts.items():
                e[name] = e.get(name, 0) + k
