"""``python -m abkit.datasets [FOLDER]``: regenerate the shipped sample logs (default ``data``)."""

from __future__ import annotations

from pathlib import Path

from .cloudwatch import write_cloudwatch_samples
from .samples import write_samples

if __name__ == "__main__":  # pragma: no cover
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "data"
    for p in write_samples(target) + write_cloudwatch_samples(Path(target) / "cloudwatch"):
        print(p)
