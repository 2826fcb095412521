"""The :class:`Strategy` interface and the one registry of strategies.

:func:`abkit.pipeline.analyze` runs every strategy the same way::

    source  = strategy.open(data, overrides)
    plan    = strategy.plan(spec, source)
    reduced = strategy.reduce(source, plan)
    strategy.check(spec, source, reduced)          # the accounting's hard stops
    results = strategy.test(spec, source, plan, reduced)
    verdict = strategy.decide(spec, results)
    report  = strategy.report(spec, source, reduced, results, verdict, notes)

A new strategy subclasses :class:`Strategy`, sets ``names`` and ``accepts``, and adds one
line to :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from ..core.accounting import check_rows
from ..core.labels import check_labels
from ..errors import InputError

__all__ = ["OPTION_NAMES", "Overrides", "REGISTRY", "RawInput", "ReaderResult", "ReaderStrategy",
           "Strategy",
           "get_strategy"]

#: How each override is spelled on the command line (for messages).
OPTION_NAMES = {
    "variant_column": "--variant-col / variant_column=",
    "unit_column": "--unit-col / unit_column=",
    "control": "--control / control=",
    "on_rejected": "--fail-on-rejected / on_rejected=",
    "engine": "engine=",
    "deterministic": "--deterministic / --parallel / deterministic=",
    "split": "--split / --endpoint-config / split= / endpoint_config=",
    "memory_limit": "--memory-limit / memory_limit=",
    "delimiter": "--delimiter / delimiter=",
    "decimal": "--decimal / decimal=",
}


@dataclass(frozen=True)
class Overrides:
    """Every ``analyze`` keyword (and CLI option) that changes a run; None = not given."""

    variant_column: str | None = None
    unit_column: str | None = None
    control: str | None = None
    on_rejected: str | None = None
    engine: str | None = None
    deterministic: bool | None = None
    split: Any = None  # a mapping of variant -> designed share
    memory_limit: str | None = None  # DuckDB's memory limit ("4GB")
    delimiter: str | None = None  # CSV field separator
    decimal: str | None = None  # CSV decimal mark ("." or ",")

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def with_spec_csv(self, spec: Any) -> Overrides:
        """The spec's ``experiment.delimiter`` / ``experiment.decimal`` where no option
        gave them (the command line wins)."""
        return replace(self, delimiter=self.delimiter or spec.delimiter,
                       decimal=self.decimal or spec.decimal)

    def spec_changes(self) -> dict[str, Any]:
        """The overrides that are spec keys (applied with ``spec.with_``)."""
        keys = ("variant_column", "unit_column", "control", "on_rejected", "split")
        return {k: v for k, v in self.given().items() if k in keys}


@dataclass
class RawInput:
    """An input that a strategy's own reader opens (a capture tree, logs or a DataFrame);
    ``label`` is set once the reader has named it."""

    data: Any
    label: str = ""


@dataclass
class ReaderResult:
    """What a strategy's own reader reduced the input to: ``payload`` for its tests, the
    report's ``data`` section (the accounting) and its ``input`` section."""

    payload: Any
    data: dict[str, Any]
    description: dict[str, Any]

    @property
    def label(self) -> str:
        return self.description["label"]

    @property
    def rows_read(self) -> int:
        return self.data["rows_read"]

    @property
    def rows_used(self) -> int:
        return self.data["rows_used"]

    @property
    def rejected(self) -> dict[str, int]:
        return self.data["rows_rejected"]


