"""pytest plugin (registered as ``abkit`` through the ``pytest11`` entry point).

Fixtures:

- ``abkit_spec(path_or_dict, **experiment_overrides)`` -> a validated ``ExperimentSpec``;
- ``abkit_logs(scenario="win", users=2000, fmt="csv", per_request=False, seed=7)`` -> path to
  a seeded synthetic log written under the test's ``tmp_path``;
- ``abkit_gate(data, spec, **kwargs)`` -> ``Report`` (saved when ``--abkit-report-dir`` is set).

Option ``--abkit-report-dir DIR`` saves every report made through ``abkit.testing`` helpers
or ``abkit_gate`` to ``DIR`` as ``<test id>.json`` and ``.md``.

This module is imported by every pytest run in an environment where abkit is installed, so
it imports nothing heavy (no pandas, numpy or scipy) until a fixture is used.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("abkit", "abkit deployment gates")
    group.addoption(
        "--abkit-report-dir",
        default=None,
        metavar="DIR",
        help="save the reports of abkit gates run inside tests to DIR (JSON and Markdown)",
    )


def pytest_configure(config: pytest.Config) -> None:
    folder = config.getoption("--abkit-report-dir", default=None)
    if folder:
        from . import testing

        testing._set_report_dir(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.getoption("--abkit-report-dir", default=None):
        from . import testing

        testing._set_report_dir(None)


@pytest.fixture
def abkit_spec():
    """Factory: load and validate a spec (file path or dict), optionally overriding
    ``[experiment]`` keys."""
    from .spec import load_spec

    def make(spec: Any, **experiment: Any):
        sp = load_spec(spec)
        return sp.with_(**experiment) if experiment else sp

    return make


@pytest.fixture
def abkit_logs(tmp_path):
    """Factory: write a seeded synthetic A/B log and return its path."""

    def make(scenario: str = "win", users: int = 2000, fmt: str = "csv",
             per_request: bool = False, seed: int = 7, dirty: bool = False):
        from .datasets import make_ab_log, write_log

        df = make_ab_log(users, seed=seed, per_request=per_request, scenario=scenario,
                         dirty=dirty)
        return write_log(df, tmp_path / f"abkit-{scenario}-{seed}.{fmt}")

    return make


@pytest.fixture
def abkit_gate():
    """Run an analysis like ``abkit gate`` and return the Report (saved with
    ``--abkit-report-dir``)."""
    from .testing import run_gate

    return run_gate
