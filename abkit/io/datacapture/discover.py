"""Finding the files of a Data Capture or ground-truth tree, and reading their raw lines."""

from __future__ import annotations

import contextlib
import gc
import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from ...errors import InputError

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
    root = Path(root)
    layout = "/".join(f"<{x}>" for x in levels) + "/yyyy/mm/dd/hh/<file>.jsonl"
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
    files = sorted(f for f in root.rglob("*") if f.is_file() and _is_data_file(f))
    if not files:
        raise InputError(f"no {what} files (*.jsonl, *.jsonl.gz) under {root}",
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


def _lines(path: Path, lineno_hint=None):
    """Yield raw lines (bytes) of a plain or gzip JSON Lines file.

    gzip is recognised by its magic bytes, so a compressed file without ``.gz`` is read too.
    A file that cannot be opened or read (permissions, I/O error) raises InputError; a
    corrupt or truncated gzip stream raises EOFError / BadGzipFile / zlib.error for the
    caller to count.
    """
    try:
        with open(path, "rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:
            yield from fh
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise
    except OSError as e:
        at = f" after line {lineno_hint()}" if lineno_hint is not None else ""
        raise InputError(f"cannot read {path}{at}: {e.strerror or e}",
                         "check the file's permissions and that it is complete") from None
