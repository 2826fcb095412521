"""Rejection accounting of the DuckDB engine: reason counts from the reduction plus the lines
the CSV/JSON reader itself rejected or swallowed (a mixin of :class:`DuckDBLogs`)."""

from __future__ import annotations

from ..core.accounting import ReasonCounts
from .duckdb_files import MAX_LINE_SIZE, _file_list


class RejectAccounting:
    """Methods of :class:`~abkit.engine.duckdb_engine.DuckDBLogs` that count rejected lines
    (they use its ``source``, ``con`` and ``_run``)."""

    def account(self, reasons, n_records: int):
        """Rejection counts from ``(reason|column, variant, rows)`` triples, plus the lines the
        CSV/JSON reader itself rejected or swallowed. ``n_records`` = rows the scan returned.

        Returns (rejected, rejected_columns, unknown_variants, examples).
        """
        counts = ReasonCounts()
        for r, v, n in reasons:
            counts.add(r, n, v)
        rejected, rejected_columns, unknown = (counts.rejected, counts.rejected_columns,
                                               counts.unknown_variants)
        examples: dict[str, str] = {}
        bad_lines, example = self._csv_rejects()
        if bad_lines:
            rejected["unparseable_line"] = rejected.get("unparseable_line", 0) + bad_lines
            examples["unparseable_line"] = example
        if self.source.format in ("csv", "tsv"):
            records = n_records + bad_lines
            swallowed = self._physical_lines() - records
            if swallowed > 0:
                # a quoted field ran over line ends (an unclosed quote): those lines were
                # never rows of their own; they are accounted, not lost
                rejected["unparseable_line"] = rejected.get("unparseable_line", 0) + swallowed
                examples["quoted_field_spans_lines"] = (
                    f"{swallowed} lines are inside quoted fields that span several lines "
                    "(an unclosed \" quote?); they were not read as rows"
                )

        return rejected, rejected_columns, unknown, examples

    def _physical_lines(self) -> int:
        """Non-blank data lines of the CSV files, read without any quoting rules."""
        files = _file_list(self.source)
        lines = (
            f"read_csv({files}, columns = {{'line': 'VARCHAR'}}, header = true, "
            "delim = chr(1), quote = '', escape = '', auto_detect = false, "
            "store_rejects = true, rejects_table = '_abkit_line_rejects', "
            f"rejects_scan = '_abkit_line_scans', max_line_size = {MAX_LINE_SIZE})"
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
        return n, f"{f}, line {line}: {kind.lower()} ({msg})"
