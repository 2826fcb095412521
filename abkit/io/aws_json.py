"""Loading the JSON files the AWS CLI writes (CloudWatch exports, endpoint configurations)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError


def _load(path: str | Path, what: str) -> dict:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no such file: {p}", f"give the {what} file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{p}: not a JSON {what} file ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a JSON object")
    return data
