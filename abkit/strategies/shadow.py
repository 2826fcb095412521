"""``strategy = "shadow"``: the candidate answers copies of live requests; compare matched
pairs (quality, latency, errors, bias) and watch drift.

Generic logs (``input_format = "log"``: one log with a variant column, or two logs, live
then candidate, and an optional labels file) are reduced by the engines: a pairs plan
(:class:`abkit.engine.pairs.PairsPlan`, the pairing join in SQL on DuckDB and Spark). A
SageMaker capture tree is reduced by a capture plan (:class:`abkit.engine.capture
.CapturePlan`: the lines decided and the records paired in DuckDB; pandas is the reference),
which :func:`abkit.shadow.load.load_shadow` runs on the chosen engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.verdict import Verdict
from ..errors import InputError, RejectedRowsError
from ..spec import ExperimentSpec
from .base import Overrides, ReaderResult, Strategy

__all__ = ["ShadowInput", "ShadowPlan", "ShadowStrategy"]

#: the overrides a generic log's reduction applies, besides ``accepts``
_ENGINE_OPTIONS = frozenset({"engine", "deterministic", "memory_limit", "delimiter", "decimal"})
#: columns the pairing never carries as features (as abkit.io.pairing.pair_shadow)
_BOOKKEEPING = frozenset({
    "endpoint", "variant", "event_id", "inference_id", "request_id", "inference_time",
    "file", "line", "output", "output_label", "label",
})


@dataclass
class ShadowInput:
    """The raw input and the options; a generic log is opened by :meth:`ShadowStrategy.plan`
    (which knows the spec) into ``logs`` (and the plan's other inputs)."""

    data: Any
    overrides: Overrides = field(default_factory=Overrides)
    label: str = ""
    logs: Any = None


@dataclass(frozen=True)
class ShadowPlan:
    """The spec and either the pairs plan of generic logs or the capture plan of a capture
    tree, with the engine that reduces it."""

    spec: ExperimentSpec
    pairs: Any = None
    description: dict = field(default_factory=dict)
    capture: Any = None
    engine: str = "duckdb"


def _missing(cols: list[str], need: list[str], label: str, side: str) -> None:
    missing = [c for c in need if c not in cols]
    if missing:
        raise InputError(f"{label}: the {side} rows have no column(s) {', '.join(missing)}",
                         f"columns present: {', '.join(map(str, cols[:30]))}; fix the spec")


class ShadowStrategy(Strategy):
    names = ("shadow",)
    accepts = frozenset({"variant_column", "on_rejected"})

    def accepted(self, spec: ExperimentSpec) -> frozenset[str]:
        # a capture tree is split by its variant folders, not by a column, and read by
        # the capture readers (an engine, no CSV options); generic logs take the engine
        # options of every engine reduction
        if spec.shadow is not None and spec.shadow.input_format == "sagemaker-capture":
            return (self.accepts - {"variant_column"}) | {"engine"}
        return self.accepts | _ENGINE_OPTIONS

    def open(self, data: Any, overrides: Overrides) -> ShadowInput:
        return ShadowInput(data, overrides)

    def _open(self, data: Any, o: Overrides, engine: str | None = None) -> Any:
        from ..engine.input import LogInput

        return LogInput(data, engine or o.engine, o.deterministic,
                        memory_limit=o.memory_limit, delimiter=o.delimiter, decimal=o.decimal)

    def plan(self, spec: ExperimentSpec, source: ShadowInput) -> ShadowPlan:
        """A capture tree: the spec. Generic logs: the inputs opened, their columns checked,
        and the pairs plan."""
        from ..engine.input import is_frame, is_spark_frame
        from ..engine.pairs import PairsPlan

        sh = spec.shadow
        assert sh is not None
        if sh.input_format == "sagemaker-capture":
            return self._capture_plan(spec, source.overrides.engine)
        data, o = source.data, source.overrides
        two = isinstance(data, (list, tuple)) and len(data) == 2 and not any(
            is_frame(x) or is_spark_frame(x) for x in data)
        items = [str(x) for x in data] if isinstance(data, (list, tuple)) else (
            [str(data)] if not (is_frame(data) or is_spark_frame(data)) else [])
        live = self._open(items[0] if two else data, o)
        cand = self._open(items[1], o) if two else None
        label = f"{items[0]} + {items[1]}" if two else live.label
        source.logs, source.label = live, label
        carry = tuple(c for c in (sh.latency_column, sh.error_column) if c)
        need = [sh.id_column, sh.score_column, *carry] + (
            [sh.timestamp_column] if sh.timestamp_column else [])
        cols = live.columns()
        if cand is None:
            for col, hint in ((spec.variant_column, "pass variant_column= naming the variant "
                               "tag column"),
                              (sh.id_column, "pass id_column= naming the request id column")):
                if col not in cols:
                    raise InputError(f"the log frame has no column {col!r} (columns: "
                                     f"{', '.join(map(str, cols[:12]))})", hint)
        _missing(cols, need, label, "live")
        _missing(cand.columns() if cand is not None else cols, need, label, "candidate")
        labels = None
        label_column = sh.label_column
        if sh.labels:
            lp = sh.path(sh.labels)
            # a labels file is read by the log's engine (DuckDB when the log is a DataFrame)
            labels = self._open(str(lp), o.__class__(**{**o.given(), "engine": None}),
                                "spark" if live.engine == "spark" else None)
            label_column = sh.label_column or "label"
            lcols = labels.columns()
            if sh.id_column not in lcols or label_column not in lcols:
                raise InputError(f"{lp}: the labels file needs columns {sh.id_column!r} and "
                                 f"{label_column!r}")
        elif sh.label_column and sh.label_column not in cols:
            raise InputError(f"{label}: no label column {sh.label_column!r}")
        skip = _BOOKKEEPING | {sh.id_column, sh.score_column, *carry} | (
            {sh.timestamp_column} if sh.timestamp_column else set()) | (
            {sh.label_column} if sh.label_column else set())
        wanted = list(sh.features) + ([sh.group] if sh.group else [])
        columns = tuple(c for c in dict.fromkeys(wanted) if c in cols and c not in skip)
        pairs = PairsPlan(
            id_column=sh.id_column, output_column=sh.score_column, live=sh.live,
            candidate=sh.candidate, variant_column=None if two else spec.variant_column,
            candidate_input=cand, labels_input=labels, label_id_column=sh.id_column,
            label_column=label_column, binary_labels=sh.output_kind == "probability",
            carry=carry, timestamp_column=sh.timestamp_column, columns=columns, where=label)
        description = {"label": label, "format": "log", "files": items[:1000],
                       "engine": live.engine}
        return ShadowPlan(spec, pairs, description)

    @staticmethod
    def _capture_plan(spec: ExperimentSpec, engine: str | None) -> ShadowPlan:
        from ..engine.capture import CAPTURE_ENGINES, CapturePlan

        sh = spec.shadow
        assert sh is not None
        engine = engine or "duckdb"
        if engine not in CAPTURE_ENGINES:
            from ..engine.base import ENGINES, get_engine

            if engine not in ENGINES:
                get_engine(engine)  # the usage error of an unknown engine
            raise InputError(f"a SageMaker capture tree cannot be read with engine "
                             f"{engine!r}", f"use one of: {', '.join(CAPTURE_ENGINES)} "
                             "(DuckDB, the default, reads it on one machine)")
        plan = CapturePlan(
            live=sh.live, candidate=sh.candidate, features=tuple(sh.features) or None,
            output_field=sh.output_field,
            output_range=(0.0, 1.0) if sh.output_kind == "probability" else None,
            labels=sh.path(sh.labels) if sh.labels else None,
            label_kind="binary" if sh.output_kind == "probability" else "numeric")
        return ShadowPlan(spec, capture=plan, engine=engine)

    def reduce(self, source: ShadowInput, plan: ShadowPlan) -> ReaderResult:
        if plan.capture is not None:
            from ..shadow.load import load_shadow

            return ReaderResult(*load_shadow(source.data, plan.spec, plan.capture,
                                             plan.engine))
        from ..shadow.load import pairs_inputs

        reduced = source.logs.reduce(plan.pairs)
        return ReaderResult(*pairs_inputs(plan.spec, reduced), dict(plan.description))

    def check(self, spec: ExperimentSpec, source: Any, reduced: ReaderResult) -> None:
        d, label = reduced.data, reduced.label
        if d["rows_read"] == 0:
            raise InputError(f"{label}: no records", "check the path")
        if d["pairs"] == 0:
            top = ", ".join(f"{k}: {v}" for k, v in sorted(d["rows_rejected"].items()))
            raise InputError(f"{label}: no live record could be matched with a "
                             f"candidate record ({top})",
                             "check live / candidate (variant names) and the id column")
        if spec.on_rejected == "fail" and d["rows_rejected"]:
            raise RejectedRowsError(
                f"{label}: {sum(d['rows_rejected'].values())} records "
                "rejected and on_rejected = 'fail'", "fix the input or drop --fail-on-rejected")

    def test(self, spec: ExperimentSpec, source: Any, plan: ShadowPlan,
             reduced: ReaderResult) -> tuple:
        from ..shadow.evaluate import evaluate_shadow

        return (*evaluate_shadow(spec, reduced.payload), reduced.data["pairs"])

    def decide(self, spec: ExperimentSpec, results: tuple) -> Verdict:
        decision, reasons, checks, _, pairs = results
        return Verdict(decision, tuple(reasons), tuple(c.to_row(spec, pairs) for c in checks))

    def report(self, spec: ExperimentSpec, source: Any, reduced: ReaderResult,
               results: tuple, verdict: Verdict, notes: list[str]):
        from ..report.shadow import ShadowReport

        section = results[3]
        d = reduced.data
        warnings = list(section["notes"])
        rej = sum(d["rows_rejected"].values())
        if d["rows_read"] and rej / d["rows_read"] > 0.05:
            warnings.insert(0, f"{rej / d['rows_read']:.1%} of records were rejected or "
                            "unmatched; check the reasons before trusting the result")
        return ShadowReport(spec, verdict, section, d, reduced.description,
                            warnings)
