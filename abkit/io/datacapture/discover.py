"""Finding the files of a Data Capture or ground-truth tree, and reading their raw lines."""

from __future__ import annotations

import contextlib
import gc
import gzip
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from ...errors import InputError
from ..sources import SkippedFilesWarning, check_local, regular_file, walk_files

_SUFFIXES = (".jsonl", ".jsonl.gz")

_YEAR = re.compile(r"^\d{4}$")
_TWO = re.compile(r"^\d{2}$")


def _is_data_file(p: Path) -> bool:
    n = p.name.lower()
    return n.endswith(_SUFFIXES)


def _hour_of(parts: Sequence[str]) -> pd.Timestamp | None:
    """UTC hour from the four folders ``yyyy/mm/dd/hh`` just above a file, or None."""
    if len(parts) < 5:
        return None
    y, m, d, h = parts[-5:-1]
    if not (_YEAR.match(y) and _TWO.match(m) and _TWO.match(d) and _TWO.match(h)):
        return None
    try:
        return pd.Timestamp(int(y), int(m), int(d), int(h), tz="UTC")
    except ValueError:
        return None


@dataclass(frozen=True)
class _File:
    path: Path
    names: tuple[str, ...]  # (endpoint, variant) for capture, (endpoint,) for ground truth
    hour: pd.Timestamp | None


