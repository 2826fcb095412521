"""Files abkit writes: never over an input, and never half-written.

* :func:`check_output` refuses (:class:`~abkit.errors.InputError`, exit 2) an output path
  that is one of the inputs: the same path after ``..`` and symbolic links are resolved,
  or the same file (hard link, bind mount, case-insensitive name) when it already exists.
* :func:`atomic_path` and :func:`write_text_atomic` write to a temporary file in the
  target's folder and move it over the target with :func:`os.replace`, so a crash or an
  interrupt leaves either the old file or the new one, never a partial file.
* :func:`writable_problem` says, before any work is done, why a path cannot be written.

Layer 0: this module imports nothing from abkit except :mod:`abkit.errors`.
"""

from __future__ import annotations

import glob
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError

__all__ = ["atomic_path", "check_output", "expand_inputs", "same_file", "writable_problem",
           "write_text_atomic"]

_GLOB_CHARS = "*?["


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def _stat(path: str | os.PathLike[str]) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same file: equal once resolved, or (both existing)
    the same device and inode."""
    if _real(a) == _real(b):
        return True
    sa, sb = _stat(a), _stat(b)
    return sa is not None and sb is not None and (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def expand_inputs(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files ``paths`` name: a file as is, a folder as every file under it, a glob
    pattern (that is not itself an existing path) as every file it matches. Paths that do
    not exist are skipped (whoever reads them reports that)."""
    out: list[Path] = []
    for p in paths:
        s = os.fspath(p)
        if any(ch in s for ch in _GLOB_CHARS) and not os.path.exists(s):
            out.extend(Path(h) for h in sorted(glob.glob(s, recursive=True))
                       if os.path.isfile(h))
        elif os.path.isdir(s):
            out.extend(f for f in sorted(Path(s).rglob("*")) if f.is_file())
        elif os.path.exists(s):
            out.append(Path(s))
    return out


def check_output(output: str | os.PathLike[str],
                 inputs: Iterable[tuple[str, str | os.PathLike[str]]],
                 *, option: str = "-o/--output") -> None:
    """Raise :class:`InputError` if ``output`` is one of ``inputs``.

    ``inputs`` holds ``(what, path)`` pairs, ``what`` saying what the file is to the run
    ("log file", "spec file", ...), for the message.
    """
    out = os.fspath(output)
    real_out = _real(out)
    st_out = _stat(out)
    for what, path in inputs:
        p = os.fspath(path)
        hit = _real(p) == real_out
        if not hit and st_out is not None:
            st_in = _stat(p)
            hit = st_in is not None and (st_in.st_dev, st_in.st_ino) == (st_out.st_dev,
                                                                          st_out.st_ino)
        if hit:
            how = "" if os.path.normpath(out) == os.path.normpath(p) else (
                f" (both resolve to {real_out})" if _real(p) == real_out
                else " (the same file through a hard link)")
            raise InputError(
                f"output {out} is the {what} {p}{how}; writing it would destroy the input",
                f"give {option} a file that is not an input, e.g. a name in another folder "
                "or with another extension")


def writable_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be created or written, or ``None`` if it looks writable."""
    p = os.fspath(path)
    if os.path.isdir(p):
        return f"{p} is a folder"
    folder = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(folder):
        return f"its folder {folder} does not exist"
    if os.path.exists(p):
        if not os.access(p, os.W_OK):
            return f"{p} is not writable"
    elif not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is not writable"
    return None


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary path next to ``path`` (same folder, name ending in the same
    suffixes) to write; on success it replaces ``path`` in one step, on any error or
    interrupt it is removed and ``path`` is left as it was.

    A symbolic link at ``path`` is followed: its target is replaced, the link is kept.
    An existing target's permission bits are kept; a new file gets the usual ones (umask).
    """
    target = Path(_real(path))
    tmp = None
    for _ in range(100):
        cand = target.with_name(f".abkit-{secrets.token_hex(4)}-{target.name}")
        try:
            fd = os.open(cand, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        tmp = cand
        break
    if tmp is None:  # pragma: no cover - 100 random names all taken
        raise FileExistsError(f"cannot create a temporary file next to {target}")
    try:
        yield tmp
        st = _stat(target)
        if st is not None and stat.S_ISREG(st.st_mode):
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str | Iterable[str],
                      encoding: str = "utf-8") -> None:
    """Write ``text`` (a string, or chunks of one) to ``path`` atomically (see
    :func:`atomic_path`), flushed to disk before it replaces the old file."""
    chunks = (text,) if isinstance(text, str) else text
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding=encoding) as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
