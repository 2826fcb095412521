"""``abkit.analyze``: read, validate and account, reduce, test, decide, in that order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .core.accounting import check_rows
from .core.columns import columns_hint, require_columns
from .engine.plan import Plan, Reduced, build_plan
from .errors import InputError, RejectedRowsError
from .gates.ab import decide_ab
from .infer import infer_spec, pick_control
from .spec import SEQUENTIAL_STRATEGIES, ExperimentSpec, load_spec

if TYPE_CHECKING:  # pragma: no cover
    from .report.model import Report

__all__ = ["analyze", "reduce_logs"]


def _is_frame(data: Any) -> bool:
    mod = type(data).__module__
    return mod.startswith("pandas") and type(data).__name__ == "DataFrame"


class _Input:
    """A DataFrame or log files, with the column checks in one place."""

    def __init__(self, data: Any, engine: str | None, deterministic: bool | None = None) -> None:
        self.frame = None
        self.logs = None
        if _is_frame(data):
            self.frame = data
            self.label = "DataFrame"
            self.format = "dataframe"
            self.files: list[str] = []
            self.engine = engine or "pandas"
            if self.engine == "duckdb":
                from .engine.duckdb_engine import DuckDBLogs

                self.logs = DuckDBLogs.from_frame(data)
            elif self.engine != "pandas":
                raise InputError(f"unknown engine {engine!r}", "use 'duckdb' or 'pandas'")
        else:
            from .engine.duckdb_engine import DuckDBLogs
            from .io.sources import resolve_sources

            source = resolve_sources(data)
            self.engine = "duckdb"
            if engine not in (None, "duckdb"):
                raise InputError("log files are always reduced with the duckdb engine")
            self.logs = DuckDBLogs(source, deterministic=deterministic)
            self.label = source.label
            self.format = source.format + (".gz" if source.compressed else "")
            self.files = [str(f) for f in source.files]

    def columns(self) -> list[str]:
        if self.frame is not None:
            return [str(c) for c in self.frame.columns]
        return self.logs.columns()  # type: ignore[union-attr]

    def sample(self):
        if self.frame is not None:
            return self.frame.head(10000)
        return self.logs.sample()  # type: ignore[union-attr]

    def check_columns(self, spec: ExperimentSpec) -> None:
        wanted = [("variant column", "experiment.variant_column", spec.variant_column)]
        if spec.unit_column:
            wanted.append(("unit column", "experiment.unit_column", spec.unit_column))
        for m in spec.metrics:
            for c in m.columns:
                wanted.append((f"column of metric {m.name!r}", f"metric {m.name!r}", c))
        require_columns(self.label, self.columns(), wanted, " (or the CLI option)")

    def reduce(self, plan: Plan) -> Reduced:
        if self.logs is not None:
            return self.logs.reduce(plan)
        from .engine.pandas_engine import reduce_frame

        return reduce_frame(self.frame, plan)


def reduce_logs(data: Any, spec: Any, engine: str | None = None,
                deterministic: bool | None = None) -> Reduced:
    """Only the read + account + reduce stages (for tests, benchmarks and other strategies)."""
    sp = load_spec(spec)
    inp = _Input(data, engine, deterministic)
    inp.check_columns(sp)
    return inp.reduce(build_plan(sp))


def analyze(
    data: Any,
    spec: str | Path | Mapping[str, Any] | ExperimentSpec | None = None,
    *,
    variant_column: str | None = None,
    unit_column: str | None = None,
    control: str | None = None,
    on_rejected: str | None = None,
    engine: str | None = None,
    deterministic: bool | None = None,
) -> Report:
    """Analyse an experiment's logs and decide go / no-go / inconclusive.

    Parameters
    ----------
    data : path, list of paths, glob, folder or pandas.DataFrame
        The logs. Files are CSV, TSV, Parquet or JSON Lines (optionally gzip-compressed).
    spec : path, dict or ExperimentSpec, optional
        The experiment spec (TOML or YAML file). Without one, abkit infers the metrics from
        the numeric columns and says what it inferred; such an analysis is never ``go``.
    variant_column, unit_column, control : str, optional
        Override (or, without a spec, provide) the spec's values.
    on_rejected : {"continue", "fail"}, optional
        ``fail`` raises :class:`~abkit.errors.RejectedRowsError` if any row was rejected.
    engine : {"duckdb", "pandas"}, optional
        Files always use DuckDB; a DataFrame uses pandas unless ``"duckdb"`` is asked for.
    deterministic : bool, optional
        Reduce files on one thread so that the output is byte-identical run after run
        (default). ``False`` uses every core; parallel floating-point sums then vary in the
        last bits (~1e-15 relative) between runs. Default: on, unless the environment sets
        ``ABKIT_DETERMINISTIC=0``.

    Returns
    -------
    Report
        ``.decision``, ``.reasons``, ``.comparisons`` and ``.to_dict()`` (the JSON document).
    """
    from .report.model import Report

    if spec is not None:
        sp0 = load_spec(spec)
        if sp0.strategy == "shadow":
            from .shadow import analyze_shadow

            if on_rejected is not None:
                sp0 = sp0.with_(on_rejected=on_rejected)
            return analyze_shadow(data, sp0)
        if sp0.strategy == "bluegreen":
            from .bluegreen_run import run_bluegreen

            if on_rejected is not None:
                sp0 = sp0.with_(on_rejected=on_rejected)
            return run_bluegreen(data, sp0)
    inp = _Input(data, engine, deterministic)
    notes: list[str] = []
    if spec is None:
        cols = inp.columns()
        if not cols:
            raise InputError(f"{inp.label} has no columns (is it empty?)",
                             "check that the file has a header line and data")
        vcol = variant_column or "variant"
        if vcol not in cols:
            raise InputError(
                f"{inp.label}: no variant column {vcol!r}",
                columns_hint(cols) + "; pass --variant-col (or variant_column=) or write a "
                "spec",
            )
        sample = inp.sample()
        if len(sample) == 0:
            raise InputError(f"{inp.label} has no data rows", "check the file is not empty")
        sp, notes = infer_spec(
            cols, sample, variant_column=variant_column,
            unit_column=unit_column, control=control,
        )
    else:
        sp = load_spec(spec)
        overrides = {
            k: v
            for k, v in (("variant_column", variant_column), ("unit_column", unit_column),
                         ("control", control), ("on_rejected", on_rejected))
            if v is not None
        }
        if overrides:
            sp = sp.with_(**overrides)
    if on_rejected is not None and spec is None:
        sp = sp.with_(on_rejected=on_rejected)

    if sp.strategy in SEQUENTIAL_STRATEGIES:
        from .rollout.replay import replay

        return replay(inp, sp, notes)
    inp.check_columns(sp)
    plan = build_plan(sp)
    reduced = inp.reduce(plan)

    check_rows(inp.label, reduced.rows_read, reduced.rows_used, reduced.rejected,
               sp.on_rejected, "the spec's column names, split and granularity")

    warnings = _data_warnings(sp, reduced)
    observed = sorted(v for v, n in reduced.units.items() if n > 0)
    design = list(sp.split) if sp.split is not None else observed
    if len(observed) < 2:
        raise InputError(
            f"{inp.label}: only one variant has data ({', '.join(observed)})",
            "an A/B analysis needs the control and at least one treatment",
        )
    ctrl, note = pick_control(observed if sp.split is None else design, sp.control, inp.label)
    if ctrl not in observed:
        raise InputError(
            f"{inp.label}: the control variant {ctrl!r} has no usable rows",
            f"variants with data: {', '.join(observed)}",
        )
    if note:
        notes.append(note)
    variants = [ctrl] + [v for v in design if v != ctrl]
    decision = decide_ab(sp, reduced, plan, variants)
    return Report(
        spec=sp,
        inferred=notes,
        source={"label": inp.label, "format": inp.format, "files": inp.files,
                "engine": inp.engine},
        reduced=reduced,
        control=ctrl,
        variants=variants,
        outcome=decision,
        warnings=warnings,
    )


def _data_warnings(sp: ExperimentSpec, red: Reduced) -> list[str]:
    """Data-quality findings worth a person's attention (they do not change the decision)."""
    out: list[str] = []
    rejected = sum(red.rejected.values())
    if red.rows_read and rejected / red.rows_read > 0.05:
        out.append(
            f"{rejected / red.rows_read:.1%} of rows were rejected; check the reasons before "
            "trusting the result"
        )
    dup = red.rejected.get("duplicate_unit", 0)
    if dup and sp.granularity == "unit":
        out.append(
            f"{dup} rows share a unit id with another row; if the log has one row per request, "
            'set granularity = "request" in the spec'
        )
    if sp.split is None and red.units:
        top = max(red.units.values())
        for v, n in sorted(red.units.items()):
            if n < 0.01 * top:
                out.append(
                    f"variant {v!r} has only {n} units (under 1% of the largest arm); if it is "
                    "a typo or a test variant, declare the real variants with split in the spec"
                )
    multi = red.rejected.get("unit_in_multiple_variants", 0)
    if multi:
        out.append(
            f"{multi} rows belong to units seen in more than one variant (assignment leak); "
            "they were excluded"
        )
    return out
