"""The CLI's input checks and output writing: ``--split`` parsing, the output and
step-summary checks made before any work, and the writes (atomic, never over an input; see
:mod:`abkit.core.outputs`)."""

from __future__ import annotations

import os
from typing import Any, Sequence

import click

from .core.sanitize import plain
from .errors import AbkitError

__all__ = ["append_step_summary", "check_output_first", "emit", "parse_split",
           "step_summary_path", "step_summary_text", "warn"]


def parse_split(text: str) -> dict[str, float]:
    """``"A=0.8,B=0.2"`` -> ``{"A": 0.8, "B": 0.2}`` (exit 2 naming the bad part)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, eq, share = part.partition("=")
        name = name.strip()
        try:
            value = float(share)
        except ValueError:
            value = float("nan")
        if not eq or not name or not value == value:
            raise AbkitError(f"--split {text!r}: {part.strip()!r} is not VARIANT=SHARE",
                             "write e.g. --split control=0.8,treatment=0.2")
        if name in out:
            raise AbkitError(f"--split {text!r}: variant {name!r} is given twice")
        out[name] = value
    total = sum(out.values())
    if len(out) < 2 or any(v < 0 for v in out.values()) or abs(total - 1.0) > 1e-9:
        raise AbkitError(f"--split {text!r}: give two or more non-negative shares summing to "
                         f"1 (they sum to {total:g})",
                         "write e.g. --split control=0.8,treatment=0.2")
    return out


def warn(message: str) -> None:
    click.echo(f"abkit: warning: {plain(message)}", err=True)


def check_output_first(output: str | None, logs: Sequence[str], spec: str | None,
                        endpoint_config: str | None = None) -> None:
    """Before any work: refuse an output that is a log file (named, or a member of a folder
    or glob named) or the spec file, or that cannot be written. (Files the spec names are
    checked against the report's inputs before anything is written.)"""
    if not output:
        return
    from .core.outputs import check_output, expand_inputs, writable_problem

    named = [("log file", p) for p in expand_inputs(logs)]
    if spec and os.path.isfile(spec):
        named.append(("spec file", spec))
    if endpoint_config and os.path.isfile(endpoint_config):
        named.append(("endpoint config", endpoint_config))
    check_output(output, named)
    problem = writable_problem(output)
    if problem:
        raise AbkitError(f"cannot write {output}: {problem}",
                         "check that the folder exists and is writable")


def emit(report: Any, fmt: str, output: str | None) -> None:
    render = {"json": report.to_json, "markdown": report.to_markdown,
              "text": report.to_text, "html": report.to_html}[fmt]
    if output:
        from .core.outputs import check_output, write_text_atomic

        check_output(output, report.input_paths())
        text = render()
        try:
            write_text_atomic(output, text)
        except OSError as e:
            raise AbkitError(f"cannot write {output}: {e.strerror or e}",
                             "check that the folder exists and is writable") from None
        click.echo(f"abkit: {report.decision.upper()} — wrote {fmt} report to {plain(output)}",
                   err=True)
    else:
        click.echo(render(), nl=False)


def step_summary_path(enabled: bool) -> str | None:
    """``$GITHUB_STEP_SUMMARY`` if it is set, wanted and writable (checked before the
    analysis; a problem is a warning, never an error)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not (enabled and path):
        return None
    from .core.outputs import writable_problem

    problem = writable_problem(path)
    if problem:
        warn(f"not writing the step summary ($GITHUB_STEP_SUMMARY={path}): {problem}")
        return None
    return path


def step_summary_text(rep: Any, path: str | None) -> str | None:
    """The Markdown to append, or ``None`` (with a warning) if ``path`` is an input."""
    if path is None:
        return None
    from .core.outputs import check_output

    try:
        check_output(path, rep.input_paths(), option="$GITHUB_STEP_SUMMARY")
    except AbkitError as e:
        warn(f"not writing the step summary: {e.message}")
        return None
    return rep.to_markdown() + "\n"


def append_step_summary(path: str | None, text: str | None) -> None:
    """Append the summary; after the verdict is out a failure is only a warning."""
    if path is None or text is None:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except (OSError, UnicodeError) as e:
        warn(f"could not write the step summary ($GITHUB_STEP_SUMMARY={path}): "
              f"{getattr(e, 'strerror', None) or e}; the verdict and exit code stand")
