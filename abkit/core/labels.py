"""Variant labels the spec declares against the labels the data hold: one check, for every
strategy, that turns a label typo into a usage error (exit 2), never a verdict.

Two cases are refused (:class:`~abkit.errors.InputError`):

* a label the spec names (control, treatment, candidate, blue, green, live, a split key)
  has no usable rows;
* most rows (more than :data:`MOSTLY` of those read) carry a label the spec does not name.

The message names the declared labels, the labels seen with their row counts, and the
closest match (case-insensitive first, then :func:`difflib.get_close_matches`).

Layer 0: this module imports nothing from abkit except :mod:`abkit.errors`.
"""

from __future__ import annotations

import difflib
from typing import Mapping

from ..errors import InputError

__all__ = ["MOSTLY", "check_labels", "closest_label"]

#: the share of rows read with undeclared labels above which the data are refused
MOSTLY = 0.5

#: at most this many labels are listed in a message (the most frequent first)
_LISTED = 8


def closest_label(name: str, candidates: list[str]) -> str | None:
    """The candidate ``name`` was most likely meant to be, or None."""
    folded = [c for c in candidates if c.casefold() == name.casefold()]
    if folded:
        return folded[0]
    near = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if near:
        return near[0]
    near = difflib.get_close_matches(name.casefold(), [c.casefold() for c in candidates], n=1,
                                     cutoff=0.6)
    return next((c for c in candidates if near and c.casefold() == near[0]), None)


def _counts(counts: Mapping[str, int]) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k!r} {n:,}" for k, n in items[:_LISTED])
    more = len(items) - _LISTED
    return shown + (f" and {more:,} more" if more > 0 else "") if items else "none"


def check_labels(where: str, declared: Mapping[str, str], used: Mapping[str, int],
                 unknown: Mapping[str, int], rows_read: int) -> None:
    """Refuse a label typo, before any test runs.

    ``declared`` maps each spec key to the label it names (``{"experiment.control":
    "baseline", ...}``), ``used`` the usable rows per label, ``unknown`` the rows per label
    the spec does not name (``unknown_variant`` rejections), ``rows_read`` every row.
    """
    if not declared or rows_read == 0:
        return
    if not any(used.values()) and not unknown:
        return  # every row was rejected for another reason: check_rows says which
    seen = {k: n for k, n in used.items() if n > 0}
    for k, n in unknown.items():
        seen[str(k)] = seen.get(str(k), 0) + n
    names = ", ".join(f"{key} = {label!r}" for key, label in declared.items())
    missing = [(key, label) for key, label in declared.items() if not used.get(label)]
    if missing:
        key, label = missing[0]
        match = closest_label(label, [s for s in seen if s not in declared.values()])
        mean = f"; did you mean {match!r}?" if match else ""
        fix = (f"write {key} = {match!r} in the spec, or fix the labels in the data" if match
               else f"check {key} in the spec against the labels seen; if that variant "
               "really got no traffic, the assignment is broken and there is nothing to "
               "compare; if its rows were all rejected, see the rejection reasons")
        raise InputError(
            f"{where}: the spec's {key} label {label!r} has no usable rows{mean} "
            f"(declared: {names}; labels seen: {_counts(seen)})", fix)
    n_unknown = sum(unknown.values())
    if n_unknown > MOSTLY * rows_read:
        top = max(unknown.items(), key=lambda kv: (kv[1], kv[0]))[0]
        match = closest_label(str(top), list(declared.values()))
        mean = f" ({top!r} looks like {match!r})" if match else ""
        raise InputError(
            f"{where}: {n_unknown:,} of {rows_read:,} rows carry a label the spec does not "
            f"declare{mean} (declared: {names}; labels seen: {_counts(seen)})",
            "declare the variants' labels as the data write them (or filter the log to this "
            "experiment's rows)")
