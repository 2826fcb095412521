"""The lines of capture or ground-truth files as an Arrow table, for DuckDB to decide.

Each file is read whole (gzip recognised by its magic bytes, as :func:`.discover._lines`
does) and split on ``\\n`` with numpy; the lines become one Arrow ``large_string`` column
without a copy per line, next to the file index and the 1-based line number. A file the
reference reader would treat specially (a line over :data:`.discover.MAX_LINE_BYTES`, more
than :data:`.discover.MAX_FILE_BYTES` decompressed, a corrupt or truncated gzip stream, an
unreadable file) is not put in the table: the caller streams it through the Python rules
(:func:`.records.python_file`), which keeps the reference accounting exactly. Lines that are
not valid UTF-8 are blanked in the table and flagged, so the caller sends them (as bytes) to
the Python rules too.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import discover


@dataclass
class FileLines:
    """The lines of one file: ``data`` (all its bytes), ``starts`` / ``ends`` (line byte
    ranges without the ``\\n``, numpy int64), ``bad_utf8`` (line indices, 0-based)."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    bad_utf8: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def raw(self, i: int) -> bytes:
        """Line ``i`` (0-based) as the reference reader yields it: with its ``\\n``."""
        end = int(self.ends[i])
        return self.data[int(self.starts[i]):end + 1 if end < len(self.data) else end]


def read_file_lines(path: Path) -> FileLines | None:
    """The lines of ``path``, or None when the file must go through the Python rules."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == b"\x1f\x8b":
                data = _gunzip(fh)
                if data is None:
                    return None
            else:
                data = fh.read(discover.MAX_FILE_BYTES + 1)
                if len(data) > discover.MAX_FILE_BYTES:
                    return None
    except OSError:
        return None  # the Python rules raise the reference InputError
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10).astype(np.int64)
    n = len(data)
    if n and (not nl.size or nl[-1] != n - 1):
        ends = np.append(nl, n)  # a last line without its newline
    else:
        ends = nl
    starts = np.empty_like(ends)
    if ends.size:
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    if ends.size and int((ends - starts).max()) > discover.MAX_LINE_BYTES:
        return None
    try:
        data.decode("utf-8")
        bad = np.zeros(0, dtype=np.int64)
    except UnicodeDecodeError:
        bad = np.asarray([i for i in range(len(starts))
                          if not _utf8(data[int(starts[i]):int(ends[i])])], dtype=np.int64)
    return FileLines(data, starts, ends, bad)


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _gunzip(fh) -> bytes | None:
    """The decompressed bytes (several members too), or None when the stream is corrupt,
    truncated or past the size cap (the Python rules then account for it)."""
    try:
        with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
            data = gz.read(discover.MAX_FILE_BYTES + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        return None
    return None if len(data) > discover.MAX_FILE_BYTES else data


def lines_table(files: list[tuple[int, FileLines]]) -> pa.Table:
    """One Arrow table ``f`` (file index), ``ln`` (1-based line), ``line`` (text with its
    ``\\n``) of the given files, built on the file bytes without a copy; lines that are not
    UTF-8 are empty strings here."""
    chunks_f, chunks_ln, texts = [], [], []
    for fi, fl in files:
        k = len(fl)
        if not k:
            continue
        if fl.bad_utf8.size:  # rare: rebuild the file's strings one by one
            bad = set(fl.bad_utf8.tolist())
            texts.append(pa.array(["" if i in bad else fl.raw(i).decode("utf-8")
                                   for i in range(k)], pa.large_string()))
        else:
            offsets = np.append(fl.starts, np.int64(len(fl.data)))
            texts.append(pa.Array.from_buffers(
                pa.large_string(), k, [None, pa.py_buffer(offsets), pa.py_buffer(fl.data)]))
        chunks_f.append(pa.array(np.full(k, fi, dtype=np.int32)))
        chunks_ln.append(pa.array(np.arange(1, k + 1, dtype=np.int64)))
    if not texts:
        return pa.table({"f": pa.array([], pa.int32()), "ln": pa.array([], pa.int64()),
                         "line": pa.array([], pa.large_string())})
    return pa.table({"f": pa.chunked_array(chunks_f), "ln": pa.chunked_array(chunks_ln),
                     "line": pa.chunked_array(texts)})

