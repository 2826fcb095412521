"""Compatibility: :func:`analyze` and :func:`reduce_logs` live in :mod:`abkit.pipeline`."""

from .pipeline import analyze, reduce_logs

__all__ = ["analyze", "reduce_logs"]
