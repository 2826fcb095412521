"""Reduce a rollout's rows to per-(look, step, variant) sums, the sequential gates' input.

Rows are classified once (used, or the first rejection reason that applies, as in the A/B
engines, plus the timestamp reasons) and grouped into *cells*: look window x schedule step
x variant. A cell holds ``[n, sum x, sum x^2, ...]`` for every metric column, so a look's
cumulative statistics are sums of cells and nothing after the reduction scales with rows.

Quantile (tail-latency) metrics need two more things: the control's quantile from a
*baseline* period, frozen before the data it is applied to (see :mod:`abkit.rollout.gate`),
after which each cell also counts the rows above that threshold (the test); and, for the
report, per (look, variant) log-bucket counts of the metric's column
(:mod:`abkit.stats.log_buckets`), from which each variant's quantile at any look is read to
within 0.5 %, in the metric's units.

The DuckDB engine (files) and pandas (DataFrames, and the batches of
`abkit.monitor.RolloutMonitor`) produce the same :class:`Reduction`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar
import numpy as np
import pandas as pd

from ..core.accounting import ReasonCounts, count_reasons
from .classify import classify, parse_times  # noqa: F401  (parse_times re-exported)
from .pandas_engine import reason_counts
from .rules import RowRules
from .timestamps import TimeRules
from ..spec import ExperimentSpec, MetricSpec
from ..stats.log_buckets import bucket_keys

__all__ = ["RolloutPlan", "Reduction", "build_rollout_plan", "reduce_frame_cells",
           "parse_times", "baseline_need"]

CellKey = tuple[int, int]  # (look, step), both 0-based


def baseline_need(q: float) -> int:
    """Control rows needed before a quantile threshold is frozen: 20 expected exceedances,
    at least 100 rows (p99: 2,000 rows; p95: 400)."""
    return max(100, math.ceil(20.0 / (1.0 - q)))


@dataclass(frozen=True)
class RolloutPlan:
    kind: ClassVar[str] = "rollout"
    spec: ExperimentSpec
    columns: tuple[str, ...]
    binary: tuple[str, ...]
    counts: tuple[str, ...]
    quantiles: tuple[MetricSpec, ...]
    #: the timestamp column's epoch unit and time range (None: decided from the rows)
    time: TimeRules | None = None

    @property
    def width(self) -> int:
        return 1 + 2 * len(self.columns)

    @property
    def sketch_columns(self) -> tuple[str, ...]:
        """The columns of the quantile metrics (log-bucket counts per look and variant)."""
        return tuple(dict.fromkeys(m.column for m in self.quantiles))  # type: ignore[misc]

    def sums(self, column: str) -> tuple[int, int]:
        """Positions of sum x and sum x^2 of ``column`` in a cell vector."""
        i = self.columns.index(column)
        return 1 + 2 * i, 2 + 2 * i

    @property
    def grain(self) -> float:
        """Seconds that divide the look interval and every schedule boundary (their greatest
        common divisor, in milliseconds): a default rollout start is rounded down to it, so
        that rows can be grouped on the absolute time grid before the start is known."""
        ms = [round(self.look * 1000)] + [round(b * 1000) for b in self.schedule.boundaries]
        g = 0
        for x in ms:
            g = math.gcd(g, int(x))
        return max(g, 1) / 1000.0

    def default_origin(self, first_time: float) -> float:
        g = self.grain
        return math.floor(first_time / g) * g

    @property
    def look(self) -> float:
        return self.spec.rollout.look_every  # type: ignore[union-attr]

    @property
    def schedule(self):
        return self.spec.rollout.schedule  # type: ignore[union-attr]

    def step_of(self, rel: np.ndarray) -> np.ndarray:
        """Schedule step (0-based) of each time ``rel`` seconds after the start."""
        return np.searchsorted(np.asarray(self.schedule.boundaries, dtype=float), rel,
                               side="right").astype(np.int64)

    def place_on_grid(self, used: list[dict]) -> float | None:
        """The default start of rows grouped on the absolute time grid: the first used
        row's grain (``row["_g"]``, in :attr:`grain` units); sets each row's ``"_key"`` to
        its ``(look, step)``. None when there is no used row. (The engines group rows before
        the start is known, then place the groups here, exactly.)"""
        if not used:
            return None
        g = self.grain
        origin = min(int(r["_g"]) for r in used) * g
        rel = np.array([int(r["_g"]) * g - origin for r in used])
        looks = np.floor(rel / self.look + 1e-9).astype(np.int64)
        steps = self.step_of(rel + 1e-9)
        for r, k, st in zip(used, looks, steps):
            r["_key"] = (int(k), int(st))
        return origin

    def rules(self, origin: float | None) -> RowRules:
        """The row checks (``origin`` None: no row is ``before_start``)."""
        spec = self.spec
        assert spec.rollout is not None
        return RowRules(spec.variant_column, tuple(spec.split or ()), columns=self.columns,
                        binary=self.binary, counts=self.counts,
                        timestamp_column=spec.rollout.timestamp_column, origin=origin,
                        time=self.time)

    def step_sql(self, rel: str) -> str:
        b = self.schedule.boundaries
        if not b:
            return "0"
        return "CASE " + " ".join(f"WHEN {rel} < {x!r} THEN {i}" for i, x in enumerate(b)) + \
            f" ELSE {len(b)} END"


def build_rollout_plan(spec: ExperimentSpec, time: TimeRules | None = None) -> RolloutPlan:
    """The plan of ``spec``; ``time`` from :func:`abkit.engine.timestamps.time_rules` on a
    sample of the timestamp column (None: each engine decides from the rows it sees)."""
    cols = tuple(dict.fromkeys(m.column for m in spec.metrics))  # type: ignore[misc]
    binary = tuple(dict.fromkeys(m.column for m in spec.metrics if m.kind == "proportion"))
    counts = tuple(dict.fromkeys(m.column for m in spec.metrics if m.kind == "count"))
    quant = tuple(m for m in spec.metrics if m.kind == "quantile")
    return RolloutPlan(spec, cols, binary, counts, quant, time)  # type: ignore[arg-type]


@dataclass
class Reduction:
    """A rollout's rows, reduced. ``cells[(look, step)][variant]`` is a float vector
    ``[n, sum x0, sum x0^2, sum x1, ...]`` in :attr:`RolloutPlan.columns` order;
    ``exceed[(look, step)][variant][metric]`` counts rows above that quantile metric's
    frozen threshold (only looks after its baseline); ``thresholds[metric] = (value,
    last baseline look)``; ``sketch[look][variant][column]`` is ``{bucket key: rows}`` of a
    quantile metric's column (:mod:`abkit.stats.log_buckets`). Times are epoch seconds
    (UTC)."""

    origin: float | None
    rows_read: int = 0
    rows_used: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    rejected_columns: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_variants: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    cells: dict[CellKey, dict[str, np.ndarray]] = field(default_factory=dict)
    exceed: dict[CellKey, dict[str, dict[str, int]]] = field(default_factory=dict)
    thresholds: dict[str, tuple[float, int]] = field(default_factory=dict)
    sketch: dict[int, dict[str, dict[str, dict[int, int]]]] = field(default_factory=dict)
    first_time: float | None = None
    last_time: float | None = None

    def check(self) -> None:
        total = self.rows_used + sum(self.rejected.values())
        if total != self.rows_read:  # pragma: no cover - an accounting bug
            raise AssertionError(f"row accounting does not add up: read {self.rows_read}, "
                                 f"used {self.rows_used}, rejected {total - self.rows_used}")

    def add_cell(self, key: CellKey, variant: str, vec: np.ndarray) -> None:
        per = self.cells.setdefault(key, {})
        if variant in per:
            per[variant] = per[variant] + vec
        else:
            per[variant] = np.array(vec, dtype=float)

    def add_sketch(self, look: int, variant: str, column: str, key: int, n: int) -> None:
        per = self.sketch.setdefault(look, {}).setdefault(variant, {}).setdefault(column, {})
        per[key] = per.get(key, 0) + n

    def add_rejections(self, counts: dict[str, int], unknown: dict[str, int]) -> None:
        self.merge_counts(count_reasons(counts, unknown))

    def merge_counts(self, c: ReasonCounts) -> None:
        for code, n in c.rejected.items():
            self.rejected[code] = self.rejected.get(code, 0) + n
        for code, per in c.rejected_columns.items():
            d = self.rejected_columns.setdefault(code, {})
            for col, n in per.items():
                d[col] = d.get(col, 0) + n
        for v, n in c.unknown_variants.items():
            self.unknown_variants[v] = self.unknown_variants.get(v, 0) + n

    def see_times(self, lo: float | None, hi: float | None) -> None:
        if lo is not None:
            self.first_time = lo if self.first_time is None else min(self.first_time, lo)
        if hi is not None:
            self.last_time = hi if self.last_time is None else max(self.last_time, hi)

    def looks(self) -> list[int]:
        return sorted({k[0] for k in self.cells})


# ---------------------------------------------------------------------- pandas


def classify_frame(df: pd.DataFrame, plan: RolloutPlan, origin: float | None):
    """(reason, variant labels, epoch seconds, {column: values}) of every row of ``df``."""
    cl = classify(df, plan.rules(origin))
    return cl.reason, cl.variant, cl.time, cl.values


def reduce_frame_cells(df: pd.DataFrame, plan: RolloutPlan, origin: float | None,
                       red: Reduction | None = None, *, keep_values: bool = False):
    """Add ``df``'s rows to ``red`` (a new Reduction when None); O(rows of df).

    ``origin`` None: the first valid timestamp of ``df`` becomes the origin. With
    ``keep_values`` also returns the used rows (variant, look, step, values) as a DataFrame
    (the monitor needs the raw values of quantile metrics until their baseline closes).
    """
    if origin is None:
        reason, v, t, _ = classify_frame(df, plan, None)
        ok = reason.isna()
        origin = plan.default_origin(float(t[ok].min())) if ok.any() else None
    red = red if red is not None else Reduction(origin)
    if red.origin is None:
        red.origin = origin
    reason, v, t, values = classify_frame(df, plan, red.origin)
    red.rows_read += len(df)
    bad = reason.notna()
    red.merge_counts(reason_counts(reason, v))
    ok = ~bad
    used = pd.DataFrame({"v": v[ok].astype(str), "t": t[ok]})
    red.rows_used += len(used)
    if len(used) == 0:
        return (red, used) if keep_values else red
    rel = used["t"].to_numpy() - float(red.origin)  # type: ignore[arg-type]
    used["look"] = np.floor(rel / plan.look).astype(np.int64)
    used["step"] = plan.step_of(rel)
    names = []
    for c in plan.columns:
        x = values[c][ok].to_numpy(dtype=float)
        used[f"s{c}"] = x
        used[f"q{c}"] = x * x
        names += [f"s{c}", f"q{c}"]
    red.see_times(float(used["t"].min()), float(used["t"].max()))
    g = used.groupby(["look", "step", "v"], sort=True)
    sizes = g.size()
    sums = g[names].sum()
    for key, nrow in sizes.items():
        look, step, var = key
        vec = np.concatenate([[float(nrow)], sums.loc[key].to_numpy(dtype=float)])
        red.add_cell((int(look), int(step)), str(var), vec)
    for c in plan.sketch_columns:
        keys = pd.DataFrame({"look": used["look"].to_numpy(), "v": used["v"].to_numpy(),
                             "k": bucket_keys(values[c][ok].to_numpy(dtype=float))})
        for (look, var, k), n in keys.groupby(["look", "v", "k"], sort=True).size().items():
            red.add_sketch(int(look), str(var), c, int(k), int(n))
    if keep_values:
        out = used[["v", "look", "step"]].copy()
        for c in plan.columns:
            out[c] = values[c][ok].to_numpy(dtype=float)
        return red, out
    return red


def freeze_looks(red: Reduction, plan: RolloutPlan, control: str) -> dict[str, int]:
    """Last baseline look of each quantile metric: the first look by whose end the control
    has :func:`baseline_need` rows (absent while the baseline is still incomplete)."""
    out: dict[str, int] = {}
    if not plan.quantiles:
        return out
    per_look: dict[int, float] = {}
    for (look, _), per in red.cells.items():
        if control in per:
            per_look[look] = per_look.get(look, 0.0) + per[control][0]
    for m in plan.quantiles:
        need = baseline_need(m.quantile)  # type: ignore[arg-type]
        total = 0.0
        for look in sorted(per_look):
            total += per_look[look]
            if total >= need:
                out[m.name] = look
                break
    return out


def quantile_threshold(values: np.ndarray, q: float) -> float:
    """The control's ``q``-quantile of the baseline rows (``numpy.quantile``,
    ``method="inverted_cdf"``: an observed value, the smallest with CDF >= q)."""
    return float(np.quantile(values, q, method="inverted_cdf"))


def add_exceedances(red: Reduction, used: pd.DataFrame, plan: RolloutPlan,
                    metric: MetricSpec) -> None:
    """Count ``used`` rows above ``metric``'s frozen threshold, per cell (looks after the
    baseline only)."""
    thr, last = red.thresholds[metric.name]
    after = used[used["look"] > last]
    if len(after) == 0:
        return
    above = (after[metric.column].to_numpy(dtype=float) > thr).astype(np.int64)
    frame = pd.DataFrame({"look": after["look"].to_numpy(), "step": after["step"].to_numpy(),
                          "v": after["v"].to_numpy(), "a": above})
    for (look, step, var), k in frame.groupby(["look", "step", "v"], sort=True)["a"].sum().items():
        cell = red.exceed.setdefault((int(look), int(step)), {}).setdefault(str(var), {})
        cell[metric.name] = cell.get(metric.name, 0) + int(k)


def reduce_frame(df: pd.DataFrame, plan: RolloutPlan, control: str) -> Reduction:
    """The whole replay reduction of a DataFrame (pandas)."""
    start = plan.spec.rollout.start  # type: ignore[union-attr]
    origin = _iso_seconds(start) if start else None
    red, used = reduce_frame_cells(df, plan, origin, keep_values=True)
    if plan.quantiles and len(used):
        freeze = freeze_looks(red, plan, control)
        for m in plan.quantiles:
            if m.name not in freeze:
                continue
            base = used[(used["v"] == control) & (used["look"] <= freeze[m.name])]
            red.thresholds[m.name] = (quantile_threshold(base[m.column].to_numpy(float),
                                                         m.quantile), freeze[m.name])
            add_exceedances(red, used, plan, m)
    red.check()
    return red


def _iso_seconds(text: str) -> float:
    import datetime as dt

    d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.timestamp()


def to_iso(seconds: float | None) -> str | None:
    """Epoch seconds -> ``2026-11-20T10:05:00Z`` (fractions kept to milliseconds)."""
    if seconds is None:
        return None
    import datetime as dt

    d = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    spec = "milliseconds" if d.microsecond else "seconds"
    return d.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
