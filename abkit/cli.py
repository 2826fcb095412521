"""Command line: a thin layer over the library. ``main(argv) -> int`` is testable in-process.

Exit codes (``abkit.ExitCode``): 0 go / analysis ran, 1 no-go (gate only), 2 bad usage, spec
or input, 3 inconclusive (gate only; remappable), 4 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from .core.sanitize import plain
from .fmt import plural
from .errors import AbkitError, ExitCode
from .cli_outputs import (append_step_summary, check_output_first, emit, parse_split,
                          step_summary_path, step_summary_text)

FORMATS = ("text", "json", "markdown", "html")

EXIT_CODES_HELP = """\b
Exit codes:
  0  GO (gate) / analysis ran (report)
  1  NO-GO: SRM failed, a guardrail regressed or a primary metric is worse (gate only)
  2  bad usage, spec or input data
  3  INCONCLUSIVE: keep collecting (gate only; see --inconclusive-exit-code)
  4  internal error (a bug: please report it)"""


def _keep_in_meta(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """--engine, --spark-master and the like are kept in the context for
    :func:`_run_analysis`."""
    ctx.meta[f"abkit.{param.name}"] = value
    return value


def _common_options(f: Callable) -> Callable:
    opts = [
        click.argument("logs", nargs=-1, required=True, type=click.Path()),
        click.option("--spec", "spec", type=click.Path(), default=None,
                     help="Experiment spec (.toml, .yaml). Without it abkit infers what it "
                          "safely can and says so."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
                     show_default=True, help="Output format (html: one self-contained page; use with -o)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                     help="Write the output to this file instead of stdout."),
        click.option("--variant-col", default=None, help="Variant column (overrides the spec)."),
        click.option("--unit-col", default=None, help="Randomization unit column."),
        click.option("--control", default=None, help="Control variant name."),
        click.option("--split", "split", default=None, metavar="A=0.8,B=0.2",
                     help="The designed split (A/B), for the sample ratio check; overrides the "
                          "spec's. Without a spec and without --split or --endpoint-config "
                          "the split is unknown and no SRM verdict is given."),
        click.option("--endpoint-config", "endpoint_config", type=click.Path(), default=None,
                     help="A SageMaker describe-endpoint-config JSON: its production "
                          "variants' weights are the designed split (A/B)."),
        click.option("--fail-on-rejected", is_flag=True,
                     help="Treat any rejected input row as an error (exit 2)."),
        click.option("--deterministic/--parallel", "deterministic", default=None,
                     help="--deterministic (default): byte-identical output run after run "
                          "(each query on one DuckDB thread; a large A/B log still uses every "
                          "core, in hash passes added in a fixed order). --parallel: every "
                          "query on all threads; numbers may then differ in the last bits."),
        click.option("--engine", type=click.Choice(["duckdb", "pandas", "spark"]),
                     default=None, expose_value=False, callback=_keep_in_meta,
                     help="The engine that reduces the logs: duckdb (default) or spark "
                          "(pip install \"abkit[spark]\"); pandas reads DataFrames, and a "
                          "SageMaker capture tree with the reference reader."),
        click.option("--memory-limit", default=None, metavar="SIZE", expose_value=False,
                     callback=_keep_in_meta,
                     help="DuckDB's memory limit (default 2GB, or $ABKIT_DUCKDB_MEMORY_LIMIT), "
                          "e.g. 4GB; beyond it DuckDB spills to a temporary folder and the A/B "
                          "reduction runs in several passes."),
        click.option("--delimiter", default=None, metavar="CHAR", expose_value=False,
                     callback=_keep_in_meta,
                     help="CSV field separator, one character (default , for .csv, tab for "
                          ".tsv), e.g. ';'."),
        click.option("--decimal", type=click.Choice([".", ","]), default=None,
                     expose_value=False, callback=_keep_in_meta,
                     help="Decimal mark of CSV numbers (',' reads 1,5 as 1.5; needs another "
                          "--delimiter)."),
        click.option("--progress/--no-progress", "progress", default=None, expose_value=False,
                     callback=_keep_in_meta,
                     help="Show the progress of scans longer than 2 s on stderr (default: "
                          "when stderr is a terminal, or $ABKIT_PROGRESS=1 / 0)."),
        click.option("--spark-master", default=None, metavar="URL", expose_value=False,
                     callback=_keep_in_meta,
                     help="The Spark master with --engine spark (default: local[*], or "
                          "$ABKIT_SPARK_MASTER); an active Spark session is used as it is."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f



def _run_analysis(logs, spec, variant_col, unit_col, control, fail_on_rejected,
                  deterministic, split=None, endpoint_config=None):
    from .pipeline import analyze

    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    engine = meta.get("abkit.engine")
    master = meta.get("abkit.spark_master")
    if master is not None:
        if engine != "spark":
            raise AbkitError("--spark-master is used only with --engine spark",
                             "add --engine spark, or drop --spark-master")
        from .engine.spark_logs import set_master

        set_master(master)
    from .engine.progress import progress_setting

    with progress_setting(meta.get("abkit.progress")):
        return analyze(
            list(logs), spec, variant_column=variant_col, unit_column=unit_col,
            control=control,
            on_rejected="fail" if fail_on_rejected else None, engine=engine,
            memory_limit=meta.get("abkit.memory_limit"), delimiter=meta.get("abkit.delimiter"),
            decimal=meta.get("abkit.decimal"),
            deterministic=deterministic, split=parse_split(split) if split else None,
            endpoint_config=endpoint_config,
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="abkit", prog_name="abkit")
def cli() -> None:
    """abkit: statistical go / no-go decisions for model rollouts.

    \b
    abkit report LOGS --spec SPEC   analyse and print a report (exit 0 if it ran)
    abkit gate   LOGS --spec SPEC   the same, exiting by verdict (0 go, 1 no-go, 3 inconclusive)
    abkit simulate ab -o FILE       write seeded sample logs
    abkit validate-spec SPEC        check a spec file
    """


@cli.command(epilog=EXIT_CODES_HELP)
@_common_options
def report(logs, spec, fmt, output, variant_col, unit_col, control, split,
           endpoint_config, fail_on_rejected, deterministic) -> int:
    """Analyse LOGS (files, folders or globs) and print the report.

    Exits 0 whenever the analysis ran, whatever the verdict; use `abkit gate` to exit by
    verdict.
    """
    check_output_first(output, logs, spec, endpoint_config)
    rep = _run_analysis(logs, spec, variant_col, unit_col, control, fail_on_rejected,
                        deterministic, split, endpoint_config)
    emit(rep, fmt, output)
    return ExitCode.GO


@cli.command(epilog=EXIT_CODES_HELP)
@_common_options
@click.option("--inconclusive-exit-code", type=click.Choice(["0", "1", "3"]), default="3",
              show_default=True,
              help="Exit code for INCONCLUSIVE (0 to let it pass, 1 to fail it, e.g. for "
                   "callers that read only success or failure). 2 is not offered: it means "
                   "a usage or input error.")
@click.option("--step-summary/--no-step-summary", default=True, show_default=True,
              help="Append a Markdown summary to $GITHUB_STEP_SUMMARY when it is set.")
def gate(logs, spec, fmt, output, variant_col, unit_col, control, split, endpoint_config,
         fail_on_rejected, deterministic, inconclusive_exit_code, step_summary) -> int:
    """Analyse LOGS and exit by verdict: 0 GO, 1 NO-GO, 3 INCONCLUSIVE."""
    check_output_first(output, logs, spec, endpoint_config)
    summary = step_summary_path(step_summary)
    rep = _run_analysis(logs, spec, variant_col, unit_col, control, fail_on_rejected,
                        deterministic, split, endpoint_config)
    summary_text = step_summary_text(rep, summary)
    emit(rep, fmt, output)
    append_step_summary(summary, summary_text)
    if fmt == "json" or output:
        click.echo(f"abkit gate: {rep.decision.upper()}", err=True)
    return {"go": ExitCode.GO, "no-go": ExitCode.NO_GO}.get(
        rep.decision, int(inconclusive_exit_code)
    )


@cli.command("validate-spec", epilog="Exit codes: 0 valid, 2 invalid or unreadable spec, "
                                     "4 internal error.")
@click.argument("spec", type=click.Path())
def validate_spec(spec) -> int:
    """Check a spec file and print what it describes (exit 0 valid, 2 invalid)."""
    from .spec import load_spec

    sp = load_spec(spec)
    click.echo(plain(f"{spec}: valid {sp.strategy} spec, {plural(len(sp.metrics), 'metric')} "
                     f"({', '.join(f'{m.name} [{m.role}]' for m in sp.metrics)})"))
    return ExitCode.GO


@cli.group()
def simulate() -> None:
    """Write seeded synthetic logs (the sample data in data/ comes from here)."""


@simulate.command("ab", epilog="Exit codes: 0 written, 2 bad usage (e.g. unknown extension), "
                                "4 internal error.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Output file; the format follows the extension (.csv, .parquet, .jsonl, "
                   "optionally .gz).")
@click.option("--users", type=click.IntRange(min=10), default=20000, show_default=True)
@click.option("--per-request", is_flag=True, help="One row per request instead of per user.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--scenario", type=click.Choice(["win", "null", "latency-regression", "srm"]),
              default="win", show_default=True)
def simulate_ab(output, users, per_request, seed, scenario) -> int:
    """A/B log: conversion, revenue (with pre-period revenue), clicks/sessions, latency."""
    from .datasets import make_ab_log, write_log

    df = make_ab_log(n_users=users, seed=seed, per_request=per_request, scenario=scenario)
    from .core.outputs import atomic_path

    try:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(output) as tmp:  # a crash leaves no half-written log
            write_log(df, tmp)
    except (ValueError, OSError) as e:
        raise AbkitError(f"cannot write {output}: {e}",
                         "use a .csv, .tsv, .parquet or .jsonl name (optionally + .gz) in an "
                         "existing folder") from None
    click.echo(f"wrote {len(df):,} rows to {plain(output)}", err=True)
    return ExitCode.GO


@cli.command("init", epilog="Exit codes: 0 written, 2 unusable logs or options, 4 internal "
                             "error.")
@click.argument("logs", nargs=-1, required=True, type=click.Path())
@click.option("--strategy", type=click.Choice(["ab", "canary", "linear", "bluegreen"]),
              default="ab", show_default=True)
@click.option("--variant-col", default=None, help="Variant column (default: detected).")
@click.option("--unit-col", default=None, help="Unit column (default: detected).")
@click.option("--timestamp-col", default=None, help="Timestamp column (default: detected).")
@click.option("--control", default=None, help="Control label (default: detected).")
@click.option("--endpoint-config", type=click.Path(), default=None,
              help="SageMaker describe-endpoint-config JSON: its weights become the split.")
@click.option("--schedule", "schedule", default=None,
              help="Canary/linear: a CodeDeploy configuration name, or a JSON file holding a "
                   "SageMaker TrafficRoutingConfiguration (or a deployment config).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the spec here (refused if the file exists); default stdout.")
def init(logs, strategy, variant_col, unit_col, timestamp_col, control, endpoint_config,
         schedule, output) -> int:
    """Write a commented starter spec for LOGS, to edit: columns, labels, shares and one
    metric per numeric column. Good directions and margins are left as "FILL IN" blanks,
    which `abkit validate-spec` reports until they are filled in."""
    import json

    from .engine.input import LogInput
    from .init_spec import starter_spec

    if output:
        check_output_first(output, logs, None, endpoint_config)
        if os.path.exists(output):
            raise AbkitError(f"{output} exists; abkit init does not overwrite a spec",
                             "give a new file name, or delete the old one first")
    sched: Any = schedule
    if schedule and os.path.isfile(schedule):
        try:
            sched = json.loads(Path(schedule).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AbkitError(f"--schedule {schedule}: not a JSON file ({e})") from None
    text = starter_spec(LogInput(list(logs)), strategy=strategy, variant_column=variant_col,
                        unit_column=unit_col, timestamp_column=timestamp_col, control=control,
                        endpoint_config=endpoint_config, schedule=sched)
    if output:
        from .core.outputs import write_text_atomic

        write_text_atomic(output, text)
        click.echo(f"abkit: wrote a starter spec to {plain(output)}; fill in its blanks, "
                   f"then run abkit validate-spec {plain(output)}", err=True)
    else:
        click.echo(plain(text).replace("\\n", "\n"), nl=False)
    return ExitCode.GO


@cli.command(epilog="Exit codes: 0 stopped, 2 bad config, 4 internal error. Needs "
                     '`pip install "abkit[serve]"`.')
@click.argument("config", type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8686, show_default=True)
def serve(config, host, port) -> int:
    """Serve the gates of CONFIG over HTTP for rollout controllers.

    GET /v1/report/NAME: the report JSON, always 200 (Argo Rollouts' web provider);
    GET or POST /v1/gate/NAME: 200 GO, 409 NO-GO, 425 INCONCLUSIVE (Flagger webhooks);
    GET /healthz. CONFIG is a TOML file of [[gates]] tables (name, spec, logs).
    """
    from .serve import load_config, run

    load_config(config)  # a bad config is exit 2 before the server starts
    click.echo(f"abkit: serving {plain(str(config))} on http://{host}:{port}", err=True)
    run(config, host=host, port=port)
    return ExitCode.GO


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for user errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rc = cli.main(args=args, prog_name="abkit", standalone_mode=False)
    except AbkitError as e:
        click.echo(f"abkit: error: {e}", err=True)
        return int(e.exit_code)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.message = plain(e.message)
        e.show()
        return int(ExitCode.USAGE)
    except click.exceptions.Abort:
        click.echo("abkit: aborted", err=True)
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        return 130
    except Exception:
        click.echo("abkit: internal error (a bug in abkit; please report it with this "
                   "traceback)", err=True)
        traceback.print_exc()
        return int(ExitCode.INTERNAL)
    return int(rc) if isinstance(rc, int) else int(ExitCode.GO)


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
