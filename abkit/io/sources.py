"""Turn paths, globs and folders into a list of log files of one format."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import InputError

__all__ = ["FORMATS", "Source", "resolve_sources", "detect_format"]

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


@dataclass(frozen=True)
class Source:
    """Log files of a single format, in a stable (sorted) order."""

    files: tuple[Path, ...]
    format: str
    compressed: bool

    @property
    def label(self) -> str:
        if len(self.files) == 1:
            return str(self.files[0])
        return f"{len(self.files)} {self.format} files ({self.files[0]}, ...)"


def detect_format(path: Path) -> tuple[str | None, bool]:
    """Format and whether the file is gzip-compressed, from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in _GZ
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None, compressed
    return FORMATS.get(suffixes[-1]), compressed


def _expand(p: str | Path) -> list[Path]:
    s = str(p)
    if any(ch in s for ch in "*?[") and not Path(s).exists():
        hits = sorted(Path(h) for h in glob.glob(s, recursive=True) if Path(h).is_file())
        if not hits:
            raise InputError(f"no files match {s!r}", "check the pattern and quote it in a shell")
        return [h for h in hits if detect_format(h)[0]] or hits
    path = Path(s)
    if path.is_dir():
        hits = sorted(f for f in path.rglob("*") if f.is_file() and detect_format(f)[0])
        if not hits:
            raise InputError(
                f"folder {path} holds no log files",
                f"abkit reads {', '.join(sorted(set(FORMATS)))} files (optionally .gz)",
            )
        return hits
    if not path.exists():
        raise InputError(f"no such file: {path}", "check the path (relative paths start "
                         "from the current directory)")
    return [path]


def resolve_sources(paths: str | Path | Iterable[str | Path]) -> Source:
    """Resolve paths, globs and folders to one :class:`Source`.

    Raises :class:`InputError` for missing paths, empty folders, unknown extensions and
    mixed formats.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        files.extend(_expand(p))
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
    # de-duplicate while keeping order
    uniq = list(dict.fromkeys(f.resolve() for f in fl))
    return Source(tuple(uniq), fmt, True in comp)
