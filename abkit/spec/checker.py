"""The common checker of spec values: :class:`_Checker` (messages naming the key path and
the file), the variant-label spelling ``_label`` and the list-of-names check ``_strings``.

Every value quoted in a message goes through :func:`~abkit.spec.bounds.show` (cut to 80
characters), and a value of the wrong type (a list or table where a name or number belongs,
an integer too large for a float) is a message naming the key, never a TypeError.

Relative margins (:meth:`_Checker.margin`) are a fraction of the control value in [0, 1]
(``0.05`` = 5 %), or a percentage written as a string (``"5%"``, ``"250%"``, up to
``"1000%"``). A bare number above 1 is refused: ``margin = 5`` is far more often 5 % than
+500 %, so a margin above 100 % has to be written as a percentage.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import SpecError
from .bounds import cut, show


#: what `abkit init` writes where only the user can decide (a good direction, a margin)
BLANK = "FILL IN"

class _Checker:
    def __init__(self, source: str | None) -> None:
        self.where = f" in {source}" if source else ""

    def fail(self, path: str, problem: str, hint: str | None = None) -> SpecError:
        return SpecError(f"spec error{self.where}: {path}: {problem}", hint)

    def unknown(self, path: str, keys: set[str], allowed: set[str]) -> None:
        extra = sorted(keys - allowed, key=str)
        if extra:
            near = [_closest(k, tuple(sorted(allowed))) for k in extra[:1]]
            hint = f"allowed keys: {', '.join(sorted(allowed))}"
            raise self.fail(
                path or "top level",
                f"unknown key{'s' if len(extra) > 1 else ''} "
                f"{cut(', '.join(show(k, 40) for k in extra[:5]), 200)}"
                + (f" and {len(extra) - 5} more" if len(extra) > 5 else ""),
                f"{near[0]} {hint}" if near[0] and "did you mean" in near[0] else hint,
            )

    def string(self, path: str, v: Any, optional: bool = True) -> str | None:
        self.blank(path, v, "write the column or label name")
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v.strip():
            raise self.fail(path, f"expected a non-empty string, got {show(v)}",
                            'write one name in quotes, e.g. column = "latency_ms"')
        return v

    def blank(self, path: str, v: Any, hint: str) -> None:
        """Refuse a blank that ``abkit init`` left for the user (:data:`BLANK`)."""
        if isinstance(v, str) and v.strip() == BLANK:
            raise self.fail(path, "is still a blank left by `abkit init` for you to fill in",
                            hint)

    def choice(self, path: str, v: Any, choices: tuple[str, ...], default: str | None) -> str:
        self.blank(path, v, f"write one of: {', '.join(choices)}")
        if v is None:
            if default is None:
                raise self.fail(path, "is required", f"one of: {', '.join(choices)}")
            return default
        if not isinstance(v, str) or v not in choices:
            raise self.fail(path, f"{show(v)} is not one of {', '.join(choices)}",
                            _closest(v, choices))
        return v

    def number(self, path: str, v: Any, default: float, lo: float, hi: float, lo_open=False,
               hi_open=False) -> float:
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise self.fail(path, f"expected a number, got {show(v)}", _NUMBER_HINT)
        bad = (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi)
        if bad:
            lb = "(" if lo_open else "["
            hb = ")" if hi_open else "]"
            ok = (default > lo if lo_open else default >= lo) and \
                (default < hi if hi_open else default <= hi)
            raise self.fail(path, f"{show(v)} is out of range {lb}{lo:g}, {hi:g}{hb}",
                            f"leave the key out for the default, {default:g}" if ok else None)
        return float(v)

    def margin(self, path: str, v: Any) -> float:
        """A relative margin: a number in [0, 1] or a percentage string up to "1000%"."""
        self.blank(path, v, "write the harm you accept, relative to the control (0.05 = 5 %), "
                   "or delete the line for a metric that is not a guardrail")
        if v is None:
            return 0.0
        hint = None
        if isinstance(v, str):
            text = v.strip()
            try:
                pct = float(text[:-1]) if text.endswith("%") else math.nan
            except ValueError:
                pct = math.nan
            if not (_finite(pct) and 0 <= pct <= 1000):
                raise self.fail(path, f"{show(v)} is not a margin", 'write a fraction of the '
                                'control value such as 0.05, or a percentage such as "5%" '
                                '(at most "1000%")')
            return pct / 100.0
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise self.fail(path, f"expected a number, got {show(v)}",
                            'write a fraction such as 0.05, or a percentage such as "5%"')
        if v > 1:
            hint = (f"write {_g(v / 100)} for {_g(v)} %; if +{_g(v * 100)} % is really meant, "
                    f'write margin = "{_g(v * 100)}%"')
            raise self.fail(path, f"{show(v)} is a margin above 100 % of the control value",
                            hint)
        return self.number(path, v, 0.0, 0.0, 1.0)

    def integer(self, path: str, v: Any, default: int | None, lo: int,
                hi: int | None = None) -> int | None:
        """A whole number in [lo, hi] (``None`` gives ``default``)."""
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            rng = f">= {lo}" if hi is None or hi >= 10**12 else f"in {lo}..{hi:,}"
            raise self.fail(path, f"expected a whole number {rng}, got {show(v)}",
                            "write a plain integer without quotes or a decimal point")
        return v


_NUMBER_HINT = "write a plain number without quotes, e.g. alpha = 0.05"


def _finite(v: float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float
        return False


def _g(x: float) -> str:
    return f"{x:.6g}"


def _closest(v: Any, choices: tuple[str, ...]) -> str:
    """``did you mean ...`` for a misspelt choice (case, dashes and underscores ignored)."""
    import difflib

    if not isinstance(v, str):
        return f"one of: {', '.join(choices)}"
    norm = {c.replace("-", "").replace("_", "").lower(): c for c in choices}
    key = v.replace("-", "").replace("_", "").replace("/", "").replace(" ", "").lower()
    if key in norm:
        return f"did you mean {norm[key]!r}? (spelt exactly as listed)"
    near = difflib.get_close_matches(key, list(norm), n=1, cutoff=0.6)
    return f"did you mean {norm[near[0]]!r}?" if near else f"write one of: {', '.join(choices)}"


def _label(k: Any) -> str:
    """A variant name from a spec key, spelt as the engines spell variant labels."""
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def _strings(ck: _Checker, path: str, v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ck.fail(path, f"expected a list of non-empty strings, got {show(v)}",
                      'e.g. ["age", "country"]')
    if len(set(v)) != len(v):
        raise ck.fail(path, "names must be unique")
    return tuple(v)
