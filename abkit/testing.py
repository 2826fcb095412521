"""Assertions for gates embedded in test suites (pytest, unittest, plain scripts).

Each helper raises :class:`AssertionError` with a readable table of what failed and works
without pytest::

    from abkit.testing import assert_go, assert_no_regression

    report = assert_go("logs/", "spec.toml")            # analyse, then require GO
    assert_no_regression("logs/", "spec.toml", metric="latency")

Inside pytest with ``--abkit-report-dir DIR``, every report made through these helpers (or
the ``abkit_gate`` fixture) is also written to ``DIR`` as JSON and Markdown.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .report.model import Report

__all__ = ["assert_go", "assert_not_no_go", "assert_no_regression", "run_gate"]

_sink: Callable[[Any], None] | None = None


def _set_report_dir(folder: str | os.PathLike | None) -> None:
    """Save every report made through this module to ``folder`` (None: stop saving)."""
    global _sink
    if folder is None:
        _sink = None
        return
    out = Path(folder)

    def save(report: Report) -> None:
        out.mkdir(parents=True, exist_ok=True)
        test = os.environ.get("PYTEST_CURRENT_TEST", "abkit-report").split(" ")[0]
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test).strip("_") or "abkit-report"
        path = out / f"{stem}.json"
        i = 1
        while path.exists():
            i += 1
            path = out / f"{stem}-{i}.json"
        path.write_text(report.to_json(), encoding="utf-8")
        path.with_suffix(".md").write_text(report.to_markdown(), encoding="utf-8")

    _sink = save


def run_gate(data: Any, spec: Any = None, **kwargs: Any) -> Report:
    """``abkit.analyze(data, spec, **kwargs)``, recording the report when a sink is set."""
    from .pipeline import analyze

    report = analyze(data, spec, **kwargs)
    if _sink is not None:
        _sink(report)
    return report


def _as_report(report_or_data: Any, spec: Any, kwargs: dict) -> Report:
    from .report.model import ReportExports

    if isinstance(report_or_data, ReportExports):  # any strategy's report
        return report_or_data  # type: ignore[return-value]
    return run_gate(report_or_data, spec, **kwargs)


def _failure(report: Report, headline: str, rows: list | None = None) -> AssertionError:
    from .core.sanitize import plain
    from .report.render import comparison_rows, text_table

    doc = report.to_dict()
    lines = [plain(headline), f"decision: {report.decision.upper()}"]
    lines += [f"  - {plain(r)}" for r in report.reasons]
    table = [[plain(str(c)) for c in row] for row in comparison_rows(doc)]
    if rows is not None:
        table = [table[i] for i in rows]
    lines += text_table(table, indent="  ", rule=False)
    return AssertionError("\n".join(lines))


def assert_go(report_or_data: Any, spec: Any = None, **kwargs: Any) -> Report:
    """Require a GO decision. Takes a :class:`Report`, or data and spec to analyse."""
    report = _as_report(report_or_data, spec, kwargs)
    if report.decision != "go":
        raise _failure(report, "abkit: expected GO")
    return report


def assert_not_no_go(report_or_data: Any, spec: Any = None, **kwargs: Any) -> Report:
    """Require that the decision is not NO-GO (GO or INCONCLUSIVE pass)."""
    report = _as_report(report_or_data, spec, kwargs)
    if report.decision == "no-go":
        raise _failure(report, "abkit: NO-GO")
    return report


def assert_no_regression(report_or_data: Any, spec: Any = None, *, metric: str | None = None,
                         **kwargs: Any) -> Report:
    """Require that no guardrail regressed and no primary metric is significantly worse.

    With ``metric``, only that metric is checked (in every treatment); it must exist.
    """
    report = _as_report(report_or_data, spec, kwargs)
    doc = report.to_dict()
    names = {c["metric"] for c in doc["comparisons"]}
    if metric is not None and metric not in names:
        raise AssertionError(f"abkit: no metric {metric!r} in the report "
                             f"(metrics: {', '.join(sorted(names))})")
    bad = []
    for i, c in enumerate(doc["comparisons"]):
        if metric is not None and c["metric"] != metric:
            continue
        regressed = bool((c.get("guardrail") or {}).get("regressed"))
        if regressed or (c["role"] == "primary" and c["verdict"] == "worse"):
            bad.append(i)
    srm_failed = not doc["srm"]["passed"]
    if bad or srm_failed:
        what = metric or "any metric"
        head = f"abkit: regression in {what}"
        if srm_failed:
            head += " (and the sample ratio check failed: the data cannot be trusted)"
        raise _failure(report, head, bad)
    return report
