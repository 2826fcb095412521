"""Turn paths, globs and folders into a list of log files of one format.

Walks never hang and never read a file twice: a symlinked folder is entered once per real
folder (so a symlink loop ends), every file is de-duplicated by its real path, and only
regular files are read. FIFOs, sockets and devices found inside a folder or by a glob are
skipped and named in :attr:`Source.skipped` (and a :class:`SkippedFilesWarning`); one named
on the command line is refused (it could block forever).

``s3://`` objects, prefixes and globs are copied to a private temporary folder first
(:mod:`abkit.io.s3`) and then read like local files; the :class:`Source` shows their URLs
(:attr:`Source.names`, :attr:`Source.label`) and holds the copies until it is dropped.
Other URLs (``https://``, ``gs://`` ...) are refused with a message.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import InputError

__all__ = ["FORMATS", "Source", "SkippedFilesWarning", "resolve_sources", "detect_format",
           "check_local", "regular_file", "walk_files"]

# suffix (after stripping .gz) -> format
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_GZ = (".gz", ".gzip")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_S3 = re.compile(r"^s3://", re.IGNORECASE)
_MAGIC = re.compile(r"[*?[]")


class SkippedFilesWarning(UserWarning):
    """Special files (FIFOs, sockets, devices) were skipped inside a folder or glob."""


@dataclass(frozen=True)
class Source:
    """Log files of a single format, in a stable (sorted) order.

    ``skipped``: special files left out of a folder walk or glob (``"<path> (fifo)"``).
    ``delimiter`` / ``decimal``: CSV options (``None``: ``,`` for CSV, tab for TSV; ``.``).
    ``staging``: the :class:`abkit.io.s3.Staging` holding local copies of ``s3://`` objects
    (``None`` for local files only); the copies live as long as this source.
    """

    files: tuple[Path, ...]
    format: str
    compressed: bool
    skipped: tuple[str, ...] = ()
    delimiter: str | None = None
    decimal: str = "."
    staging: Any = field(default=None, compare=False, repr=False)

    def shown(self, path: str | Path) -> str:
        """How ``path`` (one of :attr:`files`) is named to the user: its ``s3://`` URL for
        a staged copy, else the path."""
        url = self.staging.url(path) if self.staging is not None else None
        return url or str(path)

    @property
    def names(self) -> tuple[str, ...]:
        """The files as the user named them (URLs for ``s3://`` objects), in order."""
        return tuple(self.shown(f) for f in self.files)

    @property
    def label(self) -> str:
        if len(self.files) == 1:
            return self.shown(self.files[0])
        return f"{len(self.files)} {self.format} files ({self.shown(self.files[0])}, ...)"


def detect_format(path: Path) -> tuple[str | None, bool]:
    """Format and whether the file is gzip-compressed, from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in _GZ
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None, compressed
    return FORMATS.get(suffixes[-1]), compressed


def check_local(p: str | Path, what: str = "input") -> None:
    """Refuse a URL: the caller reads local files (:func:`resolve_sources` takes ``s3://``
    URLs before calling this)."""
    s = str(p)
    if _URL.match(s):
        scheme = s.split(":", 1)[0].lower()
        hint = ("download it first (`aws s3 cp --recursive s3://... ./logs`) or use "
                "--engine spark" if scheme == "s3" else
                "write it as s3://... (log files are read from S3 through pyarrow), or use "
                "--engine spark" if scheme in ("s3a", "s3n") else
                "download it first and pass the local path")
        raise InputError(f"{s}: abkit reads local files, not {scheme}:// URLs ({what})", hint)


def _kind(mode: int) -> str | None:
    """None for a regular file, else what the special file is."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "special file"


def regular_file(path: str | Path, what: str = "file") -> Path:
    """``path`` when it is a regular file (symlinks followed); InputError otherwise (a FIFO,
    socket or device could block forever or never end)."""
    p = Path(path)
    check_local(p, what)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"no such file: {p}", "check the path (relative paths start "
                         "from the current directory)") from None
    except OSError as e:
        raise InputError(f"cannot read {p}: {e.strerror or e}",
                         "check the path and its permissions") from None
    kind = _kind(st.st_mode)
    if kind is not None:
        raise InputError(f"{p} is a {kind}, not a regular file; abkit does not read it",
                         f"give a regular {what} (copy the stream to a file first)")
    return p


def walk_files(root: Path, skipped: list[str]) -> Iterator[Path]:
    """Regular files below ``root`` (sorted per folder), following symlinked folders once
    per real folder so that a symlink loop ends; special files are appended to
    ``skipped``."""
    seen: set[tuple[int, int]] = set()

    def walk(d: Path) -> Iterator[Path]:
        try:
            st = os.stat(d)
        except OSError:
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            p = Path(e.path)
            try:
                mode = os.stat(e.path).st_mode
            except OSError:  # a dangling symlink, or a loop of file symlinks
                continue
            kind = _kind(mode)
            if kind == "folder":
                yield from walk(p)
            elif kind is None:
                yield p
            else:
                skipped.append(f"{p} ({kind})")

    yield from walk(root)


def _split_pattern(s: str) -> tuple[Path, list[str]]:
    parts = Path(s).parts
    for i, part in enumerate(parts):
        if _MAGIC.search(part):
            return (Path(*parts[:i]) if i else Path(".")), list(parts[i:])
    return Path(s), []


