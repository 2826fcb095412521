"""The engine interface and the one registry of engines.

An engine turns an opened source (:class:`abkit.engine.input.LogInput`) and a plan into
reduced statistics. Only engines see rows. Every engine offers::

    columns(source) -> list[str]
    sample(source, n) -> pandas.DataFrame      (the first n rows, for spec inference)
    reduce(source, plan) -> the plan's reduction

``reduce`` dispatches on ``plan.kind`` to one method per kind of plan:

==========  ==========================================  ======================================
kind        plan                                         reduction
==========  ==========================================  ======================================
``ab``      :class:`abkit.engine.plan.Plan`              :class:`abkit.engine.plan.Reduced`
``rollout`` :class:`abkit.engine.rollout_reduce.RolloutPlan`  :class:`~abkit.engine.rollout_reduce.Reduction`
``rows``    :class:`abkit.engine.rows.RowsPlan`          :class:`abkit.engine.rows.TimeCells`
``pairs``   :class:`abkit.engine.pairs.PairsPlan`        :class:`abkit.engine.pairs.PairsReduction`
``capture`` :class:`abkit.engine.capture.CapturePlan`    :class:`abkit.engine.capture.CaptureReduction`
==========  ==========================================  ======================================

A ``capture`` plan reads a SageMaker Data Capture tree (its source is the tree's folder);
DuckDB and pandas compile it, Spark does not (a usage error, refused by the strategy).

Rows are classified by the one classifier (:class:`abkit.engine.rules.RowRules`), which
each engine compiles (pandas: :mod:`abkit.engine.classify`, SQL:
:mod:`abkit.engine.duckdb_classify`, Spark column expressions:
:mod:`abkit.engine.spark_classify`).

==========  ==========================================================================
engine      sources
==========  ==========================================================================
``duckdb``  log files and in-memory sources (the default): pandas, Arrow, polars, DuckDB
            relations, :func:`abkit.sql` queries (:mod:`abkit.engine.duckdb_frames`)
``pandas``  a pandas DataFrame, when asked
``spark``   a pyspark DataFrame (always), files or a pandas DataFrame when asked
            (``pip install "abkit[spark]"``; :mod:`abkit.engine.spark_engine`)
==========  ==========================================================================

A new engine subclasses :class:`Engine`, implements the four ``reduce_*`` methods, and
adds one line to :data:`ENGINES`; ``tests/engine/test_conformance*.py`` then run every plan
of every strategy on it and require the same reductions as DuckDB.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..errors import InputError

__all__ = ["ENGINES", "Engine", "get_engine"]


class Engine(ABC):
    name: ClassVar[str] = ""

    @abstractmethod
    def columns(self, source: Any) -> list[str]:
        """The source's column names."""

    @abstractmethod
    def sample(self, source: Any, n: int = 10000) -> Any:
        """The first ``n`` rows as a pandas DataFrame."""

    def reduce(self, source: Any, plan: Any) -> Any:
        """The reduction of ``plan`` over every row of ``source``."""
        method = getattr(self, f"reduce_{plan.kind}", None)
        if method is None:  # pragma: no cover - a plan kind without an implementation
            raise NotImplementedError(f"the {self.name} engine cannot reduce a "
                                      f"{plan.kind!r} plan")
        return method(source, plan)

    @abstractmethod
    def reduce_ab(self, source: Any, plan: Any) -> Any:
        """Per-variant (per-unit) moments of an A/B plan."""

    @abstractmethod
    def reduce_rollout(self, source: Any, plan: Any) -> Any:
        """Per-(look, step, variant) cells of a rollout plan."""

    @abstractmethod
    def reduce_rows(self, source: Any, plan: Any) -> Any:
        """The used rows' columns, as arrays."""


#: engine name -> "module:class" (imported on first use, to keep imports light)
ENGINES: dict[str, str] = {
    "duckdb": "abkit.engine.engines:DuckDBEngine",
    "pandas": "abkit.engine.engines:PandasEngine",
    "spark": "abkit.engine.spark_engine:SparkEngine",
}


def get_engine(name: str) -> Engine:
    try:
        target = ENGINES[name]
    except KeyError:
        raise InputError(f"unknown engine {name!r}",
                         f"use one of: {', '.join(ENGINES)}") from None
    mod, cls = target.split(":")
    return getattr(importlib.import_module(mod), cls)()
