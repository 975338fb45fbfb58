"""Canonical JSON: one text per value (sorted keys, no spaces), for cache keys and comparisons."""

from __future__ import annotations

import json
from typing import Any


def json_default(value: Any) -> Any:
    """`json.dumps` default that rejects anything non-JSON with a clear message."""
    raise TypeError(f"{value!r} ({type(value).__name__}) is not JSON-serializable")


def dumps_canonical(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) for hashing and comparisons."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=json_default)