def _match(parts: list[str], pat: list[str]) -> bool:
    """Path components against glob components; ``**`` matches zero or more folders."""
    memo: dict[tuple[int, int], bool] = {}

    def m(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        if j == len(pat):
            r = i == len(parts)
        elif pat[j] == "**":
            r = m(i, j + 1) or (i < len(parts) and m(i + 1, j))
        else:
            r = i < len(parts) and fnmatch.fnmatchcase(parts[i], pat[j]) \
                and not (parts[i].startswith(".") and not pat[j].startswith(".")) \
                and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r

    return m(0, 0)


def _glob(s: str, skipped: list[str]) -> list[Path]:
    base, pat = _split_pattern(s)
    if "**" not in pat:  # bounded depth: the standard glob cannot loop
        hits = []
        for h in sorted(glob.glob(s)):
            try:
                kind = _kind(os.stat(h).st_mode)
            except OSError:
                continue
            if kind is None:
                hits.append(Path(h))
            elif kind != "folder":
                skipped.append(f"{h} ({kind})")
        return hits
    if not base.is_dir():
        return []
    out = []
    for f in walk_files(base, skipped):
        if _match(list(f.relative_to(base).parts), pat):
            out.append(f)
    return sorted(out)


def _is_log_key(key: str) -> bool:
    return detect_format(Path(key.rsplit("/", 1)[-1]))[0] is not None


def _expand(p: str | Path, skipped: list[str], staging: Any) -> list[Path]:
    s = str(p)
    if staging is not None:
        from .s3 import expand

        return staging.fetch(expand(s, match=_match, is_log=_is_log_key))
    check_local(s)
    if _MAGIC.search(s) and not Path(s).exists():
        before = len(skipped)
        hits = _glob(s, skipped)
        if not hits:
            extra = (f" (only special files: {', '.join(skipped[before:before + 3])})"
                     if len(skipped) > before else "")
            raise InputError(f"no files match {s!r}{extra}",
                             "check the pattern and quote it in a shell")
        return [h for h in hits if detect_format(h)[0]] or hits
    path = Path(s)
    if path.is_dir():
        before = len(skipped)
        hits = [f for f in walk_files(path, skipped) if detect_format(f)[0]]
        if not hits:
            extra = (f"; skipped {len(skipped) - before} special file(s): "
                     f"{', '.join(skipped[before:before + 3])}" if len(skipped) > before
                     else "")
            raise InputError(
                f"folder {path} holds no log files{extra}",
                f"abkit reads {', '.join(sorted(set(FORMATS)))} files (optionally .gz)",
            )
        return sorted(hits)
    return [regular_file(path, "log file")]


def resolve_sources(paths: str | Path | Iterable[str | Path], *,
                    delimiter: str | None = None, decimal: str | None = None) -> Source:
    """Resolve paths, globs and folders to one :class:`Source`.

    ``s3://`` objects, prefixes (folders) and globs are copied to a temporary folder
    first, held by the returned source (:mod:`abkit.io.s3`); errors name their URLs.

    Raises :class:`InputError` for missing paths or objects, other URLs, special files named
    directly, empty folders, unknown extensions and mixed formats. ``delimiter`` (one character) and
    ``decimal`` (``.`` or ``,``) are CSV/TSV options kept on the source.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise InputError(f"--delimiter must be one character other than a quote or a "
                         f"newline, got {delimiter!r}", "e.g. --delimiter ';'")
    if decimal is not None and decimal not in (".", ","):
        raise InputError(f"--decimal must be '.' or ',', got {decimal!r}",
                         "e.g. --decimal , for 1,5")
    if decimal == "," and (delimiter or ",") == ",":
        raise InputError("--decimal , needs another --delimiter (a comma cannot separate "
                         "both fields and decimals)", "e.g. --delimiter ';' --decimal ,")
    paths = list(paths)
    staging = None
    if any(_S3.match(str(p)) for p in paths):
        from .s3 import Staging, url_errors

        staging = Staging()
        try:
            with url_errors():
                return _resolve(paths, delimiter, decimal, staging)
        except BaseException:
            staging.cleanup()
            raise
    return _resolve(paths, delimiter, decimal, None)


def _resolve(paths: list[str | Path], delimiter: str | None, decimal: str | None,
             staging: Any) -> Source:
    files: list[Path] = []
    skipped: list[str] = []
    for p in paths:
        files.extend(_expand(p, skipped, staging if _S3.match(str(p)) else None))
    if not files:
        raise InputError("no input files given", "pass at least one log file, folder or glob")
    seen: dict[str, list[Path]] = {}
    comp = set()
    for f in files:
        fmt, gz = detect_format(f)
        if fmt is None:
            raise InputError(
                f"cannot tell the format of {f} from its name",
                f"rename it with one of {', '.join(sorted(set(FORMATS)))} (optionally + .gz)",
            )
        seen.setdefault(fmt, []).append(f)
        comp.add(gz)
    if len(seen) > 1:
        kinds = "; ".join(f"{k}: {v[0]}" for k, v in seen.items())
        raise InputError(
            f"input mixes formats ({kinds})", "analyse one format at a time"
        )
    (fmt, fl), = seen.items()
    if fmt == "parquet" and True in comp:
        raise InputError(
            f"{fl[0]}: gzip-wrapped Parquet is not supported",
            "Parquet compresses internally; decompress the file",
        )
    # de-duplicate by real path (a file reached through two symlinks is read once)
    uniq = list(dict.fromkeys(f.resolve() for f in fl))
    if fmt == "parquet":
        from .parquet_check import refuse_duplicate_columns

        for f in uniq:
            refuse_duplicate_columns(f)
    skipped = list(dict.fromkeys(skipped))
    if skipped:
        warnings.warn(f"skipped {len(skipped)} special file(s) (FIFOs, sockets or devices "
                      f"are never read): {', '.join(skipped[:5])}"
                      + (", ..." if len(skipped) > 5 else ""), SkippedFilesWarning,
                      stacklevel=2)
    return Source(tuple(uniq), fmt, True in comp, tuple(skipped), delimiter, decimal or ".",
                  staging)
