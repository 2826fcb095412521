"""The common checker of spec values: :class:`_Checker` (messages naming the key path and
the file), the variant-label spelling ``_label`` and the list-of-names check ``_strings``."""

from __future__ import annotations

import math
from typing import Any

from ..errors import SpecError


class _Checker:
    def __init__(self, source: str | None) -> None:
        self.where = f" in {source}" if source else ""

    def fail(self, path: str, problem: str, hint: str | None = None) -> SpecError:
        return SpecError(f"spec error{self.where}: {path}: {problem}", hint)

    def unknown(self, path: str, keys: set[str], allowed: set[str]) -> None:
        extra = sorted(keys - allowed)
        if extra:
            raise self.fail(
                path or "top level",
                f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}",
                f"allowed keys: {', '.join(sorted(allowed))}",
            )

    def string(self, path: str, v: Any, optional: bool = True) -> str | None:
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v.strip():
            raise self.fail(path, f"expected a non-empty string, got {v!r}")
        return v

    def choice(self, path: str, v: Any, choices: tuple[str, ...], default: str | None) -> str:
        if v is None:
            if default is None:
                raise self.fail(path, "is required", f"one of: {', '.join(choices)}")
            return default
        if v not in choices:
            raise self.fail(path, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def number(self, path: str, v: Any, default: float, lo: float, hi: float, lo_open=False,
               hi_open=False) -> float:
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(path, f"expected a number, got {v!r}")
        bad = (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi)
        if bad:
            lb = "(" if lo_open else "["
            hb = ")" if hi_open else "]"
            raise self.fail(path, f"{v!r} is out of range {lb}{lo:g}, {hi:g}{hb}")
        return float(v)


def _label(k: Any) -> str:
    """A variant name from a spec key, spelt as the engines spell variant labels."""
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def _strings(ck: _Checker, path: str, v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ck.fail(path, "expected a list of non-empty strings")
    if len(set(v)) != len(v):
        raise ck.fail(path, "names must be unique")
    return tuple(v)
