"""An opened input for the engines: a pandas DataFrame or log files, behind one interface.

:class:`LogInput` is the *source* an :class:`abkit.engine.base.Engine` reduces; it offers
the pipeline ``columns()``, ``sample(n)`` and ``reduce(plan)``, each delegated to its
engine. Log files are always reduced with DuckDB; a DataFrame with pandas unless
``engine="duckdb"`` is asked for.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .base import ENGINES as _REGISTRY
from .base import Engine, get_engine

__all__ = ["ENGINES", "LogInput", "is_frame"]

#: the engine names (the registry is :data:`abkit.engine.base.ENGINES`)
ENGINES = tuple(_REGISTRY)


def is_frame(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (checked without importing pandas)."""
    mod = type(data).__module__
    return mod.startswith("pandas") and type(data).__name__ == "DataFrame"


class LogInput:
    """A DataFrame or log files opened for reduction (``frame`` or ``logs`` is set)."""

    def __init__(self, data: Any, engine: str | None = None,
                 deterministic: bool | None = None) -> None:
        if engine is not None and engine not in ENGINES:
            raise InputError(f"unknown engine {engine!r}",
                             f"use one of: {', '.join(repr(e) for e in ENGINES)}")
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
        self.reducer: Engine = get_engine(self.engine)

    @property
    def description(self) -> dict[str, Any]:
        """The report's ``input`` section."""
        return {"label": self.label, "format": self.format, "files": self.files,
                "engine": self.engine}

    def columns(self) -> list[str]:
        return self.reducer.columns(self)

    def sample(self, n: int = 10000):
        return self.reducer.sample(self, n)

    def reduce(self, plan: Any):
        """The reduction of ``plan`` (an A/B, rollout or rows plan) by this input's engine."""
        return self.reducer.reduce(self, plan)
