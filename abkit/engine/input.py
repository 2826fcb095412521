"""An opened input for the engines: log files or an in-memory source, behind one interface.

:class:`LogInput` is the *source* an :class:`abkit.engine.base.Engine` reduces; it offers
the pipeline ``columns()``, ``sample(n)`` and ``reduce(plan)``, each delegated to its
engine. Log files are reduced with DuckDB unless ``engine="spark"`` is asked for. So are
in-memory sources (:mod:`abkit.engine.duckdb_frames`): a pandas DataFrame (through Arrow;
``engine="pandas"`` or ``"spark"`` may be asked for), an Arrow table or stream, a polars
DataFrame, a DuckDB relation and an :func:`abkit.sql` query (DuckDB only). A pyspark
DataFrame is always reduced on Spark (``spark`` is then set).
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .base import ENGINES as _REGISTRY
from .base import Engine, get_engine

__all__ = ["ENGINES", "LogInput", "in_memory_kind", "is_frame", "is_spark_frame"]

#: the engine names (the registry is :data:`abkit.engine.base.ENGINES`)
ENGINES = tuple(_REGISTRY)


def is_spark_frame(data: Any) -> bool:
    """Whether ``data`` is a pyspark DataFrame (checked without importing pyspark)."""
    mod = type(data).__module__
    return mod.startswith("pyspark.sql") and type(data).__name__ == "DataFrame"


def is_frame(data: Any) -> bool:
    """Whether ``data`` is a pandas DataFrame (checked without importing pandas)."""
    mod = type(data).__module__
    return mod.startswith("pandas") and type(data).__name__ == "DataFrame"


#: in-memory kinds other than pandas -> the report's ``input.format``
_FORMATS = {"arrow": "arrow", "arrow_stream": "arrow", "polars": "polars",
            "relation": "duckdb_relation", "sql": "sql"}


def in_memory_kind(data: Any) -> str | None:
    """``"pandas"``, ``"arrow"``, ``"arrow_stream"``, ``"polars"``, ``"relation"`` or
    ``"sql"`` for a source the DuckDB engine reads from memory, else None (checked by type
    name: pandas, pyarrow and polars are not imported)."""
    t = type(data)
    if t.__module__.startswith(("abkit", "pandas", "pyarrow", "polars", "duckdb", "_duckdb")):
        from .duckdb_frames import frame_kind

        return frame_kind(data)
    return None


class LogInput:
    """Log files or an in-memory source opened for reduction (``logs`` or ``spark`` is
    set, or only ``frame`` for the pandas engine; ``frame`` is the pandas DataFrame when
    the source is one)."""

    def __init__(self, data: Any, engine: str | None = None,
                 deterministic: bool | None = None, *, memory_limit: str | None = None,
                 delimiter: str | None = None, decimal: str | None = None) -> None:
        if engine is not None and engine not in ENGINES:
            raise InputError(f"unknown engine {engine!r}",
                             f"use one of: {', '.join(repr(e) for e in ENGINES)}")
        self.frame = None
        self.logs = None
        self.spark = None
        self.files: list[str] = []
        kind = in_memory_kind(data)
        if is_spark_frame(data):
            from .spark_logs import SparkLogs

            if engine not in (None, "spark"):
                raise InputError(f"a Spark DataFrame is reduced on Spark, not {engine}",
                                 "drop engine=, or pass engine='spark'")
            self.engine = "spark"
            self.spark = SparkLogs.from_spark(data)
            self.label = "Spark DataFrame"
            self.format = "spark"
        elif kind is not None:
            self.engine = engine or "duckdb"
            if kind == "pandas":
                self.frame = data
                self.format = "dataframe"
            elif self.engine != "duckdb":
                raise InputError(
                    f"{type(data).__name__}: this in-memory source is reduced with the "
                    f"duckdb engine, not {engine}",
                    "drop engine= (DuckDB reads it without a copy); for the pandas or "
                    "spark engine pass a pandas DataFrame (.to_pandas() / .df())")
            else:
                self.format = _FORMATS[kind]
            self.label = "DataFrame"
            if self.engine == "duckdb":
                from .duckdb_frames import open_frame

                self.logs = open_frame(data, deterministic=deterministic,
                                       memory_limit=memory_limit)
                self.label = self.logs.label
            elif self.engine == "spark":
                from .spark_logs import SparkLogs

                self.spark = SparkLogs.from_pandas(data)
        elif engine == "spark":
            from .spark_files import open_files

            self.engine = "spark"
            self.spark, source = open_files(data)
            self.label = self.spark.label
            self.format = source.format + (".gz" if source.compressed else "")
            self.files = list(self.spark.files)  # URLs as given
        else:
            from ..io.sources import resolve_sources
            from .duckdb_engine import DuckDBLogs

            source = resolve_sources(data, delimiter=delimiter, decimal=decimal)
            self.engine = "duckdb"
            if engine not in (None, "duckdb"):
                raise InputError(f"log files are reduced with the duckdb or spark engine, "
                                 f"not {engine}", "drop engine=, or pass engine='spark'")
            self.logs = DuckDBLogs(source, deterministic=deterministic,
                                   memory_limit=memory_limit)
            self.label = source.label
            self.format = source.format + (".gz" if source.compressed else "")
            self.files = list(source.names)  # s3:// URLs for staged copies
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
