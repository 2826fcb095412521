"""The command line of the generator: :func:`main`."""

from __future__ import annotations

import argparse
import sys

from .design import DEFAULT_REQUESTS, DEFAULT_SEED, DRIFT_ONSET_HOUR, HOURS
from .generate import write_shadow_capture


def main(argv: list[str] | None = None) -> int:
    """``python -m abkit.datasets_capture OUTDIR [--seed N] [--requests N] [--hours N]``."""
    ap = argparse.ArgumentParser(
        prog="python -m abkit.datasets_capture",
        description="Write a seeded SageMaker shadow-test tree (Data Capture, ground truth, "
                    "CloudWatch exports, endpoint configs, manifest).")
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--requests", type=int, default=DEFAULT_REQUESTS,
                    help="requests per endpoint (default %(default)s)")
    ap.add_argument("--hours", type=int, default=HOURS)
    ap.add_argument("--drift-hour", type=int, default=DRIFT_ONSET_HOUR)
    a = ap.parse_args(argv)
    try:
        m = write_shadow_capture(a.outdir, seed=a.seed, requests=a.requests, hours=a.hours,
                                 drift_hour=a.drift_hour)
    except (ValueError, FileExistsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for ep, t in m["endpoints"].items():
        print(f"{ep}: {t['pairs']} pairs, {t['labels']['labelled_pairs']} labelled, "
              f"AUC live {t['quality']['auc']['live']} shadow {t['quality']['auc']['shadow']}",
              file=sys.stderr)
    print(f"wrote {a.outdir}", file=sys.stderr)
    return 0
