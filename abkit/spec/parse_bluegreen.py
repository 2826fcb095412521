"""Parsing of the blue/green keys of the ``experiment`` table into a
:class:`~abkit.spec.model.BlueGreenSpec`."""

from __future__ import annotations

from typing import Any, Mapping

from .checker import _Checker, _label
from .model import BlueGreenSpec

_BLUEGREEN_KEYS = {
    "timestamp_column", "blue", "green", "switch_at", "window", "exclude", "look_every",
    "tightest_at", "match", "early_reference", "min_rows",
}


def _parse_bluegreen(ck: _Checker, exp: Mapping[str, Any]) -> BlueGreenSpec:
    from .schedule import parse_duration

    raw = {k: v for k, v in exp.items() if k in _BLUEGREEN_KEYS}

    def duration(key: str, default: float | None) -> float | None:
        if exp.get(key) is None:
            return default
        if exp[key] == 0 and key == "exclude":
            return 0.0
        try:
            return parse_duration(exp[key])
        except ValueError as e:
            raise ck.fail(f"experiment.{key}", str(e)) from None

    blue = exp.get("blue", exp.get("control"))
    blue = ck.string("experiment.blue", None if blue is None else _label(blue), optional=False)
    green = ck.string("experiment.green", None if exp.get("green") is None
                      else _label(exp["green"]), optional=False)
    if blue == green:
        raise ck.fail("experiment.green", "blue and green must differ")
    switch = exp.get("switch_at")
    if switch is not None:
        import datetime as _dt

        try:
            _dt.datetime.fromisoformat(str(switch).replace("Z", "+00:00"))
        except ValueError:
            raise ck.fail("experiment.switch_at", f"{switch!r} is not an ISO 8601 timestamp",
                          'e.g. switch_at = "2026-11-20T12:00:00Z"') from None
    tight = exp.get("tightest_at", 10000)
    if isinstance(tight, bool) or not isinstance(tight, int) or tight < 2:
        raise ck.fail("experiment.tightest_at", f"expected a whole number >= 2, got {tight!r}")
    return BlueGreenSpec(
        timestamp_column=str(ck.string("experiment.timestamp_column",
                                       exp.get("timestamp_column"), optional=False)),
        blue=str(blue), green=str(green),
        switch_at=None if switch is None else str(switch),
        window=duration("window", None), exclude=duration("exclude", 0.0) or 0.0,
        look_every=duration("look_every", 60.0) or 60.0, tightest_at=tight,
        match=ck.choice("experiment.match", exp.get("match"),
                        ("auto", "hour-of-day", "hour-of-week"), "auto"),
        early_reference=ck.choice("experiment.early_reference", exp.get("early_reference"),
                                  ("auto", "matched-hours", "before-window"), "auto"),
        min_rows=int(exp.get("min_rows", 30)) if isinstance(exp.get("min_rows", 30), int)
        and not isinstance(exp.get("min_rows", 30), bool) and exp.get("min_rows", 30) >= 2
        else _bad_min_rows(ck, exp.get("min_rows")),
        raw=raw,
    )


def _bad_min_rows(ck: _Checker, v: Any) -> int:
    raise ck.fail("experiment.min_rows", f"expected a whole number >= 2, got {v!r}")
