"""Keep over-long lines and gzip bombs away from the CSV / JSON Lines scan.

DuckDB's CSV reader rejects a line longer than its ``max_line_size``, but it grows a buffer
while it looks for the line's end: a 4 GiB line inside a 18 MB gzip file exhausts its
memory limit, and with a small ``max_line_size`` such a line is skipped without a trace.
So every CSV / JSON Lines file is first streamed once here, in fixed-size chunks (memory
bounded by the chunk size, whatever the line lengths or the compression ratio):

* a line longer than :data:`MAX_LINE_BYTES` is an ``oversized_line`` record;
* the decompressed bytes of one file past :data:`MAX_FILE_BYTES` are one
  ``decompressed_too_large`` record (the rest is not expanded, so a bomb costs at most that
  much time);

the same caps and reasons as the Data Capture reader (:mod:`abkit.io.datacapture.discover`).
A file with neither (the normal case) is read as it is. A file with one is replaced, for
the scan only, by a plain copy in a private temporary folder where each over-long line is
an empty line (blank lines are neither rows nor rejections, so every other line keeps its
number) and the content past the cap is cut at a line end. :func:`guard_files` returns the
files to scan, the rejections to add to the accounting, and the map from copies back to the
original names for messages.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from ..errors import InputError
from .datacapture.discover import MAX_FILE_BYTES, MAX_LINE_BYTES

__all__ = ["Guarded", "LineScan", "guard_files", "scan_lines"]

#: bytes read at a time (below :data:`MAX_LINE_BYTES`, so a line wholly inside one chunk is
#: never over the cap and only the lines that cross chunks need measuring)
CHUNK = 8 * 1024 * 1024


def _open(path: Path) -> BinaryIO:
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]


def _chunks(fh: BinaryIO, cap: int, size: int | None = None) -> Iterator[bytes]:
    """The decompressed content in chunks of ``size`` (default :data:`CHUNK`) bytes, at
    most ``cap`` bytes and one chunk more."""
    total, size = 0, size or CHUNK
    while total <= cap:
        chunk = fh.read(size)
        if not chunk:
            return
        total += len(chunk)
        yield chunk


@dataclass
class LineScan:
    """What one pass over a file found: the (1-based) numbers of the over-long lines, and
    where the decompressed-size cap cut the file (``cut_line``: the first line not read,
    ``cut_byte``: the bytes kept), if it did."""

    path: Path
    oversized: list[int] = field(default_factory=list)
    cut_line: int | None = None
    cut_byte: int | None = None

    @property
    def clean(self) -> bool:
        return not self.oversized and self.cut_line is None


def scan_lines(path: Path, *, line_cap: int = MAX_LINE_BYTES,
               file_cap: int = MAX_FILE_BYTES) -> LineScan:
    """Stream ``path`` (plain or gzip) once and find its over-long lines and the cut."""
    out = LineScan(Path(path))
    lineno, gap, done = 1, 0, 0  # current line, its bytes so far, bytes before the chunk
    last_end = 0  # bytes up to and including the last newline seen
    try:
        with _open(path) as fh:
            # chunks no longer than the cap: a line inside one chunk is never over it
            for chunk in _chunks(fh, file_cap, min(CHUNK, line_cap)):
                if done + len(chunk) > file_cap:  # cut at the last line end within it
                    room = file_cap - done
                    last = chunk.rfind(b"\n", 0, room)
                    if last >= 0:
                        if gap + chunk.find(b"\n") > line_cap:
                            out.oversized.append(lineno)
                        lineno += chunk.count(b"\n", 0, last + 1)
                        last_end = done + last + 1
                    out.cut_line, out.cut_byte = lineno, last_end
                    return out
                first = chunk.find(b"\n")
                if first < 0:
                    gap += len(chunk)
                else:
                    if gap + first > line_cap:
                        out.oversized.append(lineno)
                    lineno += chunk.count(b"\n")
                    last = chunk.rfind(b"\n")
                    gap = len(chunk) - last - 1
                    last_end = done + last + 1
                done += len(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error):
        return out  # the scan that follows reports the damaged stream, as it does today
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}",
                         "check the file's permissions and that it is complete") from None
    if gap > line_cap:
        out.oversized.append(lineno)
    return out


def _filtered_copy(scan: LineScan, dest: Path) -> None:
    """``scan.path`` decompressed into ``dest``, with its over-long lines emptied (their
    newline kept, so the other lines keep their numbers) and the content past the cut left
    out."""
    todo = sorted(scan.oversized)  # the over-long lines still ahead
    lineno, written, skipping = 1, 0, bool(todo) and todo[0] == 1
    with _open(scan.path) as src, open(dest, "wb") as out:
        for chunk in _chunks(src, MAX_FILE_BYTES + CHUNK):
            if scan.cut_byte is not None:
                chunk = chunk[:max(scan.cut_byte - written, 0)]
                if not chunk:
                    break
            written += len(chunk)
            pos = 0
            while pos < len(chunk):
                if skipping:  # inside an over-long line: drop up to its newline
                    nl = chunk.find(b"\n", pos)
                    if nl < 0:
                        break
                    out.write(b"\n")
                    todo.pop(0)
                    lineno, pos = lineno + 1, nl + 1
                    skipping = bool(todo) and todo[0] == lineno
                    continue
                ahead = chunk.count(b"\n", pos)
                if not todo or lineno + ahead < todo[0]:  # no over-long line starts here
                    out.write(chunk[pos:])
                    lineno += ahead
                    break
                start = pos
                for _ in range(todo[0] - lineno):  # to the start of the next one
                    pos = chunk.find(b"\n", pos) + 1
                out.write(chunk[start:pos])
                lineno, skipping = todo[0], True


@dataclass
class Guarded:
    """The files to scan (``files``, in the order given), the rejections the guard made
    (``rejected``, with ``examples``), and ``shown``: a copy's path -> the original's."""

    files: tuple[Path, ...]
    rejected: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    folder: str | None = None

    def name(self, path: str) -> str:
        """The original name of a scanned file (for messages)."""
        return self.shown.get(str(path), str(path))

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def guard_files(files: Iterable[Path], *, line_cap: int = MAX_LINE_BYTES,
                file_cap: int = MAX_FILE_BYTES) -> Guarded:
    """Scan every file (see the module docstring); copies are made only for files with an
    over-long line or past the cap."""
    out = Guarded(())
    scanned: list[Path] = []
    try:
        for i, path in enumerate(files):
            scan = scan_lines(path, line_cap=line_cap, file_cap=file_cap)
            if scan.clean:
                scanned.append(Path(path))
                continue
            if scan.oversized and scan.oversized[0] == 1:
                raise InputError(f"{path}: the header line is longer than "
                                 f"{line_cap >> 20} MiB", "check that this is a log file")
            if out.folder is None:
                out.folder = tempfile.mkdtemp(prefix="abkit-lines-")
            name = Path(path).name
            for ext in (".gz", ".gzip"):
                name = name[:-len(ext)] if name.lower().endswith(ext) else name
            copy = Path(out.folder) / f"{i}-{name}"
            _filtered_copy(scan, copy)
            out.shown[str(copy)] = str(path)
            scanned.append(copy)
            if scan.oversized:
                out.rejected["oversized_line"] = (out.rejected.get("oversized_line", 0)
                                                  + len(scan.oversized))
                out.examples.setdefault(
                    "oversized_line", f"{path}, line {scan.oversized[0]}: the line is longer "
                    f"than {line_cap >> 20} MiB (read through, never held in memory)")
            if scan.cut_line is not None:
                out.rejected["decompressed_too_large"] = (
                    out.rejected.get("decompressed_too_large", 0) + 1)
                out.examples.setdefault(
                    "decompressed_too_large", f"{path}, line {scan.cut_line}: the file "
                    f"decompresses to more than {file_cap:,} bytes; the rest is rejected")
    except BaseException:
        out.close()
        raise
    out.files = tuple(scanned)
    return out