class Strategy(ABC):
    """One rollout strategy. Subclasses set ``names`` (spec ``strategy`` values) and
    ``accepts`` (the :class:`Overrides` fields they apply; others are refused, exit 2)."""

    names: ClassVar[tuple[str, ...]] = ()
    accepts: ClassVar[frozenset[str]] = frozenset()
    #: what to check when every row was rejected (the end of check_rows' hint)
    check_hint: ClassVar[str] = "the spec's column names"

    def accepted(self, spec: Any) -> frozenset[str]:
        """The overrides this strategy applies for ``spec`` (default: ``accepts``)."""
        return self.accepts

    def refuse_overrides(self, spec: Any, overrides: Overrides) -> None:
        """Exit 2 for any override this strategy would otherwise silently ignore."""
        accepted = self.accepted(spec)
        for name, value in overrides.given().items():
            if name not in accepted:
                raise InputError(
                    f"{OPTION_NAMES[name]} {value!r} does not apply to a {spec.strategy} "
                    "analysis",
                    "drop the option, or set the corresponding key in the spec "
                    f"(see the README's {spec.strategy} section)",
                )

    def resolve(self, spec: Any, overrides: Overrides) -> Any:
        """The spec with the accepted spec-key overrides applied."""
        self.refuse_overrides(spec, overrides)
        changes = overrides.spec_changes()
        return spec.with_(**changes) if changes else spec

    def open(self, data: Any, overrides: Overrides) -> Any:
        """The opened input (default: a DataFrame or log files for the engines)."""
        from ..engine.input import LogInput

        return LogInput(data, overrides.engine, overrides.deterministic,
                        memory_limit=overrides.memory_limit, delimiter=overrides.delimiter,
                        decimal=overrides.decimal)

    @abstractmethod
    def plan(self, spec: Any, source: Any) -> Any:
        """What to reduce: data, not SQL (also checks the columns the spec names)."""

    def reduce(self, source: Any, plan: Any) -> Any:
        """The reduced statistics and the row accounting (default: the source's engine)."""
        return source.reduce(plan)

    def labels(self, spec: Any) -> dict[str, str]:
        """The variant labels the spec names, by spec key (default: ``experiment.control``
        and the split's keys)."""
        out = {"experiment.control": spec.control} if spec.control is not None else {}
        for k in spec.split or {}:
            if k != spec.control:
                out[f"experiment.split.{k}"] = k
        return out

    def label_rows(self, reduced: Any) -> dict[str, int]:
        """The usable rows per variant label (default: ``reduced.units``)."""
        return dict(reduced.units)

    def check(self, spec: Any, source: Any, reduced: Any) -> None:
        """The accounting's hard stops: a label typo (a declared label without rows, or most
        rows with undeclared labels), no rows, all rows rejected, on_rejected = fail."""
        check_labels(source.label, self.labels(spec), self.label_rows(reduced),
                     reduced.unknown_variants, reduced.rows_read)
        check_rows(source.label, reduced.rows_read, reduced.rows_used, reduced.rejected,
                   spec.on_rejected, self.check_hint, getattr(reduced, "examples", None))

    @abstractmethod
    def test(self, spec: Any, source: Any, plan: Any, reduced: Any) -> Any:
        """Reduced statistics -> test results."""

    @abstractmethod
    def decide(self, spec: Any, results: Any) -> Any:
        """Test results -> the verdict (decision and reasons)."""

    @abstractmethod
    def report(self, spec: Any, source: Any, reduced: Any, results: Any, verdict: Any,
               notes: list[str]) -> Any:
        """The report: the shared sections plus this strategy's own."""


class ReaderStrategy(Strategy):
    """A strategy whose own reader opens and reduces the input (shadow, blue/green): the
    source is the raw input and the plan is the spec itself."""

    def open(self, data: Any, overrides: Overrides) -> RawInput:
        return RawInput(data)

    def plan(self, spec: Any, source: Any) -> Any:
        return spec


#: spec ``strategy`` value -> "module:class" (imported on first use, to keep imports light)
REGISTRY: dict[str, str] = {
    "ab": "abkit.strategies.ab:ABStrategy",
    "canary": "abkit.strategies.rollout:RolloutStrategy",
    "linear": "abkit.strategies.rollout:RolloutStrategy",
    "shadow": "abkit.strategies.shadow:ShadowStrategy",
    "bluegreen": "abkit.strategies.bluegreen:BlueGreenStrategy",
}


def get_strategy(name: str) -> Strategy:
    """The registered strategy for a spec's ``strategy`` value."""
    try:
        target = REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown strategy {name!r}",
                         f"use one of: {', '.join(REGISTRY)}") from None
    mod, cls = target.split(":")
    return getattr(importlib.import_module(mod), cls)()
