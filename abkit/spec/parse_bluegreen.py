"""Parsing of the blue/green keys of the ``experiment`` table into a
:class:`~abkit.spec.model.BlueGreenSpec`."""

from __future__ import annotations

from typing import Any, Mapping

from .bounds import MIN_LOOK_EVERY, show
from .checker import _Checker, _label
from .model import BlueGreenSpec

_BLUEGREEN_KEYS = {
    "timestamp_column", "blue", "green", "switch_at", "window", "exclude", "look_every",
    "tightest_at", "match", "early_reference", "min_rows",
}


def _parse_bluegreen(ck: _Checker, exp: Mapping[str, Any]) -> BlueGreenSpec:
    from .schedule import DURATION_GRAMMAR, parse_duration

    raw = {k: v for k, v in exp.items() if k in _BLUEGREEN_KEYS}

    def duration(key: str, default: float | None) -> float | None:
        if exp.get(key) is None:
            return default
        v = exp[key]
        if key == "exclude" and not isinstance(v, bool) and isinstance(v, (int, float)) \
                and v == 0:
            return 0.0
        try:
            return parse_duration(v)
        except ValueError as e:
            raise ck.fail(f"experiment.{key}", str(e), DURATION_GRAMMAR) from None

    blue = exp.get("blue", exp.get("control"))
    blue = ck.string("experiment.blue", None if blue is None else _label(blue), optional=False)
    green = ck.string("experiment.green", None if exp.get("green") is None
                      else _label(exp["green"]), optional=False)
    if blue == green:
        raise ck.fail("experiment.green", "blue and green must differ")
    switch = exp.get("switch_at")
    if isinstance(switch, (list, dict, bool, int, float)):
        raise ck.fail("experiment.switch_at", f"expected an ISO 8601 timestamp, got "
                      f"{show(switch)}", 'e.g. switch_at = "2026-11-20T12:00:00Z"')
    if switch is not None:
        import datetime as _dt

        try:
            _dt.datetime.fromisoformat(str(switch).replace("Z", "+00:00"))
        except ValueError:
            raise ck.fail("experiment.switch_at", f"{show(switch)} is not an ISO 8601 timestamp",
                          'e.g. switch_at = "2026-11-20T12:00:00Z"') from None
    tight = int(ck.integer("experiment.tightest_at", exp.get("tightest_at"), 10000, 2, 10**15)
                or 10000)
    look = duration("look_every", 60.0) or 60.0
    if look < MIN_LOOK_EVERY:
        raise ck.fail("experiment.look_every", f"{show(exp['look_every'])} is shorter than "
                      f"{MIN_LOOK_EVERY:g} s", 'look at most once a second, e.g. '
                      'look_every = "1s"')
    return BlueGreenSpec(
        timestamp_column=str(ck.string("experiment.timestamp_column",
                                       exp.get("timestamp_column"), optional=False)),
        blue=str(blue), green=str(green),
        switch_at=None if switch is None else str(switch),
        window=duration("window", None), exclude=duration("exclude", 0.0) or 0.0,
        look_every=look, tightest_at=tight,
        match=ck.choice("experiment.match", exp.get("match"),
                        ("auto", "hour-of-day", "hour-of-week"), "auto"),
        early_reference=ck.choice("experiment.early_reference", exp.get("early_reference"),
                                  ("auto", "matched-hours", "before-window"), "auto"),
        min_rows=int(ck.integer("experiment.min_rows", exp.get("min_rows"), 30, 2, 10**15)
                     or 30),
        raw=raw,
    )


def _bad_min_rows(ck: _Checker, v: Any) -> int:
    """Kept for importers: the ``min_rows`` error (now raised by ``_Checker.integer``)."""
    raise ck.fail("experiment.min_rows", f"expected a whole number >= 2, got {show(v)}")
