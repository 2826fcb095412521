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

from .errors import AbkitError, ExitCode

FORMATS = ("text", "json", "markdown", "html")

EXIT_CODES_HELP = """\b
Exit codes:
  0  GO (gate) / analysis ran (report)
  1  NO-GO: SRM failed, a guardrail regressed or a primary metric is worse (gate only)
  2  bad usage, spec or input data
  3  INCONCLUSIVE: keep collecting (gate only; see --inconclusive-exit-code)
  4  internal error (a bug: please report it)"""


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
        click.option("--fail-on-rejected", is_flag=True,
                     help="Treat any rejected input row as an error (exit 2)."),
        click.option("--deterministic/--parallel", "deterministic", default=None,
                     help="--deterministic (default): reduce on one thread, byte-identical "
                          "output run after run. --parallel: use every core; numbers may "
                          "then differ in the last bits between runs."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _run_analysis(logs, spec, variant_col, unit_col, control, fail_on_rejected,
                  deterministic):
    from .pipeline import analyze

    return analyze(
        list(logs), spec, variant_column=variant_col, unit_column=unit_col, control=control,
        on_rejected="fail" if fail_on_rejected else None,
        deterministic=deterministic,
    )


def _emit(report: Any, fmt: str, output: str | None) -> None:
    text = {"json": report.to_json, "markdown": report.to_markdown,
            "text": report.to_text, "html": report.to_html}[fmt]()
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as e:
            raise AbkitError(f"cannot write {output}: {e.strerror}",
                             "check that the folder exists and is writable") from None
        click.echo(f"abkit: {report.decision.upper()} — wrote {fmt} report to {output}", err=True)
    else:
        click.echo(text, nl=False)


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
def report(logs, spec, fmt, output, variant_col, unit_col, control, fail_on_rejected,
           deterministic) -> int:
    """Analyse LOGS (files, folders or globs) and print the report.

    Exits 0 whenever the analysis ran, whatever the verdict; use `abkit gate` to exit by
    verdict.
    """
    rep = _run_analysis(logs, spec, variant_col, unit_col, control, fail_on_rejected,
                        deterministic)
    _emit(rep, fmt, output)
    return ExitCode.GO


@cli.command(epilog=EXIT_CODES_HELP)
@_common_options
@click.option("--inconclusive-exit-code", type=click.IntRange(0, 3), default=3,
              show_default=True,
              help="Exit code for INCONCLUSIVE (0 to let it pass, 1 to fail it, e.g. for "
                   "callers that read only success or failure).")
@click.option("--step-summary/--no-step-summary", default=True, show_default=True,
              help="Append a Markdown summary to $GITHUB_STEP_SUMMARY when it is set.")
def gate(logs, spec, fmt, output, variant_col, unit_col, control, fail_on_rejected,
         deterministic, inconclusive_exit_code, step_summary) -> int:
    """Analyse LOGS and exit by verdict: 0 GO, 1 NO-GO, 3 INCONCLUSIVE."""
    rep = _run_analysis(logs, spec, variant_col, unit_col, control, fail_on_rejected,
                        deterministic)
    _emit(rep, fmt, output)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(rep.to_markdown() + "\n")
    if fmt == "json" or output:
        click.echo(f"abkit gate: {rep.decision.upper()}", err=True)
    return {"go": ExitCode.GO, "no-go": ExitCode.NO_GO}.get(
        rep.decision, inconclusive_exit_code
    )


@cli.command("validate-spec", epilog="Exit codes: 0 valid, 2 invalid or unreadable spec, "
                                     "4 internal error.")
@click.argument("spec", type=click.Path())
def validate_spec(spec) -> int:
    """Check a spec file and print what it describes (exit 0 valid, 2 invalid)."""
    from .spec import load_spec

    sp = load_spec(spec)
    click.echo(f"{spec}: valid {sp.strategy} spec, {len(sp.metrics)} metrics "
               f"({', '.join(f'{m.name} [{m.role}]' for m in sp.metrics)})")
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
    try:
        write_log(df, output)
    except (ValueError, OSError) as e:
        raise AbkitError(f"cannot write {output}: {e}",
                         "use a .csv, .tsv, .parquet or .jsonl name (optionally + .gz) in an "
                         "existing folder") from None
    click.echo(f"wrote {len(df):,} rows to {output}", err=True)
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
