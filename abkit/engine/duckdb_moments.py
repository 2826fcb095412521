"""Moment aggregates of the DuckDB engine: the SQL of per-unit aggregates, per-variant means
and covariances, and their conversion to :class:`MomentStats` (a mixin of :class:`DuckDBLogs`)."""

from __future__ import annotations

from ..stats import MomentStats
from .duckdb_files import qi
from .plan import Plan, Variable


class MomentSQL:
    """Static methods of :class:`~abkit.engine.duckdb_engine.DuckDBLogs` that build the
    moment aggregates and read them back."""

    @staticmethod
    def _agg(v: Variable, xs: dict[str, str], ordered: bool) -> str:
        if v.agg == "count":
            return "count(*)"
        x = xs[v.column]  # type: ignore[index]
        o = f" ORDER BY {x}" if ordered else ""
        return {"value": f"sum({x}{o})", "sum": f"sum({x}{o})", "max": f"max({x})",
                "avg": f"avg({x}{o})"}[v.agg]

    @staticmethod
    def _moment_aggs(plan: Plan, vals: dict[Variable, str], ordered: bool) -> str:
        out = ["count(*) AS _n"]
        for v in plan.variables:
            o = f" ORDER BY {vals[v]}" if ordered else ""
            out.append(f"avg({vals[v]}{o}) AS {qi('mean:' + v.key)}")
        for a, b, key in plan.covariances:
            o = f" ORDER BY {vals[a]}, {vals[b]}" if ordered else ""
            out.append(f"covar_samp({vals[a]}, {vals[b]}{o}) AS {qi(key)}")
        return ", ".join(out)

    @staticmethod
    def _to_moments(row: dict, variables: tuple[Variable, ...], n: int) -> MomentStats:
        k = len(variables)
        mean = [float(row["mean:" + v.key] or 0.0) for v in variables]
        cov = [[0.0] * k for _ in range(k)]
        for i, a in enumerate(variables):
            for j, b in enumerate(variables):
                val = row.get(f"cov:{a.key}:{b.key}")
                if val is None:
                    val = row.get(f"cov:{b.key}:{a.key}")
                cov[i][j] = float(val) if val is not None else 0.0
        return MomentStats.from_cov(n, mean, cov)
