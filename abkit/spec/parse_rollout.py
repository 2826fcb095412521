"""Parsing of the canary/linear keys of the ``experiment`` table (schedule, durations,
sequential design) into a :class:`~abkit.spec.model.RolloutSpec`."""

from __future__ import annotations

import math
from typing import Any, Mapping

from .bounds import MAX_LOOKS, MAX_STEPS, MIN_LOOK_EVERY, show
from .checker import _Checker, _label
from .model import METHODS, SPENDINGS, RolloutSpec

_ROLLOUT_KEYS = {
    "timestamp_column", "look_every", "candidate", "schedule", "start", "method", "spending",
    "max_samples", "min_samples", "min_duration", "tightest_at", "instances",
}


def _parse_rollout(ck: _Checker, exp: Mapping[str, Any], strategy: str,
                   split: Mapping[str, float] | None, control: str | None):
    """The canary/linear keys; returns (RolloutSpec, split, control)."""
    from .schedule import DURATION_GRAMMAR, DurationError, constant, parse_duration, \
        parse_schedule

    raw = {k: v for k, v in exp.items() if k in _ROLLOUT_KEYS}  # in the order written
    ts = ck.string("experiment.timestamp_column", exp.get("timestamp_column"), optional=False)

    def duration(key: str, default: float) -> float:
        if exp.get(key) is None:
            return default
        try:
            return parse_duration(exp[key])
        except ValueError as e:
            raise ck.fail(f"experiment.{key}", str(e), DURATION_GRAMMAR) from None

    def integer(key: str, default: int | None, lo: int) -> int | None:
        return ck.integer(f"experiment.{key}", exp.get(key), default, lo, 10**15)

    look = duration("look_every", 60.0)
    if look < MIN_LOOK_EVERY:
        raise ck.fail("experiment.look_every", f"{show(exp['look_every'])} is shorter than "
                      f"{MIN_LOOK_EVERY:g} s", 'look at most once a second, e.g. '
                      'look_every = "1s"; each look is a test of all the data so far')
    if control is None:
        raise ck.fail("experiment.control", f"a {strategy} gate needs control (the current "
                      "model's variant label)")
    candidate = exp.get("candidate")
    if candidate is not None:
        candidate = str(ck.string("experiment.candidate", _label(candidate)))
    if split is not None:
        others = [v for v in split if v != control]
        if len(others) != 1:
            raise ck.fail("experiment.split", f"a {strategy} gate compares one candidate with "
                          f"the control; split names {len(split)} variants")
        if candidate is not None and candidate != others[0]:
            raise ck.fail("experiment.candidate", f"{show(candidate)} is not in split")
        candidate = others[0]
    if candidate is None:
        raise ck.fail("experiment.candidate", "name the candidate variant (candidate = "
                      "\"...\") or give split = { <control> = ..., <candidate> = ... }")
    if candidate == control:
        raise ck.fail("experiment.candidate", "the candidate must differ from the control")
    instances = ck.integer("experiment.instances", exp.get("instances"), None, 1, MAX_STEPS)
    ck.blank("experiment.schedule", exp.get("schedule"),
             'a CodeDeploy name (schedule = "Linear10PercentEvery1Minute") or a SageMaker '
             "TrafficRoutingConfiguration table; `abkit init --schedule` reads one")
    if exp.get("schedule") is not None:
        try:
            schedule = parse_schedule(exp["schedule"], instances)
        except DurationError as e:
            raise ck.fail("experiment.schedule", str(e), DURATION_GRAMMAR) from None
        except ValueError as e:
            raise ck.fail("experiment.schedule", str(e)) from None
        end = schedule.boundaries[-1] if schedule.boundaries else 0.0
        if end / look > MAX_LOOKS:
            raise ck.fail("experiment.look_every", f"the schedule runs {end:g} s, which at "
                          f"look_every = {look:g} s is {math.ceil(end / look):,} looks; at "
                          f"most {MAX_LOOKS:,} are allowed",
                          f"set look_every to at least {math.ceil(end / MAX_LOOKS):g} s")
    elif split is not None:
        total = sum(split.values())
        schedule = constant(split[candidate] / total)
    else:
        raise ck.fail("experiment.schedule", f"a {strategy} gate needs the intended split: "
                      "split = { ... } (constant) or schedule = ...",
                      'e.g. schedule = "Linear10PercentEvery1Minute" or schedule = '
                      '{ steps = [0.1, 0.3, 0.6], wait = "10m" }')
    if split is None:
        split = {control: 1.0 - schedule.steps[0][1], candidate: schedule.steps[0][1]}
        if split[control] <= 0:
            split = {control: 0.5, candidate: 0.5}  # all-at-once: no intended control share
    if not any(0 < p < 1 for _, p in schedule.steps):
        raise ck.fail("experiment.schedule", "the schedule never splits traffic between "
                      "control and candidate, so there is nothing to compare",
                      "an all-at-once switch is a blue/green deployment")
    start = exp.get("start")
    if start is not None:
        if isinstance(start, (list, dict, bool, int, float)):
            raise ck.fail("experiment.start", f"expected an ISO 8601 timestamp, got "
                          f"{show(start)}", 'e.g. start = "2026-11-20T10:00:00Z"')
        start = str(ck.string("experiment.start", str(start)))
        import datetime as _dt

        try:
            _dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise ck.fail("experiment.start", f"{show(start)} is not an ISO 8601 timestamp",
                          'e.g. start = "2026-11-20T10:00:00Z"') from None
    method = ck.choice("experiment.method", exp.get("method"), METHODS, "cs")
    max_samples = integer("max_samples", None, 2)
    if method == "gst" and max_samples is None:
        raise ck.fail("experiment.max_samples", "a group sequential design (method = \"gst\") "
                      "needs max_samples: the planned number of requests (both variants) at "
                      "the final look, which sets each look's information fraction")
    rollout = RolloutSpec(
        timestamp_column=str(ts),
        look_every=look,
        candidate=candidate,
        schedule=schedule,
        start=start,
        method=method,
        spending=ck.choice("experiment.spending", exp.get("spending"), SPENDINGS,
                           "obrien-fleming"),
        max_samples=max_samples,
        min_samples=int(integer("min_samples", 100, 0) or 0),
        min_duration=duration("min_duration", 0.0) if not _zero(exp.get("min_duration"))
        else 0.0,
        # default: 10,000 rows, or an eighth of the planned rows (bench/SEQUENTIAL.md: then
        # within 1 % of an mSPRT tuned to the very effect, with unchanged A/A rates)
        tightest_at=int(integer("tightest_at", max(2, max_samples // 8) if max_samples
                                else 10000, 2) or 10000),
        raw=raw,
    )
    return rollout, split, control


def _zero(v: Any) -> bool:
    """``min_duration = 0`` (a plain zero, not a duration) means no minimum."""
    return not isinstance(v, bool) and isinstance(v, (int, float)) and v == 0
