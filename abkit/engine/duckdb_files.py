"""SQL quoting and file checks for the DuckDB engine: identifier and literal quoting, the
file list of a scan, and the CSV/TSV header and binary-file checks done in Python."""

from __future__ import annotations

from ..errors import InputError
from ..io.sources import Source

_NUMERIC_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "BOOLEAN",
)
MAX_LINE_SIZE = 64 * 1024 * 1024
#: the CSV reader's buffer: DuckDB's default is 16 x max_line_size (1 GiB here), which a
#: pass connection holding a share of the memory limit cannot allocate for a gzip stream
#: (whose size DuckDB cannot cap it by); one longest line and 1 MiB reads every line the
#: line guard lets through (abkit.io.line_guard)
CSV_BUFFER_SIZE = MAX_LINE_SIZE + 2**20
LINE_OPTIONS = f"max_line_size = {MAX_LINE_SIZE}, buffer_size = {CSV_BUFFER_SIZE}"


def qi(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _file_list(source: Source) -> str:
    return "[" + ", ".join(ql(str(f)) for f in source.files) + "]"


def _refuse_binary(path, head: bytes | None = None) -> None:
    """Text logs never contain NUL bytes; binary garbage gets one clear error."""
    if head is None:
        import gzip

        opener = gzip.open if str(path).lower().endswith((".gz", ".gzip")) else open
        try:
            with opener(path, "rb") as fh:
                head = fh.read(8192)
        except (OSError, EOFError) as e:
            raise InputError(f"cannot read {path}: {e}",
                             "check that the file is complete") from None
    if b"\x00" in head[:8192]:
        raise InputError(f"{path} does not look like a text file (it contains NUL bytes)",
                         "check the file; CSV, TSV and JSON Lines logs must be UTF-8 text")


def csv_header(path, delim: str) -> list[str]:
    """Column names from the first line of a (possibly gzipped) CSV/TSV file.

    Raises InputError for binary or non-UTF-8 headers and duplicated column names. An empty
    file has no columns (the caller reports it).
    """
    import csv
    import gzip
    import io

    opener = gzip.open if str(path).lower().endswith((".gz", ".gzip")) else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(1 << 20)
    except (OSError, EOFError) as e:
        raise InputError(f"cannot read {path}: {e}", "check that the file is complete") from None
    line = head.split(b"\n", 1)[0].split(b"\r", 1)[0]  # \r alone ends a line too
    _refuse_binary(path, head)
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: the header line is not UTF-8 text (byte {e.start})",
                         "re-encode the file as UTF-8") from None
    if not text.strip():
        return []
    try:
        cols = next(csv.reader(io.StringIO(text), delimiter=delim))
    except (csv.Error, StopIteration) as e:
        raise InputError(f"{path}: cannot read the header line ({e})",
                         "the first line must name the columns") from None
    # an unnamed column (pandas writes its index as one) gets DuckDB's placeholder name
    cols = [c if c != "" else f"column{i}" for i, c in enumerate(cols)]
    seen: set[str] = set()
    dup = sorted({c for c in cols if c in seen or seen.add(c)})  # type: ignore[func-returns-value]
    if dup:
        raise InputError(f"{path}: the header repeats column name(s) {', '.join(dup)}",
                         "give every column a unique name")
    return cols


def _friendly(e: Exception) -> str:
    msg = str(e).strip().splitlines()
    return msg[0] if msg else type(e).__name__
