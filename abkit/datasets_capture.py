"""Compatibility alias of :mod:`abkit.datasets.capture` (the seeded SageMaker shadow-test data).

``from abkit.datasets_capture import ...`` and ``python -m abkit.datasets_capture OUTDIR`` keep
working; new code should use ``abkit.datasets.capture``.
"""

from __future__ import annotations

from .datasets import capture as _capture
from .datasets.capture import *  # noqa: F401,F403
from .datasets.capture import __all__, main  # noqa: F401


def __getattr__(name: str):
    return getattr(_capture, name)


if __name__ == "__main__":
    raise SystemExit(main())
