"""The analysis report: one ``to_dict()`` feeds JSON, text, Markdown and notebook display."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..core.accounting import describe
from ..engine.plan import Reduced
from ..gates.ab import ComparisonRecord, Outcome
from ..spec import ExperimentSpec

__all__ = ["Report", "ReportExports", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


def _version() -> str:
    from .._version import __version__

    return __version__


class ReportExports(ABC):
    """JSON, text, Markdown, HTML and notebook display, all from ``to_dict()``."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON document (``abkit/schemas/report-v1.json``)."""

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"

    def to_text(self, width: int = 100) -> str:
        from .render import render_text

        return render_text(self.to_dict())

    def to_markdown(self) -> str:
        from .render import render_markdown

        return render_markdown(self.to_dict())

    def to_html(self, *, plots: bool = True) -> str:
        """The self-contained HTML report (inline CSS and SVG, embedded JSON)."""
        from .html import render_html

        return render_html(self.to_dict(), plots=plots)

    def input_paths(self) -> list[tuple[str, str]]:
        """``(what, path)`` for every file this report was made from: the log files, the
        spec file and the files the spec names (a shadow spec's labels, CloudWatch export
        and endpoint config). Nothing abkit writes may be one of them."""
        from ..core.outputs import expand_inputs

        # the "input" section of every report is its ``source`` (no need to build the rest)
        inp = getattr(self, "source", None)
        if not isinstance(inp, dict):
            inp = self.to_dict().get("input") or {}
        out = [("log file", str(f)) for f in inp.get("files", ())]
        spec = getattr(self, "spec", None)
        if getattr(spec, "source", None):
            out.append(("spec file", str(spec.source)))  # type: ignore[union-attr]
        sh = getattr(spec, "shadow", None)
        if sh is not None:
            if sh.labels:
                out += [("labels file", str(f)) for f in expand_inputs([sh.path(sh.labels)])]
            if sh.cloudwatch:
                prefix = str(sh.path(sh.cloudwatch))
                out += [("CloudWatch export", prefix + end)
                        for end in ("_results.json", "_queries.json")]
            if sh.endpoint_config:
                out.append(("endpoint config", str(sh.path(sh.endpoint_config))))
        return out

    def save_html(self, path_or_file: Any, *, plots: bool = True) -> None:
        """Write :meth:`to_html` to a path or a writable text file object.

        A path is written atomically (a crash leaves the old file, not half a page), and
        one of the report's inputs (:meth:`input_paths`) is refused with
        :class:`~abkit.errors.InputError`.
        """
        if hasattr(path_or_file, "write"):
            path_or_file.write(self.to_html(plots=plots))
            return
        from ..core.outputs import check_output, write_text_atomic

        check_output(path_or_file, self.input_paths(), option="save_html")
        write_text_atomic(path_or_file, self.to_html(plots=plots))

    def _repr_html_(self) -> str:
        from .render import render_html_fragment

        return render_html_fragment(self.to_dict())

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True)
class Report(ReportExports):
    """What abkit decided, why, and on what data.

    Attributes
    ----------
    decision : str
        ``"go"``, ``"no-go"`` or ``"inconclusive"``.
    reasons : tuple of str
        One line per reason for the decision.
    comparisons : tuple of ComparisonRecord
        Every metric in every treatment versus the control.
    """

    spec: ExperimentSpec
    inferred: list[str]
    source: dict[str, Any]
    reduced: Reduced
    control: str
    variants: list[str]
    outcome: Outcome
    warnings: list[str] = field(default_factory=list)
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    @property
    def decision(self) -> str:
        return self.outcome.decision

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.outcome.reasons

    @property
    def comparisons(self) -> tuple[ComparisonRecord, ...]:
        return self.outcome.comparisons

    @property
    def srm(self):
        return self.outcome.srm

    def comparison(self, metric: str, treatment: str | None = None) -> ComparisonRecord:
        """The comparison of ``metric`` (in ``treatment``, default: the only/first one)."""
        for c in self.comparisons:
            if c.metric.name == metric and (treatment is None or c.treatment == treatment):
                return c
        raise KeyError(f"no comparison for metric {metric!r}"
                       + (f" and treatment {treatment!r}" if treatment else ""))

    # ------------------------------------------------------------------ exports
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON document (see ``abkit/schemas/report-v1.json``)."""
        red = self.reduced
        srm = self.srm
        return {
            "schema_version": SCHEMA_VERSION,
            "abkit_version": _version(),
            "generated_at": self.generated_at,
            "strategy": self.spec.strategy,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "settings": {
                "alpha": self.spec.alpha,
                "confidence_level": self.spec.confidence_level,
                "correction": self.spec.correction,
                "srm_threshold": self.spec.srm_threshold,
                "granularity": self.spec.granularity,
            },
            "spec": {**self.spec.to_dict(), "digest": self.spec.digest(),
                     "source": self.spec.source},
            "inferred": list(self.inferred),
            "warnings": list(self.warnings),
            "input": dict(self.source),
            "data": {
                "rows_read": red.rows_read,
                "rows_used": red.rows_used,
                "rows_rejected": dict(sorted(red.rejected.items())),
                "rejected_columns": {k: dict(sorted(v.items()))
                                     for k, v in sorted(red.rejected_columns.items())},
                "reason_descriptions": describe(red.rejected),
                "unknown_variants": dict(sorted(red.unknown_variants.items())),
                "examples": dict(sorted(red.examples.items())),
                "units": {v: red.units.get(v, 0) for v in self.variants},
            },
            "srm": {
                "pvalue": srm.pvalue,
                "statistic": srm.statistic,
                "df": srm.df,
                "threshold": srm.threshold,
                "passed": srm.verdict,
                "expected": srm.expected,
                "observed": srm.observed,
            },
            "control": self.control,
            "treatments": {t: dict(v) for t, v in self.outcome.treatments.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
        }

    def to_frame(self):
        """One tidy row per comparison (pandas DataFrame)."""
        import pandas as pd

        rows = []
        for c in self.to_dict()["comparisons"]:
            row = {k: v for k, v in c.items() if k not in ("ci", "rel_ci", "cuped", "guardrail",
                                                           "diagnostics")}
            row["ci_low"] = c["ci"]["low"] if c["ci"] else None
            row["ci_high"] = c["ci"]["high"] if c["ci"] else None
            row["rel_ci_low"] = c["rel_ci"]["low"] if c["rel_ci"] else None
            row["rel_ci_high"] = c["rel_ci"]["high"] if c["rel_ci"] else None
            row["diagnostics"] = ",".join(d["code"] for d in c["diagnostics"])
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, figure=None):
        """Forest plot of the effects and the SRM check, as a two-panel Figure; a new Figure
        (no pyplot) unless ``figure`` is given."""
        from ..plot import report_figure

        return report_figure(self, figure=figure)

    def __repr__(self) -> str:
        return (f"<abkit.Report decision={self.decision!r} comparisons={len(self.comparisons)} "
                f"rows_used={self.reduced.rows_used}/{self.reduced.rows_read}>")
