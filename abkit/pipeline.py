"""``abkit.analyze``: the one orchestration every strategy runs through.

resolve the spec and every override -> open the source -> plan -> reduce with the chosen
engine -> check the rows -> test -> decide -> report. The strategy (see
:mod:`abkit.strategies.base`) supplies each step; nothing here branches on the strategy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .core.columns import columns_hint
from .core.verdict import promote_only_if_safe
from .errors import InputError
from .io.s3 import url_errors
from .spec import ExperimentSpec, load_spec
from .strategies.base import Overrides, get_strategy

if TYPE_CHECKING:  # pragma: no cover
    from .engine.plan import Reduced
    from .report.model import Report

__all__ = ["analyze", "reduce_logs"]


def _inferred(source: Any, overrides: Overrides) -> tuple[ExperimentSpec, list[str]]:
    """Without a spec: what abkit can safely infer from the columns and a sample."""
    from .infer import infer_spec

    cols = source.columns()
    if not cols:
        raise InputError(f"{source.label} has no columns (is it empty?)",
                         "check that the file has a header line and data")
    vcol = overrides.variant_column or "variant"
    if vcol not in cols:
        raise InputError(
            f"{source.label}: no variant column {vcol!r}",
            columns_hint(cols) + "; pass --variant-col (or variant_column=) or write a spec",
        )
    sample = source.sample()
    if len(sample) == 0:
        raise InputError(f"{source.label} has no data rows", "check the file is not empty")
    sp, notes = infer_spec(cols, sample, variant_column=overrides.variant_column,
                           unit_column=overrides.unit_column, control=overrides.control,
                           split=overrides.split)
    if overrides.on_rejected is not None:
        sp = sp.with_(on_rejected=overrides.on_rejected)
    return sp, notes


@url_errors()
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
    split: Mapping[str, float] | None = None,
    endpoint_config: str | Path | None = None,
    memory_limit: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> Report:
    """Analyse an experiment's logs and decide go / no-go / inconclusive.

    Parameters
    ----------
    data : path, list of paths, glob, folder or pandas.DataFrame
        The logs. Files are CSV, TSV, Parquet or JSON Lines (optionally gzip-compressed), or
        a SageMaker Data Capture tree (shadow).
    spec : path, dict or ExperimentSpec, optional
        The experiment spec (TOML or YAML file). Without one, abkit infers an A/B analysis
        from the numeric columns and says what it inferred; such an analysis is never ``go``.
    variant_column, unit_column, control : str, optional
        Override (or, without a spec, provide) the spec's values. A strategy that has no use
        for one refuses it (:class:`~abkit.errors.InputError`, exit 2) rather than ignoring it.
    on_rejected : {"continue", "fail"}, optional
        ``fail`` raises :class:`~abkit.errors.RejectedRowsError` if any row was rejected.
    engine : {"duckdb", "pandas", "spark"}, optional
        Files use DuckDB unless ``"spark"`` is asked for (``pip install "abkit[spark]"``;
        Spark also reads ``s3a://``/``hdfs://`` URLs); a pandas DataFrame uses pandas unless
        ``"duckdb"`` or ``"spark"`` is asked for. A pyspark DataFrame (``data``) is always
        reduced on Spark, in its own session. Shadow logs are read by their own reader.
    deterministic : bool, optional
        Reduce files on one thread so that the output is byte-identical run after run
        (default). ``False`` uses every core; parallel floating-point sums then vary in the
        last bits (~1e-15 relative) between runs. Default: on, unless the environment sets
        ``ABKIT_DETERMINISTIC=0``.
    split : mapping, optional
        The designed split of an A/B test (variant -> share), for the sample ratio check;
        overrides the spec's. Without a spec, and without ``split`` or ``endpoint_config``,
        the split is unknown and no SRM verdict is given.
    endpoint_config : path, optional
        A SageMaker ``describe-endpoint-config`` JSON; its production variants' weights
        give ``split``.
    memory_limit : str, optional
        DuckDB's memory limit (``"4GB"``; default 2GB or ``ABKIT_DUCKDB_MEMORY_LIMIT``).
    delimiter, decimal : str, optional
        CSV/TSV options: the field separator (one character, e.g. ``";"``) and the decimal
        mark (``","`` reads ``1,5`` as 1.5; it needs a delimiter other than ``,``).

    Returns
    -------
    Report
        ``.decision``, ``.reasons`` and ``.to_dict()`` (the JSON document), for every
        strategy; A/B reports also have ``.comparisons``.
    """
    if endpoint_config is not None:
        from .io.endpoint_config import read_endpoint_config

        if split is not None:
            raise InputError("give the designed split once: split or endpoint_config, not "
                             "both", "drop --split or --endpoint-config")
        cfg = read_endpoint_config(endpoint_config)
        if cfg.intended_split is None:
            raise InputError(f"{endpoint_config}: every production variant has weight 0, so "
                             "the designed split is undefined", "pass --split instead")
        split = dict(cfg.intended_split)
    overrides = Overrides(variant_column, unit_column, control, on_rejected, engine,
                          deterministic, dict(split) if split is not None else None,
                          memory_limit, delimiter, decimal)
    if spec is None:
        strategy = get_strategy("ab")
        source = strategy.open(data, overrides)
        sp, notes = _inferred(source, overrides)
    else:
        sp0 = load_spec(spec)
        strategy = get_strategy(sp0.strategy)
        overrides = overrides.with_spec_csv(sp0)
        sp = strategy.resolve(sp0, overrides)
        notes = []
        source = strategy.open(data, overrides)
    plan = strategy.plan(sp, source)
    reduced = strategy.reduce(source, plan)
    strategy.check(sp, source, reduced)
    results = strategy.test(sp, source, plan, reduced)
    verdict = promote_only_if_safe(strategy.decide(sp, results))
    return strategy.report(sp, source, reduced, results, verdict, notes)


def reduce_logs(data: Any, spec: Any, engine: str | None = None,
                deterministic: bool | None = None) -> Reduced:
    """Only the open + plan + reduce stages of an A/B spec (for tests and benchmarks)."""
    sp = load_spec(spec)
    strategy = get_strategy("ab")
    source = strategy.open(data, Overrides(engine=engine, deterministic=deterministic))
    return strategy.reduce(source, strategy.plan(sp, source))
