"""Loading the JSON files the AWS CLI writes (CloudWatch exports, endpoint configurations)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from .sources import regular_file

#: CloudWatch exports and endpoint configurations are small; a larger file is refused
MAX_JSON_BYTES = 256 * 1024 * 1024


def _load(path: str | Path, what: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}", f"give the {what} file")
    regular_file(p, f"{what} file")  # a FIFO would block forever
    if p.stat().st_size > MAX_JSON_BYTES:
        raise InputError(f"{p}: {p.stat().st_size:,} bytes is more than the "
                         f"{MAX_JSON_BYTES >> 20} MiB a {what} file may hold",
                         "export fewer series or a shorter period per file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no such file: {p}", f"give the {what} file") from None
    except RecursionError:
        raise InputError(f"{p}: the JSON is nested too deeply to read ({what})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{p}: not a JSON {what} file ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a JSON object")
    return data
