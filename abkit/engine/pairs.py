"""A plan for the shadow pairing join: live and candidate answers of the same requests, joined
on the request id, with the labels attached; only the per-pair arrays the methods read come
back to Python.

:class:`PairsPlan` -> :class:`PairsReduction`. The pandas compilation is
:func:`reduce_frame_pairs` (in memory, the reference: every input read as text, or the
DataFrame as given, split by :func:`abkit.io.split_log.split_generic` and paired by
:func:`abkit.io.pairing.pair_shadow`), the DuckDB one
:func:`abkit.engine.duckdb_pairs.reduce_pairs` (the join in SQL), the Spark one
:func:`abkit.engine.spark_pairs.reduce_pairs`. Every engine gives the same accounting (every
row used in a pair or rejected with a named reason, one example per reason) and the same
arrays, in the same order: the live rows' (file order; the order of the Python
reference, so the statistics that resample pairs give today's numbers).

The row rules, in order (the same as :func:`~abkit.io.pairing.pair_shadow` and
:func:`~abkit.io.pairing.split_generic`): a one-log input is split by its variant column
(``missing_variant``, ``unknown_variant``); on each side, an empty id is
``missing_request_id``, an output that is not a number ``non_numeric_output``, a missing or
infinite one ``non_finite_output``; an id repeated among the remaining rows of either side
rejects every row with that id on both sides (``duplicate_request``); the rest pair by id or
are ``live_only`` / ``shadow_only``. Label rows: not a finite number (or not 0/1 for
probability outputs) ``bad_label``; an empty id ``missing_id``; the same id with different
labels ``conflicting_label`` (every such row); the same label again ``duplicate_label`` (the
first kept); no pair with that id ``labels_only``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..io.datacapture import Accounting
from ..stats.results import Diagnostic

__all__ = ["PairsPlan", "PairsReduction", "reduce_frame_pairs", "text_frame"]


@dataclass(frozen=True)
class PairsPlan:
    """What to pair (data, not SQL).

    Attributes
    ----------
    id_column, output_column
        The request id and the model's answer, on both sides.
    live, candidate
        The variant labels of a one-log input (``variant_column``), or names only when the
        candidate's rows come from ``candidate_input``.
    variant_column
        The column that tells live from candidate rows in a one-log input; ``None`` when
        the candidate's rows are a second input.
    candidate_input
        The candidate's rows (a :class:`~abkit.engine.input.LogInput`) when live and
        candidate were logged apart; ``None`` for one log.
    labels_input, label_id_column, label_column
        A labels file (a ``LogInput``) with its id and label columns; or, without a labels
        file, ``label_column`` names the label in the live rows (``None``: no labels).
    binary_labels
        Labels must be 0 or 1 (probability outputs); else any finite number.
    carry
        Numeric columns taken from both sides of each pair (latency, error flag).
    timestamp_column
        The live request time (ISO 8601 text), or ``None``.
    columns
        Columns taken, as text, from the live record of each pair (features, the bias group).
    where
        The input's name, for messages.
    """

    kind: ClassVar[str] = "pairs"
    id_column: str
    output_column: str
    live: str
    candidate: str
    variant_column: str | None = None
    candidate_input: Any = field(default=None, compare=False)
    labels_input: Any = field(default=None, compare=False)
    label_id_column: str | None = None
    label_column: str | None = None
    binary_labels: bool = True
    carry: tuple[str, ...] = ()
    timestamp_column: str | None = None
    columns: tuple[str, ...] = ()
    where: str = "log"

    @property
    def labels_from_log(self) -> bool:
        return self.labels_input is None and self.label_column is not None


@dataclass
class PairsReduction:
    """The pairs' arrays (in the live rows' order) and what happened to every row.

    ``rows_read = rows_used + sum(rejected)`` over every input (log rows and unparseable
    lines, label rows); ``rows_used`` counts both records of each pair and each attached
    label. ``by_side`` / ``labels`` are the pairing's own accounting (as
    :class:`abkit.io.pairing.Pairs` has it); ``pair_examples`` its examples.
    """

    rows_read: int
    rows_used: int
    rejected: dict[str, int]
    examples: dict[str, str]
    unmatched: dict[str, int]
    by_side: dict[str, Accounting]
    labels: Accounting | None
    pair_examples: dict[str, str]
    diagnostics: tuple[Diagnostic, ...]
    request_id: Any  # text per pair: a NumPy object array or a pandas text array
    output_live: np.ndarray
    output_shadow: np.ndarray
    label: np.ndarray
    time: np.ndarray | None = None  # the live record's time, as text
    #: or the time already read by the engine (``datetime64[us]``, UTC; NaT when absent)
    time_utc: np.ndarray | None = None
    carried: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)  # text, as request_id

    @property
    def n_pairs(self) -> int:
        return len(self.request_id)

    @property
    def n_labelled(self) -> int:
        return int(np.isfinite(self.label).sum())

    def check(self) -> None:
        if self.rows_used + sum(self.rejected.values()) != self.rows_read:  # pragma: no cover
            raise AssertionError(f"shadow accounting does not add up: read {self.rows_read}, "
                                 f"used {self.rows_used}, rejected "
                                 f"{sum(self.rejected.values())} ({self.rejected})")

    def pairs_info(self) -> dict[str, Any]:
        """The pairing's summary (the report's ``shadow.input``; as ``Pairs.to_dict``)."""
        from ..io.datacapture.accounting import _merge

        return {
            "pairs": self.n_pairs,
            "labelled_pairs": self.n_labelled,
            "unmatched": dict(self.unmatched),
            "examples": dict(sorted(self.pair_examples.items())),
            "input_mismatch": None,
            "features_compared": [],
            "records": _merge(self.by_side.values()).to_dict(),
            "by_side": {k: v.to_dict() for k, v in self.by_side.items()},
            "labels": self.labels.to_dict() if self.labels is not None else None,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    def frame(self) -> pd.DataFrame:
        """The pairs as the shadow statistics read them: ``request_id``, ``time`` (UTC,
        NaT when unparseable or absent), ``output_live``, ``output_shadow``, ``label`` (NaN
        when unlabelled), ``input_mismatch`` (False: generic logs are not compared), then
        ``<col>_live`` / ``<col>_shadow`` per carried column and the live columns."""
        n = self.n_pairs
        if self.time_utc is not None:
            t = pd.Series(self.time_utc).dt.tz_localize("UTC")
        elif self.time is not None:
            t = pd.to_datetime(pd.Series(self.time, dtype=object), utc=True,
                               errors="coerce", format="ISO8601")
        else:
            t = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us, UTC]")
        out: dict[str, Any] = {"request_id": self.request_id, "time": t.reset_index(drop=True),
                               "output_live": self.output_live,
                               "output_shadow": self.output_shadow, "label": self.label,
                               "input_mismatch": np.zeros(n, dtype=bool)}
        for c, (a, b) in self.carried.items():
            out[f"{c}_live"], out[f"{c}_shadow"] = a, b
        for c, v in self.columns.items():
            out.setdefault(c, v)
        return pd.DataFrame(out)


#: the two sides of a pair, in the order the engines number them (``_s`` = 0, 1)
SIDES = ("live", "shadow")
#: the per-side reasons, in the order the reference reports them (one example each)
SIDE_REASONS = ("missing_request_id", "non_numeric_output", "non_finite_output",
                "duplicate_request", "live_only", "shadow_only")


def side_example(reason: str, s: int, id_column: str, request_id: Any, output: Any) -> str:
    """What is wrong with a row of side ``s`` rejected for ``reason`` (the reference's words;
    ``output`` is the row's output text, None for NULL, which the reference reads as NaN)."""
    yt = "nan" if output is None else repr(output)
    return {"missing_request_id": f"empty {id_column!r}",
            "non_numeric_output": f"output {yt} is not a number",
            "non_finite_output": f"output {yt} is missing or not finite",
            "duplicate_request": f"request id {request_id!r} is not unique",
            f"{SIDES[s]}_only": f"request {request_id!r} has no {SIDES[1 - s]} record"}[reason]


def pair_diagnostics(n_pairs: int, labelled: bool, n_labelled: int) -> tuple[Diagnostic, ...]:
    """The pairing's diagnostics, as :func:`~abkit.io.pairing.pair_shadow` gives them for
    uncompared features."""
    diags = [Diagnostic("INPUT_NOT_COMPARED", "no features were named, so the live and shadow "
                        "inputs were not compared")]
    if n_pairs == 0:
        diags.append(Diagnostic("NO_PAIRS", "no request was answered by both live and shadow"))
    elif labelled and n_labelled == 0:
        diags.append(Diagnostic("NO_LABELLED_PAIRS", "no pair has a label"))
    return tuple(diags)


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        if v:
            into[k] = into.get(k, 0) + int(v)


def text_frame(inp: Any) -> tuple[pd.DataFrame, int, str]:
    """(rows, unparseable lines, an example of one) of an opened input: a DataFrame as it
    is, files through DuckDB with every column as text (JSON Lines: the lines that are
    objects; CSV: the lines the reader could not parse are counted)."""
    if inp.frame is not None:
        return inp.frame, 0, ""
    from .duckdb_engine import qi

    logs = inp.logs
    cols = logs.columns()
    sel = ", ".join(f"CAST({logs.text(c)} AS VARCHAR) AS {qi(c)}" for c in cols)
    jsonl = logs.source.format == "jsonl"
    logs.con.execute("SET preserve_insertion_order = true")  # the rows in file order
    try:
        frame = logs.run(f"SELECT {sel} FROM {logs.scan(store_rejects=True)} "
                         f"{'WHERE _ok' if jsonl else ''}").df()
    finally:
        logs.con.execute("SET preserve_insertion_order = false")
    bad = 0
    if jsonl:
        bad += int(logs.run(f"SELECT count(*) FROM {logs.scan()} WHERE NOT _ok").fetchone()[0])
    from .duckdb_pair_sql import reader_rejects

    n, example = reader_rejects(logs)  # counted once, whatever reads this input next
    return frame, bad + n, example


def _decimal_comma(inp: Any) -> bool:
    return inp.logs is not None and getattr(inp.logs.source, "decimal", ".") == ","


def _numbers_as_text(frame: pd.DataFrame, cols: list[str], comma: bool) -> pd.DataFrame:
    """``1,5`` -> ``1.5`` in the numeric columns of a ``--decimal ,`` log."""
    if not comma:
        return frame
    frame = frame.copy()
    for c in cols:
        if c in frame.columns:
            frame[c] = frame[c].map(lambda v: v.replace(",", ".") if isinstance(v, str) else v)
    return frame


def reduce_frame_pairs(source: Any, plan: PairsPlan) -> PairsReduction:
    """The pandas compilation of ``plan`` over ``source`` (and the plan's candidate and
    labels inputs)."""
    from ..io.pairing import pair_shadow, split_generic

    rejected: dict[str, int] = {}
    examples: dict[str, str] = {}
    numeric = [plan.output_column, *plan.carry]
    if plan.labels_from_log:
        numeric.append(plan.label_column)  # type: ignore[arg-type]
    frame, bad, ex = text_frame(source)
    frame = _numbers_as_text(frame, numeric, _decimal_comma(source))
    read = len(frame) + bad
    _merge(rejected, {"unparseable_line": bad})
    if plan.candidate_input is not None:
        shadow, s_bad, s_ex = text_frame(plan.candidate_input)
        shadow = _numbers_as_text(shadow, numeric, _decimal_comma(plan.candidate_input))
        live = frame
        read += len(shadow) + s_bad
        _merge(rejected, {"unparseable_line": s_bad})
        if ex or s_ex:
            examples["unparseable_line"] = ex or s_ex
    else:
        if ex:
            examples["unparseable_line"] = ex
        assert plan.variant_column is not None
        split = split_generic(frame, variant_column=plan.variant_column,
                              id_column=plan.id_column, live=plan.live,
                              candidate=plan.candidate, where=plan.where)
        live, shadow = split.live, split.shadow
        _merge(rejected, split.accounting.rejected)
        examples.update(split.accounting.examples)
    lab = None
    if plan.labels_input is not None:
        lab, lb, lex = text_frame(plan.labels_input)
        lab = _numbers_as_text(lab, [plan.label_column or "label"],
                               _decimal_comma(plan.labels_input))
        read += len(lab) + lb
        _merge(rejected, {"unparseable_line": lb})
        if lex:
            examples.setdefault("unparseable_line", lex)
        lab = lab.rename(columns={plan.label_id_column: "event_id",
                                  plan.label_column or "label": "label"})
    elif plan.label_column is not None:
        lab = pd.DataFrame({"event_id": live[plan.id_column], "label": live[plan.label_column]})
        lab = lab[lab["label"].notna() & (lab["label"] != "")]
        read += len(lab)
    if lab is not None:
        lab = lab.assign(label=pd.to_numeric(lab["label"], errors="coerce"))
        badl = lab["label"].isna() | ~np.isfinite(lab["label"])
        if plan.binary_labels:
            badl |= ~lab["label"].isin([0.0, 1.0])
        _merge(rejected, {"bad_label": int(badl.sum())})
        lab = lab[~badl]
    time_col = plan.timestamp_column
    pairs = pair_shadow(live, shadow, lab, id_column=plan.id_column,
                        output_column=plan.output_column, time_column=time_col,
                        features=None, carry=list(plan.carry))
    _merge(rejected, pairs.accounting.rejected)
    examples.update(pairs.examples)
    if pairs.labels is not None:
        _merge(rejected, pairs.labels.rejected)
        for k, v in pairs.labels.examples.items():
            examples.setdefault(k, v)
    used = pairs.accounting.records_used + (pairs.labels.records_used if pairs.labels else 0)
    f = pairs.frame  # in the live rows' order

    def text(col: str) -> np.ndarray:
        return np.array([None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                         else str(v) for v in f[col].tolist()], dtype=object)

    def num(col: str) -> np.ndarray:
        return pd.to_numeric(f[col], errors="coerce").to_numpy(dtype=float)

    red = PairsReduction(
        rows_read=int(read), rows_used=int(used), rejected=dict(sorted(rejected.items())),
        examples=dict(sorted(examples.items())), unmatched=dict(pairs.unmatched),
        by_side=dict(pairs.by_side), labels=pairs.labels, pair_examples=dict(pairs.examples),
        diagnostics=pair_diagnostics(len(f), lab is not None,
                                     int(np.isfinite(f["label"].to_numpy(float)).sum())),
        request_id=f["request_id"].to_numpy(dtype=object),
        output_live=f["output_live"].to_numpy(dtype=float),
        output_shadow=f["output_shadow"].to_numpy(dtype=float),
        label=f["label"].to_numpy(dtype=float),
        time=text("time") if time_col else None,
        carried={c: (num(f"{c}_live"), num(f"{c}_shadow")) for c in plan.carry},
        columns={c: text(c) for c in plan.columns if c in f.columns})
    red.check()
    return red
