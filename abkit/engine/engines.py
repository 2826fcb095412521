"""The two engines behind :class:`abkit.engine.base.Engine`: DuckDB (files, and DataFrames
when asked) and pandas (DataFrames, and the reference reading of a capture tree)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .base import Engine

__all__ = ["DuckDBEngine", "PandasEngine"]


class DuckDBEngine(Engine):
    """Out of core: a plan compiles to SQL over the files (or a registered DataFrame)."""

    name = "duckdb"

    def columns(self, source: Any) -> list[str]:
        return source.logs.columns()

    def sample(self, source: Any, n: int = 10000) -> Any:
        return source.logs.sample(n)

    def reduce_ab(self, source: Any, plan: Any) -> Any:
        return source.logs.reduce(plan)

    def reduce_rollout(self, source: Any, plan: Any) -> Any:
        from .duckdb_rollout import reduce_rollout

        return reduce_rollout(source.logs, plan, plan.spec.control)

    def reduce_rows(self, source: Any, plan: Any) -> Any:
        from .duckdb_rows import reduce_rows

        return reduce_rows(source.logs, plan)

    def reduce_pairs(self, source: Any, plan: Any) -> Any:
        from .duckdb_pairs import reduce_pairs

        return reduce_pairs(source, plan)

    def reduce_capture(self, source: Any, plan: Any) -> Any:
        from .capture import reduce_capture

        return reduce_capture(source, plan, self.name)


class PandasEngine(Engine):
    """In memory: a plan compiles to pandas masks and groupby over a DataFrame."""

    name = "pandas"

    @staticmethod
    def _frame(source: Any) -> Any:
        if source.frame is None:
            raise InputError("log files are always reduced with the duckdb engine",
                             "drop engine='pandas', or pass a DataFrame")
        return source.frame

    def columns(self, source: Any) -> list[str]:
        return [str(c) for c in self._frame(source).columns]

    def sample(self, source: Any, n: int = 10000) -> Any:
        return self._frame(source).head(n)

    def reduce_ab(self, source: Any, plan: Any) -> Any:
        from .pandas_engine import reduce_frame

        return reduce_frame(self._frame(source), plan)

    def reduce_rollout(self, source: Any, plan: Any) -> Any:
        from .rollout_reduce import reduce_frame

        return reduce_frame(self._frame(source), plan, plan.spec.control)

    def reduce_rows(self, source: Any, plan: Any) -> Any:
        from .rows import reduce_frame_rows

        return reduce_frame_rows(self._frame(source), plan)

    def reduce_pairs(self, source: Any, plan: Any) -> Any:
        from .pairs import reduce_frame_pairs

        return reduce_frame_pairs(source, plan)

    def reduce_capture(self, source: Any, plan: Any) -> Any:
        """The reference: the Python capture readers and the pandas pairing."""
        from .capture import reduce_capture

        return reduce_capture(source, plan, self.name)
