"""The one column check: every column a spec names must be in the logs, with one hint
format that lists the columns present (and spots a wrong delimiter)."""

from __future__ import annotations

from typing import Iterable, Sequence

from ..errors import InputError

__all__ = ["CAPTURE_RESERVED", "columns_hint", "metric_columns", "require_columns"]

#: names a SageMaker capture's features cannot take: the columns the capture reader gives
#: each record, and those the pairing gives each pair (a feature of that name would
#: overwrite them, or be taken for them)
CAPTURE_RESERVED = frozenset({
    "endpoint", "variant", "event_id", "inference_id", "request_id", "inference_time",
    "file", "line", "output", "output_label",
    "time", "time_shadow", "output_live", "output_shadow", "label", "input_mismatch",
    "output_label_live", "output_label_shadow",
})


def columns_hint(cols: Sequence[str]) -> str:
    """``columns present: a, b, ...``, plus a note when one column name holds a delimiter."""
    shown = ", ".join(cols[:30]) + (" ..." if len(cols) > 30 else "")
    hint = f"columns present: {shown}"
    if len(cols) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes"), (",", "commas")):
            if sep in cols[0]:
                shown_sep = "\\t" if sep == "\t" else sep
                hint += (f" (one column whose name contains {name}: the file seems to use "
                         f"another delimiter; pass --delimiter '{shown_sep}')")
                break
    return hint


def metric_columns(metrics: Iterable, *, all_inputs: bool = True
                   ) -> list[tuple[str, str, str | None]]:
    """The ``(what, spec key, column)`` entries of the metrics' columns for
    :func:`require_columns`: every input column (``all_inputs``: ratio parts, covariates) or
    only each metric's ``column``."""
    return [(f"column of metric {m.name!r}", f"metric {m.name!r}", c)
            for m in metrics for c in (m.columns if all_inputs else (m.column,))]


def require_columns(label: str, cols: Sequence[str],
                    wanted: Iterable[tuple[str, str, str | None]], fix: str = "") -> None:
    """Raise :class:`InputError` for the first ``(what, spec key, column)`` not in ``cols``.

    ``fix`` follows the spec key in the hint (for example ``" (or the CLI option)"``).
    """
    cols = [str(c) for c in cols]
    if not cols:
        raise InputError(f"{label} has no columns (is it empty?)",
                         "check that the file has a header line and data")
    have = set(cols)
    for what, key, col in wanted:
        if col is not None and col not in have:
            raise InputError(f"{label}: no {what} {col!r}",
                             columns_hint(cols) + f"; fix {key} in the spec{fix}")
