"""abkit: statistical go / no-go gates for ML model rollouts.

Public API (imports are lazy so that ``abkit --help`` and the pytest plugin stay fast):

- :func:`analyze` — read logs (files, a DataFrame, an Arrow table, a DuckDB relation or
  :func:`sql`), account for every row, reduce, test
  and decide; returns a :class:`~abkit.report.model.Report` (A/B), a
  :class:`~abkit.report.rollout.RolloutReport` (canary, linear) or a shadow / blue-green
  report, all with the same export methods.
- :func:`sql` — a SQL query (on a DuckDB database file) whose result is the log.
- :class:`RolloutMonitor` — the canary / linear gate fed batch by batch.
- :func:`load_spec` / :class:`ExperimentSpec` — experiment specs (TOML or YAML).
- :class:`ExitCode` — the CLI's stable exit codes.
- :mod:`abkit.stats` — pure statistics on sufficient statistics.
- :mod:`abkit.datasets` — seeded generators of sample logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = [
    "AbkitError",
    "ExitCode",
    "ExperimentSpec",
    "InputError",
    "Report",
    "RolloutMonitor",
    "RolloutReport",
    "SpecError",
    "__version__",
    "analyze",
    "load_spec",
    "sql",
]

_LAZY = {
    "analyze": ("abkit.pipeline", "analyze"),
    "Report": ("abkit.report.model", "Report"),
    "RolloutReport": ("abkit.report.rollout", "RolloutReport"),
    "RolloutMonitor": ("abkit.monitor", "RolloutMonitor"),
    "ExperimentSpec": ("abkit.spec", "ExperimentSpec"),
    "load_spec": ("abkit.spec", "load_spec"),
    "ExitCode": ("abkit.errors", "ExitCode"),
    "AbkitError": ("abkit.errors", "AbkitError"),
    "InputError": ("abkit.errors", "InputError"),
    "SpecError": ("abkit.errors", "SpecError"),
    "sql": ("abkit.engine.duckdb_frames", "sql"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import analyze
    from .errors import AbkitError, ExitCode, InputError, SpecError
    from .report.model import Report
    from .report.rollout import RolloutReport
    from .monitor import RolloutMonitor
    from .engine.duckdb_frames import sql
    from .spec import ExperimentSpec, load_spec


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'abkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
