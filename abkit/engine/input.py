"""An opened input for the engines: a pandas DataFrame or log files, behind one interface.

:class:`LogInput` offers what the pipeline needs of an engine: ``columns()``,
``sample(n)`` and ``reduce(plan)``. Log files are always reduced with DuckDB; a DataFrame
with pandas unless ``engine="duckdb"`` is asked for.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError

__all__ = ["ENGINES", "LogInput", "is_frame"]

ENGINES = ("duckdb", "pandas")


def is_frame(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (checked without importing pandas)."""
    mod = type(data).__module__
    return mod.startswith("pandas") and type(data).__name__ == "DataFrame"


class LogInput:
    """A DataFrame or log files opened for reduction (``frame`` or ``logs`` is set)."""

    def __init__(self, data: Any, engine: str | None = None,
                 deterministic: bool | None = None) -> None:
        if engine is not None and engine not in ENGINES:
            raise InputError(f"unknown engine {engine!r}", "use 'duckdb' or 'pandas'")
        self.frame = None
        self.logs = None
        if is_frame(data):
            self.frame = data
            self.label = "DataFrame"
            self.format = "dataframe"
            self.files: list[str] = []
            self.engine = engine or "pandas"
            if self.engine == "duckdb":
                from .duckdb_engine import DuckDBLogs

                self.logs = DuckDBLogs.from_frame(data)
        else:
            from ..io.sources import resolve_sources
            from .duckdb_engine import DuckDBLogs

            source = resolve_sources(data)
            self.engine = "duckdb"
            if engine not in (None, "duckdb"):
                raise InputError("log files are always reduced with the duckdb engine")
            self.logs = DuckDBLogs(source, deterministic=deterministic)
            self.label = source.label
            self.format = source.format + (".gz" if source.compressed else "")
            self.files = [str(f) for f in source.files]

    @property
    def description(self) -> dict[str, Any]:
        """The report's ``input`` section."""
        return {"label": self.label, "format": self.format, "files": self.files,
                "engine": self.engine}

    def columns(self) -> list[str]:
        if self.frame is not None:
            return [str(c) for c in self.frame.columns]
        return self.logs.columns()  # type: ignore[union-attr]

    def sample(self, n: int = 10000):
        if self.frame is not None:
            return self.frame.head(n)
        return self.logs.sample(n)  # type: ignore[union-attr]

    def reduce(self, plan: Any):
        """The A/B reduction of ``plan`` (an :class:`abkit.engine.plan.Plan`)."""
        if self.logs is not None:
            return self.logs.reduce(plan)
        from .pandas_engine import reduce_frame

        return reduce_frame(self.frame, plan)
