"""Rejection accounting of the DuckDB engine: reason counts from the reduction plus the lines
the CSV/JSON reader itself rejected or swallowed (a mixin of :class:`DuckDBLogs`)."""

from __future__ import annotations

import re

from ..core.accounting import ReasonCounts
from .duckdb_files import LINE_OPTIONS, _file_list


_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")


class RejectAccounting:
    """Methods of :class:`~abkit.engine.duckdb_engine.DuckDBLogs` that count rejected lines
    (they use its ``source``, ``con`` and ``_run``)."""

    def account(self, reasons, n_records: int):
        """Rejection counts from ``(reason|column, variant, rows)`` triples, plus the lines the
        CSV/JSON reader itself rejected or swallowed. ``n_records`` = rows the scan returned.

        Returns (rejected, rejected_columns, unknown_variants, examples).
        """
        counts = ReasonCounts()
        swallowed = 0
        # counted in the order of (reason, label), whatever order the passes returned them in
        for r, v, n in sorted(reasons, key=lambda x: (x[0], x[1] is not None, str(x[1]))):
            counts.add(r, n, v)
        rejected, rejected_columns, unknown = (counts.rejected, counts.rejected_columns,
                                               counts.unknown_variants)
        examples: dict[str, str] = {}
        guarded, guard_examples = self.guard_accounting()
        for code, n in guarded.items():
            rejected[code] = rejected.get(code, 0) + n
        examples.update(guard_examples)
        bad_lines, example = self._csv_rejects()
        if bad_lines:
            rejected["unparseable_line"] = rejected.get("unparseable_line", 0) + bad_lines
            examples["unparseable_line"] = example
        if self.source.format in ("csv", "tsv"):
            records = n_records + bad_lines
            swallowed = self._physical_lines() - records
            if swallowed > 0:  # RFC 4180: a quoted field may hold line breaks
                swallowed -= self._quoted_line_breaks()
            if swallowed > 0:
                # a quoted field ran over line ends (an unclosed quote): those lines were
                # never rows of their own; they are accounted, not lost
                rejected["unparseable_line"] = rejected.get("unparseable_line", 0) + swallowed
                examples["quoted_field_spans_lines"] = (
                    f"{swallowed} lines are inside quoted fields that span several lines "
                    "(an unclosed \" quote?); they were not read as rows"
                )

        total = n_records + bad_lines + max(swallowed, 0) + sum(guarded.values())
        if total and sum(rejected.values()) >= total:
            code, text = self._all_rejected(rejected, rejected_columns)
            if code:
                old = examples.get(code)
                examples[code] = text + (f" (first: {old})" if old else "")
        return rejected, rejected_columns, unknown, examples

    def guard_accounting(self) -> tuple[dict[str, int], dict[str, str]]:
        """(rejections, examples) of the line guard: over-long lines (``oversized_line``)
        and the rest of a file past the decompressed-size cap (``decompressed_too_large``),
        which the scan never sees (:mod:`abkit.io.line_guard`)."""
        if self.guard is None:
            return {}, {}
        staging = getattr(self.source, "staging", None)
        return dict(self.guard.rejected), {
            k: staging.rewrite(v) if staging is not None else v
            for k, v in self.guard.examples.items()}

    def _all_rejected(self, rejected: dict, rejected_columns: dict) -> tuple[str, str]:
        """When every row is rejected: (reason, what to say), naming the column and reason
        that reject the most rows, three of its values, and the fix they suggest (a decimal
        comma, another delimiter); ("", "") when there is nothing to add."""
        msg = ""
        code = ""
        hint = ""
        cells = sorted(((n, code, col) for code, d in rejected_columns.items()
                        for col, n in d.items()), key=lambda t: (-t[0], t[1], t[2]))
        if cells:
            n, code, col = cells[0]
            vals = self._example_values(col)
            shown = ", ".join(repr(v[:40]) for v in vals) or "none (every value is empty)"
            msg = f"column {col!r}: {code} for {n} rows, e.g. {shown}"
            if vals and all(_DECIMAL_COMMA.match(v) for v in vals):
                hint = ("the values use a decimal comma (1,5): pass --decimal , (and "
                        "--delimiter ';' when fields are separated by ';')")
        elif "unparseable_line" in rejected and self.source.format in ("csv", "tsv"):
            head = self._head_text()
            first = head.split("\n", 1)[0]
            delim = getattr(self.source, "delimiter", None) or \
                ("," if self.source.format == "csv" else "\t")
            for d in (";", "|", "\t", ","):
                if d != delim and first.count(d) >= 1 and first.count(delim) == 0:
                    name = "tab" if d == "\t" else d
                    code = "unparseable_line"
                    msg = (f"every line was unparseable; the header {first[:80]!r} is "
                           f"separated by {name!r}")
                    hint = f"pass --delimiter {name!r}"
                    if re.search(r"\d,\d", head):
                        hint += " (and --decimal , for numbers written 1,5)"
                    break
        if not msg:
            return "", ""
        return code, msg + (f"; {hint}" if hint else "")

    def _example_values(self, col: str) -> list[str]:
        """Up to three distinct non-empty values of ``col`` (sorted, so stable)."""
        if col not in self.types():
            return []
        where = "WHERE _ok" if self.source.format == "jsonl" else ""
        try:
            rows = self.con.execute(
                f"SELECT v FROM (SELECT CAST({self.text(col)} AS VARCHAR) AS v FROM "
                f"{self.scan()} {where}) WHERE v IS NOT NULL AND trim(v) <> '' "
                "GROUP BY v ORDER BY v LIMIT 3").fetchall()
        except Exception:  # an example is a courtesy: never fail the error message on it
            return []
        return [str(r[0]) for r in rows]

    def _head_text(self) -> str:
        import gzip

        f = self.source.files[0]
        opener = gzip.open if str(f).lower().endswith((".gz", ".gzip")) else open
        try:
            with opener(f, "rb") as fh:
                return fh.read(1 << 16).decode("utf-8", "replace")
        except (OSError, EOFError):
            return ""

    def _quoted_line_breaks(self) -> int:
        """Physical lines that records' quoted fields hold as text (RFC 4180 allows line
        breaks inside quotes), so that they are part of one record, not rejected lines.

        Per field, each line after a line break counts, unless it is blank (the physical
        count skips blank lines) or it holds as many delimiters as a whole row: such a line
        is taken as a row swallowed by a stray quote and stays counted as rejected.
        """
        from .duckdb_files import qi, ql

        cols = list(self.types())
        delim = getattr(self.source, "delimiter", None) or \
            ("," if self.source.format == "csv" else "\t")
        need = len(cols) - 1  # delimiters of a whole row
        nl, cr, d = "chr(10)", "chr(13)", ql(delim)

        def delims(x: str) -> str:
            return f"(len({x}) - len(replace({x}, {d}, '')))"

        terms = []
        for c in cols:
            col = qi(c)
            segs = f"string_split({col}, {nl})"
            terms.append(
                f"CASE WHEN strpos({col}, {nl}) > 0 THEN "
                f"len(list_filter({segs}[2:-2], lambda x: trim(replace(x, {cr}, '')) <> '' "
                f"AND {delims('x')} < {need})) + "
                f"CASE WHEN {delims(f'{segs}[-1]')} < {need} THEN 1 ELSE 0 END "
                "ELSE 0 END")
        if not terms or need < 1:
            return 0
        got = self.run(f"SELECT sum({' + '.join(terms)}) FROM {self.scan()}").fetchone()[0]
        return int(got or 0)

    def _physical_lines(self) -> int:
        """Non-blank data lines of the CSV files, read without any quoting rules."""
        files = _file_list(self.scanned)
        lines = (
            f"read_csv({files}, columns = {{'line': 'VARCHAR'}}, header = true, "
            "delim = chr(1), quote = '', escape = '', auto_detect = false, "
            "store_rejects = true, rejects_table = '_abkit_line_rejects', "
            f"rejects_scan = '_abkit_line_scans', {LINE_OPTIONS})"
        )
        ok = self.run(f"SELECT count(*) FROM {lines} WHERE trim(line) <> ''").fetchone()[0]
        return int(ok) + self._rejected_lines("_abkit_line_rejects")

    def _rejected_lines(self, table: str) -> int:
        """Distinct lines a scan stored in its rejects ``table`` (0 when it made none)."""
        import duckdb

        try:
            return int(self.con.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT scan_id, file_id, line FROM {table})"
            ).fetchone()[0])
        except duckdb.CatalogException:  # no line was rejected, so no table was made
            return 0

    def _csv_rejects(self) -> tuple[int, str]:
        if self.source.format not in ("csv", "tsv", "jsonl"):
            return 0, ""
        n = self._rejected_lines("_abkit_rejects")
        if not n:
            return 0, ""
        f, line, kind, msg = self.con.execute(
            "SELECT s.file_path, e.line, e.error_type, e.error_message FROM _abkit_rejects e "
            "JOIN _abkit_scans s USING (scan_id, file_id) ORDER BY s.file_path, e.line LIMIT 1"
        ).fetchone()
        return n, f"{self.shown(f)}, line {line}: {kind.lower()} ({msg})"
