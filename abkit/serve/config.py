"""The ``abkit serve`` configuration: a TOML file with one ``[[gates]]`` table per gate.

.. code-block:: toml

    [[gates]]
    name = "churn-canary"          # the URL's <name>: letters, digits, ".", "_", "-"
    spec = "specs/canary.toml"     # relative paths resolve against this file's folder
    logs = "logs/canary/"          # a file, a folder or a glob

Every gate's *root* is the folder its ``logs`` name (the fixed part of a glob, or a file's
folder); a log file that resolves outside it (a symbolic link out of the folder, say) is
never read. Errors are :class:`~abkit.errors.SpecError` (exit 2) naming the file and key.
"""

from __future__ import annotations

import glob
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError

__all__ = ["Gate", "load_config"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_GLOB_CHARS = "*?["


@dataclass(frozen=True)
class Gate:
    """One configured gate: its spec file, its logs (as written, resolved) and its root."""

    name: str
    spec: Path
    logs: str
    root: Path

    def files(self) -> list[Path]:
        """The log files the gate reads now (rollout logs grow), inside its root only."""
        root = os.path.realpath(self.root)
        if any(ch in self.logs for ch in _GLOB_CHARS):
            found = [Path(p) for p in sorted(glob.glob(self.logs, recursive=True))]
        elif os.path.isdir(self.logs):
            found = sorted(p for p in Path(self.logs).rglob("*"))
        else:
            found = [Path(self.logs)]
        out = []
        for p in found:
            real = os.path.realpath(p)
            if os.path.isfile(real) and (real == root or real.startswith(root + os.sep)):
                out.append(p)
        return out


def _root(logs: str) -> Path:
    if any(ch in logs for ch in _GLOB_CHARS):
        fixed = re.split(r"[*?\[]", logs, maxsplit=1)[0]
        return Path(fixed if fixed.endswith(os.sep) else os.path.dirname(fixed) or ".")
    p = Path(logs)
    return p if p.is_dir() else p.parent


def load_config(path: str | os.PathLike[str]) -> list[Gate]:
    """The gates of a serve config file (see the module docstring)."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"serve config not found: {p}", "check the path") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise SpecError(f"serve config {p} cannot be read: {e}") from None
    extra = set(doc) - {"gates"}
    if extra:
        raise SpecError(f"{p}: unknown key(s) {', '.join(sorted(map(str, extra)))}",
                        "a serve config holds only [[gates]] tables")
    gates = doc.get("gates")
    if not isinstance(gates, list) or not gates:
        raise SpecError(f"{p}: no [[gates]] table",
                        'add [[gates]] with name, spec and logs, e.g. name = "canary"')
    base = p.parent
    out: dict[str, Gate] = {}
    for i, g in enumerate(gates):
        where = f"{p}: gates[{i}]"
        if not isinstance(g, dict):
            raise SpecError(f"{where} is not a table")
        unknown = set(g) - {"name", "spec", "logs"}
        if unknown:
            raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                            "a gate has name, spec and logs")
        for key in ("name", "spec", "logs"):
            if not isinstance(g.get(key), str) or not g[key]:
                raise SpecError(f"{where}.{key} must be a non-empty string")
        name = g["name"]
        if not _NAME.match(name):
            raise SpecError(f"{where}.name {name!r} is not a URL-safe name",
                            "use letters, digits, '.', '_' and '-' (at most 100)")
        if name in out:
            raise SpecError(f"{where}.name {name!r} is used twice", "give each gate its name")
        spec = base / g["spec"]
        if not spec.is_file():
            raise SpecError(f"{where}.spec: no such file {spec}")
        logs = str(base / g["logs"])
        out[name] = Gate(name, spec, logs, _root(logs))
    return list(out.values())