def _discover(root: str | Path, levels: tuple[str, ...], endpoint: str | None,
              what: str) -> list[_File]:
    """Find the data files under ``root`` and the endpoint (and variant) of each.

    ``root`` may be a single file, the prefix folder above the endpoints (then ``endpoint``
    picks one when there are several), the endpoint folder, or (capture only) one variant
    folder. Files are returned sorted by (names, path): within a variant, chronological,
    because the hour folders are zero-padded.
    """
    check_local(root, what)
    root = Path(root)
    layout = "/".join(f"<{x}>" for x in levels) + "/yyyy/mm/dd/hh/<file>.jsonl"
    if root.exists() and not root.is_dir():
        regular_file(root, f"{what} file")  # a FIFO, socket or device is refused
    if not root.exists():
        raise InputError(f"no such file or folder: {root}",
                         f"give the {what} folder ({layout}) or one of its files")
    k = len(levels)
    if root.is_file():
        if not _is_data_file(root):
            raise InputError(f"{root} is not a JSON Lines file (.jsonl or .jsonl.gz)",
                             f"give a {what} file or folder")
        parts = root.resolve().parts
        hour = _hour_of(parts)
        if hour is not None and len(parts) >= 5 + k + 1:
            names = tuple(parts[-5 - k:-5])
        else:
            names = tuple([endpoint or ""] + [""] * (k - 1))
        if endpoint is not None and names[0] != endpoint:
            raise InputError(f"{root} belongs to endpoint {names[0]!r}, not {endpoint!r}",
                             "drop endpoint= or give a file of that endpoint")
        return [_File(root, names, hour)]
    skipped: list[str] = []
    real: dict[Path, Path] = {}
    for f in walk_files(root, skipped):  # symlink loops end; special files are skipped
        if _is_data_file(f):
            real.setdefault(f.resolve(), f)  # each real file once
    files = sorted(real.values())
    if skipped:
        warnings.warn(f"{root}: skipped {len(skipped)} special file(s) (FIFOs, sockets or "
                      f"devices are never read): {', '.join(skipped[:5])}",
                      SkippedFilesWarning, stacklevel=3)
    if not files:
        extra = f" (skipped special files: {', '.join(skipped[:3])})" if skipped else ""
        raise InputError(f"no {what} files (*.jsonl, *.jsonl.gz) under {root}{extra}",
                         f"give the folder that holds {layout}")
    depths: dict[int, Path] = {}
    found: list[tuple[tuple[str, ...], Path, pd.Timestamp]] = []
    for f in files:
        rel = f.relative_to(root).parts
        hour = _hour_of(rel)
        if hour is None:
            raise InputError(
                f"{f} is not in the {what} layout {layout} (no yyyy/mm/dd/hh folders above it)",
                "give the folder of one endpoint, or move stray .jsonl files out of the tree")
        depths.setdefault(len(rel) - 5, f)
        found.append((rel[:-5], f, hour))
    if len(depths) > 1:
        eg = "; ".join(f"{p} ({d} folder(s) above yyyy)" for d, p in sorted(depths.items()))
        raise InputError(f"{root} mixes folder depths: {eg}", f"expected {layout}")
    (depth,) = depths
    here = root.resolve()
    if depth == k:  # prefix folder above the endpoints
        lead: tuple[str, ...] = ()
    elif depth == k - 1:  # an endpoint folder
        lead = (here.name,)
    elif depth == k - 2:  # a variant folder (capture)
        lead = (here.parent.name, here.name)
    else:
        raise InputError(f"{root}: the files sit {depth} folder(s) below it before the "
                         f"yyyy/mm/dd/hh folders, which does not match {layout}",
                         "give the endpoint folder (or the prefix folder with endpoint=)")
    out = [_File(f, (*lead, *pre), hour) for pre, f, hour in found]
    endpoints = sorted({x.names[0] for x in out})
    if endpoint is not None:
        if endpoint not in endpoints:
            raise InputError(f"{root} holds no endpoint {endpoint!r} (found: "
                             f"{', '.join(endpoints)})", "check the endpoint name")
        out = [x for x in out if x.names[0] == endpoint]
    elif len(endpoints) > 1:
        raise InputError(f"{root} holds several endpoints ({', '.join(endpoints)})",
                         "pass endpoint= (or the endpoint's own folder)")
    out.sort(key=lambda x: (x.names, str(x.path)))
    return out


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic garbage collector while a reader builds millions of small objects
    (the readers make no reference cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


#: A capture or ground-truth line longer than this is rejected (``oversized_line``) without
#: being held in memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: Decompressed bytes read from one file at most; the rest is rejected as one record
#: (``decompressed_too_large``): a gzip bomb cannot exhaust memory or time.
MAX_FILE_BYTES = 16 * 1024 ** 3


class _TooLarge(Exception):
    """A file decompressed past :data:`MAX_FILE_BYTES`."""

    def reject_rest(self, cnt, warnings: list[str], path: Path, lineno: int) -> int:
        """Count the rest of the file as one ``decompressed_too_large`` record (and warn);
        returns the line number it took."""
        lineno += 1
        cnt.read += 1
        msg = (f"the file decompresses to more than {self.args[1]:,} bytes; read up to line "
               f"{lineno - 1}, the rest (byte {self.args[0]:,} on) is rejected")
        cnt.reject("decompressed_too_large", f"{path}:{lineno}: {msg}")
        warnings.append(f"{path}: {msg}")
        return lineno


def _lines(path: Path, lineno_hint=None):
    """Yield raw lines (bytes) of a plain or gzip JSON Lines file; ``None`` for a line over
    :data:`MAX_LINE_BYTES` (read through in chunks, never held whole).

    gzip is recognised by its magic bytes, so a compressed file without ``.gz`` is read too.
    A file that cannot be opened or read (permissions, I/O error) raises InputError; a
    corrupt or truncated gzip stream raises EOFError / BadGzipFile / zlib.error, and a file
    that decompresses past :data:`MAX_FILE_BYTES` raises :class:`_TooLarge`, for the caller
    to count.
    """
    cap, total_cap = MAX_LINE_BYTES, MAX_FILE_BYTES
    try:
        with open(path, "rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:
            total = 0
            readline = fh.readline
            while True:
                line = readline(cap + 1)
                if not line:
                    return
                total += len(line)
                if len(line) > cap and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):
                        if total > total_cap:
                            raise _TooLarge(total, total_cap)
                        line = readline(8 * 1024 * 1024)
                        total += len(line)
                    line = None
                if total > total_cap:
                    raise _TooLarge(total, total_cap)
                yield line
    except (EOFError, gzip.BadGzipFile, zlib.error, _TooLarge):
        raise
    except OSError as e:
        at = f" after line {lineno_hint()}" if lineno_hint is not None else ""
        raise InputError(f"cannot read {path}{at}: {e.strerror or e}",
                         "check the file's permissions and that it is complete") from None


def capture_files(root: str | Path, endpoint: str | None,
                  variants: Sequence[str] | None) -> list[_File]:
    """The capture files below ``root`` (``<endpoint>/<variant>/yyyy/mm/dd/hh/``) of the
    ``variants`` asked for, each with its names and hour; a missing variant folder is an
    InputError naming the folders found and the closest one."""
    files = _discover(root, ("endpoint", "variant"), endpoint, "Data Capture")
    if len(files) == 1 and files[0].names[1] == "":  # one file outside the layout
        if variants is None or len(variants) != 1:
            raise InputError(
                f"{files[0].path} is not inside <endpoint>/<variant>/yyyy/mm/dd/hh/, so its "
                "variant is unknown", "pass variants=[name] or give the capture tree")
        files = [_File(files[0].path, (files[0].names[0], variants[0]), files[0].hour)]
    found = sorted({f.names[1] for f in files})
    if variants is not None:
        missing = [v for v in variants if v not in found]
        if missing:
            from ...core.labels import closest_label

            counts = {v: sum(1 for f in files if f.names[1] == v) for v in found}
            match = closest_label(missing[0], [v for v in found if v not in variants])
            raise InputError(
                f"{root} has no variant folder {', '.join(map(repr, missing))}"
                + (f"; did you mean {match!r}?" if match else "") + " (found: "
                + (", ".join(f"{v!r} ({n:,} file{'s' if n != 1 else ''})"
                             for v, n in counts.items()) or "none") + ")",
                (f"write {match!r} in the spec (experiment.live / experiment.candidate)"
                 if match else "check the variant names") +
                "; the variants are the folders below the endpoint folder")
        files = [f for f in files if f.names[1] in set(variants)]
    return files
