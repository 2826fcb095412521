"""Writing a generated log in the format its file extension names: :func:`write_log`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_log(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` in the format named by the extension (.csv, .tsv, .parquet, .jsonl, +.gz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    # mtime 0: the same data give the same bytes (no timestamp in the gzip header)
    comp = {"method": "gzip", "mtime": 0} if name.endswith(".gz") else None
    stem = name[:-3] if comp else name
    if stem.endswith(".csv"):
        df.to_csv(path, index=False, compression=comp)
    elif stem.endswith(".tsv"):
        df.to_csv(path, index=False, sep="\t", compression=comp)
    elif stem.endswith(".parquet"):
        out = df.copy()
        for c in out.columns:
            if out[c].dtype == object:  # mixed dirty values: keep them as text, None as null
                out[c] = out[c].map(lambda x: None if x is None else str(x))
        out.to_parquet(path, index=False)
    elif stem.endswith((".jsonl", ".ndjson")):
        df.to_json(path, orient="records", lines=True, compression=comp)
    else:
        raise ValueError(f"cannot tell the format of {path} from its extension")
    return path
