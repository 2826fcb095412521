"""Canary and linear rollout gates: schedules, per-look reduction, the sequential gate,
replay and the incremental :class:`RolloutMonitor`."""

from __future__ import annotations

__all__ = ["RolloutMonitor"]


def __getattr__(name: str):  # lazy: importing abkit.rollout.schedule stays light
    if name == "RolloutMonitor":
        from .monitor import RolloutMonitor

        return RolloutMonitor
    raise AttributeError(name)
