"""Regenerating the sample logs shipped in ``data/``: :func:`write_samples`."""

from __future__ import annotations

from pathlib import Path

from .ab import make_ab_log
from .files import write_log
from .rollout import make_rollout_log


def write_samples(folder: str | Path = "data") -> list[Path]:
    """Regenerate the sample logs shipped in ``data/``."""
    folder = Path(folder)
    return [
        write_log(make_ab_log(20000, seed=7), folder / "ab_example.csv"),
        write_log(make_ab_log(8000, seed=11, per_request=True), folder / "ab_requests.jsonl.gz"),
        write_log(make_ab_log(20000, seed=23, scenario="latency-regression"),
                  folder / "ab_latency_regression.csv"),
        write_log(make_rollout_log("canary", "regression", seed=3), folder / "canary.csv"),
        write_log(make_rollout_log("linear", "healthy", seed=5, rate=60.0, minutes=20.0,
                                   schedule=[(120.0 * i, 0.1 * (i + 1)) for i in range(9)]
                                   + [(1080.0, 1.0)], candidate="candidate",
                                   control="current"),
                  folder / "linear.csv.gz"),
        *_bluegreen_samples(folder),
    ]


def _bluegreen_samples(folder: Path) -> list[Path]:
    from .bluegreen import make_bluegreen_log

    return [write_log(make_bluegreen_log(sc, seed=seed, rate=0.25, history_hours=27,
                                         after_hours=3), folder / f"bluegreen_{sc}.csv.gz")
            for sc, seed in (("regression", 1), ("smoke", 2))]
