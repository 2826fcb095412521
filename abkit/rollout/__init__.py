"""Canary and linear rollout gates: schedules and the anytime-valid sequential gate.

The per-look reduction is :mod:`abkit.engine.rollout_reduce` (pandas) and
:mod:`abkit.engine.duckdb_rollout` (files); the replay runs in
:mod:`abkit.strategies.rollout`; the incremental gate is :class:`abkit.monitor.RolloutMonitor`
(still importable from here).
"""

from __future__ import annotations

__all__ = ["RolloutMonitor"]


def __getattr__(name: str):  # lazy, compatibility re-export of the public name
    if name == "RolloutMonitor":
        from ..monitor import RolloutMonitor

        return RolloutMonitor
    raise AttributeError(name)
