"""Compatibility: rollout schedules are spec data and live in :mod:`abkit.spec.schedule`."""

from ..spec.schedule import *  # noqa: F401,F403
from ..spec.schedule import __all__  # noqa: F401
