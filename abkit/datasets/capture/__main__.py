"""``python -m abkit.datasets.capture OUTDIR [--seed N] [--requests N] [--hours N]``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
