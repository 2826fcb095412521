"""The one number formatter of the text, Markdown and HTML reports and the decision reasons.

* :func:`fmt_num`: 4 significant digits, thousands separators (``12,346``, ``0.01346``);
* :func:`fmt_estimate`: an estimate and its interval with one number of decimals for all
  three, chosen so that the interval's half-width shows two significant digits
  (``+0.0128 [+0.0042, +0.0214]``, ``+2.4 [+1.3, +3.6]``, ``+12,346 [+11,000, +13,691]``);
  ``pct=True`` shows them as percentages of 1; ``unit`` is appended (``ms``);
* :func:`fmt_p`: three decimals, scientific below 0.001, ``< 1e-300`` below the float range
  (never ``0.0e+00``), ``n/a`` when missing;
* :func:`fmt_time`: ISO 8601 UTC to the second (``2026-11-20T10:05:00Z``);
* :func:`plural`: ``1 metric``, ``2 metrics``, with separators (``1,000 rows``).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

__all__ = ["fmt_estimate", "fmt_interval", "fmt_num", "fmt_p", "fmt_time", "plural"]

#: the smallest p-value shown as a number
P_FLOOR = 1e-300


def fmt_p(x: float | None) -> str:
    """A p-value: three decimals, scientific below 0.001, ``< 1e-300`` below that."""
    if x is None:
        return "n/a"
    if x < P_FLOOR:
        return "< 1e-300"
    return f"{x:.1e}" if x < 0.001 else f"{x:.3f}"


def _fixed(x: float, decimals: int, signed: bool) -> str:
    s = f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"
    if s.lstrip("+-").strip("0.,") == "":  # rounds to zero: "+0.00", never "-0.00"
        s = ("+" if signed else "") + f"{0.0:.{decimals}f}"
    return s


def fmt_num(x: float | None, *, signed: bool = False, unit: str | None = None) -> str:
    """A value with 4 significant digits and thousands separators (``n/a`` when missing)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    ax = abs(x)
    if ax != 0 and (ax >= 1e15 or ax < 1e-4):
        s = f"{x:+.3g}" if signed else f"{x:.3g}"
    else:
        digits = 4 - (int(math.floor(math.log10(ax))) + 1) if ax else 0
        s = _fixed(x, max(0, digits), signed)
        if "." in s:
            s = s.rstrip("0").rstrip(".") if ax >= 1 or digits > 0 else s
    return s + (f" {unit}" if unit else "")


def _decimals(half: float) -> int | None:
    if not math.isfinite(half) or half <= 0:
        return None
    return max(0, min(12, 1 - int(math.floor(math.log10(half)))))


def fmt_estimate(est: float | None, ci: Any = None, *, pct: bool = False,
                 signed: bool = True, unit: str | None = None) -> str:
    """An estimate with its interval, all three with the same decimals (see the module
    docstring). ``ci`` is ``(low, high)``, ``{"low", "high"}`` or None."""
    if est is None or not math.isfinite(est):
        return "n/a"
    lo = hi = None
    if ci is not None:
        lo, hi = (ci["low"], ci["high"]) if isinstance(ci, dict) else (ci[0], ci[1])
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        if pct:
            return _fixed(est * 100.0, 2, signed) + "%"
        return fmt_num(est, signed=signed, unit=unit)
    if pct:
        d = _decimals((hi - lo) * 50.0)
        d = 2 if d is None else d
        return (f"{_fixed(est * 100, d, signed)}% [{_fixed(lo * 100, d, signed)}%, "
                f"{_fixed(hi * 100, d, signed)}%]")
    tail = f" {unit}" if unit else ""
    scale = max(abs(est), abs(lo), abs(hi))
    d = _decimals((hi - lo) / 2.0)
    if scale != 0 and (scale < 1e-4 or scale >= 1e15):  # tiny or huge: scientific
        f = "{:+.3g}" if signed else "{:.3g}"
        return f"{f.format(est)} [{f.format(lo)}, {f.format(hi)}]{tail}"
    if d is None:  # a point interval: the estimate's own digits
        return f"{fmt_num(est, signed=signed)} [{fmt_num(lo, signed=signed)}, " \
               f"{fmt_num(hi, signed=signed)}]{tail}"
    return f"{_fixed(est, d, signed)} [{_fixed(lo, d, signed)}, {_fixed(hi, d, signed)}]{tail}"


def fmt_interval(low: float, high: float, *, pct: bool = False) -> str:
    """``[low, high]`` in the precision :func:`fmt_estimate` would give them."""
    text = fmt_estimate((low + high) / 2.0, (low, high), pct=pct)
    return text[text.index("["):]


def fmt_time(t: Any) -> str | None:
    """ISO 8601 UTC to the second: from epoch seconds, a datetime or ISO text."""
    if t is None:
        return None
    if isinstance(t, (int, float)):
        d = datetime.fromtimestamp(float(t), timezone.utc)
    elif isinstance(t, datetime):
        d = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    else:
        d = datetime.fromisoformat(str(t).replace("Z", "+00:00"))
        d = d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 metric``, ``2 metrics`` (``many`` for irregular plurals), with separators."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
