"""Rollout schedules: the candidate's intended traffic share at each moment.

A schedule is a list of steps ``(start_second, share)`` counted from the rollout start. Three
ways to write one, all parsed here:

* abkit's own: ``schedule = { steps = [0.1, 0.3, 0.6], wait = "10m" }`` (shares of the
  candidate; each step lasts ``wait``; the last step lasts until the data end);
* SageMaker's deployment guardrails, ``BlueGreenUpdatePolicy.TrafficRoutingConfiguration``:
  ``{ Type = "CANARY", CanarySize = { Type = "CAPACITY_PERCENT", Value = 10 },
  WaitIntervalInSeconds = 600 }``, ``Type = "LINEAR"`` with ``LinearStepSize`` or
  ``"ALL_AT_ONCE"`` (``INSTANCE_COUNT`` sizes need ``instances``, the fleet size);
* CodeDeploy's predefined configurations by name: ``Canary10Percent5Minutes``,
  ``Linear10PercentEvery1Minute``, ``AllAtOnce``, with or without the
  ``CodeDeployDefault.``, ``Lambda`` or ``ECS`` prefixes.

After the last comparative step traffic moves to the candidate completely (share 1.0): a
canary's bake ends with the full shift, a linear rollout reaches 100 %. Data after that hold
no control traffic, so they cannot change a comparison; the replay reports them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .bounds import MAX_DURATION, MAX_STEPS, show

__all__ = ["DURATION_GRAMMAR", "DurationError", "Schedule", "parse_duration", "parse_schedule",
           "codedeploy_schedule"]

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_NUM = r"(\d{1,12}(?:\.\d{1,12})?)"
_DURATION = re.compile(rf"^(?:{_NUM}d)?(?:{_NUM}h)?(?:{_NUM}m(?!s))?(?:{_NUM}s)?(?:{_NUM}ms)?$")
DURATION_GRAMMAR = ('a duration is a number followed directly by d, h, m, s or ms, largest '
                    'unit first, each unit once, no spaces (e.g. "30s", "5m", "1.5h", "1h30m"), '
                    f"or a plain number of seconds; at most {MAX_DURATION / 86400:g}d")


class DurationError(ValueError):
    """A value that does not follow the duration grammar (``DURATION_GRAMMAR``)."""


def parse_duration(value: Any) -> float:
    """Seconds from a duration as a spec writes it. The one grammar::

        duration := seconds | text
        seconds  := a number (integer or float) > 0, in seconds
        text     := [N "d"] [N "h"] [N "m"] [N "s"] [N "ms"]   (at least one part)
        N        := digits, optionally "." digits

    Units are lower-case, written largest first, each at most once, with no spaces:
    ``"90s"``, ``"5m"``, ``"1.5h"``, ``"1h30m"``, ``"250ms"``, ``"2d"``, ``30``. ``"1 min"``,
    ``"5M"``, ``"30sec"``, ``"PT5M"`` and ``"30m1h"`` are refused. The total must be positive
    and at most ``MAX_DURATION`` (366 days).

    Raises DurationError (a ValueError) saying what was wrong; ``DURATION_GRAMMAR`` is the
    hint to show with it.
    """
    if isinstance(value, bool):
        raise DurationError(f"expected a duration such as \"5m\", got {show(value)}")
    if isinstance(value, (int, float)):
        secs = float(value) if _finite(value) else math.inf
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m is None or not any(m.groups()):
            raise DurationError(f"{show(value)} is not a duration")
        secs = sum(float(x) * u for x, u in zip(m.groups(), _UNITS.values()) if x)
    else:
        raise DurationError(f"expected a duration such as \"5m\", got {show(value)}")
    if secs != secs:
        raise DurationError(f"expected a duration such as \"5m\", got {show(value)}")
    if secs <= 0:
        raise DurationError(f"a duration must be positive, got {show(value)}")
    if not secs <= MAX_DURATION:  # NaN too
        raise DurationError(f"{show(value)} is longer than {MAX_DURATION / 86400:g} days")
    return secs


def _finite(v: float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


@dataclass(frozen=True)
class Schedule:
    """Candidate share over time: ``steps[i] = (start_second, share)``, starts increasing.

    ``source`` says how it was written (for the report).
    """

    steps: tuple[tuple[float, float], ...]
    source: str

    def step_index(self, t: float) -> int:
        """0-based step in force ``t`` seconds after the start (t < 0 counts as step 0)."""
        i = 0
        for j, (s, _) in enumerate(self.steps):
            if t >= s:
                i = j
        return i

    def share_at(self, t: float) -> float:
        return self.steps[self.step_index(t)][1]

    @property
    def boundaries(self) -> tuple[float, ...]:
        """Seconds at which the share changes (after the first step)."""
        return tuple(s for s, _ in self.steps[1:])

    def describe(self) -> list[dict[str, float]]:
        return [{"step": i + 1, "starts_after_s": s, "share": p}
                for i, (s, p) in enumerate(self.steps)]


def constant(share: float) -> Schedule:
    return Schedule(((0.0, share),), "split")


def _from_steps(shares: list[float], wait: float, source: str) -> Schedule:
    steps = [(i * wait, float(p)) for i, p in enumerate(shares)]
    if shares[-1] < 1.0:
        steps.append((len(shares) * wait, 1.0))
    return Schedule(tuple(steps), source)


def _percent(block: Any, what: str, instances: int | None) -> float:
    if not isinstance(block, Mapping) or "Value" not in block:
        raise ValueError(f"{what} must be a table with Type and Value")
    kind = block.get("Type", "CAPACITY_PERCENT")
    val = block["Value"]
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not _finite(val) or val <= 0:
        raise ValueError(f"{what}.Value must be a positive number, got {show(val)}")
    if kind == "CAPACITY_PERCENT":
        if val > 100:
            raise ValueError(f"{what}.Value is a percentage, got {show(val)}")
        return float(val) / 100.0
    if kind == "INSTANCE_COUNT":
        if not instances:
            raise ValueError(
                f"{what}.Type = INSTANCE_COUNT needs the fleet size: add instances = N to "
                "the experiment table"
            )
        if val > instances:
            raise ValueError(f"{what}.Value {val} exceeds instances = {instances}")
        return float(val) / float(instances)
    raise ValueError(f"{what}.Type must be CAPACITY_PERCENT or INSTANCE_COUNT, got {show(kind)}")


def _pct(share: float) -> str:
    return f"{share * 100:.6g} %"


def sagemaker_schedule(cfg: Mapping[str, Any], instances: int | None = None) -> Schedule:
    """A schedule from SageMaker's ``TrafficRoutingConfiguration`` (or a deployment config
    holding ``BlueGreenUpdatePolicy.TrafficRoutingConfiguration``)."""
    for key in ("DeploymentConfig", "BlueGreenUpdatePolicy", "TrafficRoutingConfiguration"):
        if isinstance(cfg.get(key), Mapping):
            cfg = cfg[key]
    kind = cfg.get("Type")
    wait = cfg.get("WaitIntervalInSeconds")
    if kind not in ("ALL_AT_ONCE", "CANARY", "LINEAR"):
        raise ValueError(f"Type must be ALL_AT_ONCE, CANARY or LINEAR, got {show(kind)}")
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not _finite(wait) \
            or not 0 < wait <= MAX_DURATION:
        raise ValueError(f"WaitIntervalInSeconds must be a positive number of seconds (at most "
                         f"{MAX_DURATION:g}), got {show(wait)}")
    src = f"SageMaker TrafficRoutingConfiguration {kind}"
    if kind == "ALL_AT_ONCE":
        return Schedule(((0.0, 1.0),), src)
    if kind == "CANARY":
        p = _percent(cfg.get("CanarySize"), "CanarySize", instances)
        return _from_steps([p], float(wait), src)
    step = _percent(cfg.get("LinearStepSize"), "LinearStepSize", instances)
    if 1.0 / step > MAX_STEPS + 1:
        raise ValueError(f"LinearStepSize {_pct(step)} makes {math.ceil(1.0 / step):,} steps; "
                         f"a schedule has at most {MAX_STEPS:,}")
    shares = []
    k = 1
    while k * step < 1.0 - 1e-12:
        shares.append(round(k * step, 12))
        k += 1
    return _from_steps(shares or [1.0], float(wait), src)


_CD = re.compile(
    r"^(?:CodeDeployDefault\.)?(?:Lambda|ECS)?(?:(AllAtOnce)|Canary(\d+)Percent(\d+)Minutes?"
    r"|Linear(\d+)PercentEvery(\d+)Minutes?)$"
)


def codedeploy_schedule(name: str) -> Schedule:
    """A schedule from a CodeDeploy predefined deployment configuration name."""
    m = _CD.match(name.strip())
    if not m:
        raise ValueError(
            f"{show(name)} is not a CodeDeploy configuration name; expected e.g. "
            "Canary10Percent5Minutes, Linear10PercentEvery1Minute or AllAtOnce"
        )
    src = f"CodeDeploy {name.strip()}"
    if m.group(1):
        return Schedule(((0.0, 1.0),), src)
    if m.group(2):
        pct, mins = int(m.group(2)), int(m.group(3))
        if not 0 < pct < 100 or mins <= 0:
            raise ValueError(f"{show(name)}: percent must be in 1..99 and minutes positive")
        return _from_steps([pct / 100.0], mins * 60.0, src)
    pct, mins = int(m.group(4)), int(m.group(5))
    if not 0 < pct <= 100 or mins <= 0:
        raise ValueError(f"{show(name)}: percent must be in 1..100 and minutes positive")
    shares = [min(k * pct, 100) / 100.0 for k in range(1, 100 // pct + 1) if k * pct < 100]
    return _from_steps(shares or [1.0], mins * 60.0, src)


def parse_schedule(value: Any, instances: int | None = None) -> Schedule:
    """Any of the three forms (see the module docstring). Raises ValueError."""
    if isinstance(value, str):
        return codedeploy_schedule(value)
    if not isinstance(value, Mapping):
        raise ValueError("expected a CodeDeploy name or a table (steps + wait, or a SageMaker "
                         "TrafficRoutingConfiguration)")
    if "steps" in value or "wait" in value:
        extra = set(value) - {"steps", "wait"}
        if extra:
            raise ValueError(f"unknown schedule keys {show(sorted(map(str, extra)))}; use steps "
                             "and wait")
        steps = value.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ValueError("steps must be a non-empty list of candidate shares, e.g. "
                             "[0.1, 0.3, 0.6]")
        if len(steps) > MAX_STEPS:
            raise ValueError(f"steps lists {len(steps):,} shares; a schedule has at most "
                             f"{MAX_STEPS:,}")
        prev = 0.0
        for s in steps:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 < s <= 1:
                raise ValueError(f"each step is a candidate share in (0, 1], got {show(s)}")
            if s <= prev:
                raise ValueError("steps must increase")
            prev = s
        if "wait" not in value:
            raise ValueError("a schedule with steps needs wait, e.g. wait = \"10m\"")
        try:
            wait = parse_duration(value["wait"])
        except DurationError as e:
            raise DurationError(f"wait: {e}") from None
        return _from_steps([float(s) for s in steps], wait, "steps")
    return sagemaker_schedule(value, instances)
