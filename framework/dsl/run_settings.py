"""How a node runs: its retry policy, timeout and resources, as `BaseComponent.with_retry`,
`with_timeout` and `with_resources` take them (checked here, eagerly; the IR carries the result).

    trainer.with_retry(3, backoff_seconds=30).with_timeout(3600)
    trainer.with_resources(cpu="4", memory="16Gi", accelerator="nvidia-tesla-t4", accelerator_count=1)
"""

from __future__ import annotations

import math
import re
from typing import Any

from headrace.errors import DefinitionError

# Kubernetes quantities: CPU as cores or millicores ("2", "0.5", "500m"); memory with an SI or binary suffix.
_CPU_RE = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY_RE = re.compile(r"^\d+(\.\d+)?(E|P|T|G|M|K|k|Ei|Pi|Ti|Gi|Mi|Ki)?$")


def retry_policy(
    owner: str,
    max_retries: int,
    backoff_seconds: float = 0.0,
    backoff_factor: float = 2.0,
    max_backoff_seconds: float = 3600.0,
) -> dict[str, Any]:
    """A checked retry policy (the IR's `retry`)."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise DefinitionError(f"{owner}: with_retry(max_retries=...) takes a whole number >= 0, got {max_retries!r}.")
    numbers = {
        "backoff_seconds": backoff_seconds,
        "backoff_factor": backoff_factor,
        "max_backoff_seconds": max_backoff_seconds,
    }
    for name, v in numbers.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise DefinitionError(f"{owner}: with_retry({name}=...) takes a number >= 0, got {v!r}.")
    if backoff_factor < 1:
        raise DefinitionError(f"{owner}: with_retry(backoff_factor=...) must be at least 1, got {backoff_factor!r}.")
    return {"max_retries": max_retries, **{k: float(v) for k, v in numbers.items()}}


def timeout(owner: str, seconds: float) -> float:
    """A checked timeout in seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise DefinitionError(f"{owner}: with_timeout(seconds) takes a number of seconds > 0, got {seconds!r}.")
    return float(seconds)


def resources(
    owner: str,
    cpu: str | float | None = None,
    memory: str | int | None = None,
    accelerator: str | None = None,
    accelerator_count: int | None = None,
) -> dict[str, Any]:
    """Checked resource requests (the IR's `resources`), as Kubernetes quantities."""
    out: dict[str, Any] = {}
    quantities = {
        "cpu": (cpu, _CPU_RE, "cores as a number or millicores, e.g. 2, 0.5 or '500m'"),
        "memory": (memory, _MEMORY_RE, "bytes or a quantity like '512Mi', '4Gi' or '8G'"),
    }
    for name, (value, pattern, form) in quantities.items():
        if value is None:
            continue
        text = _quantity(value)
        if not pattern.match(text) or _is_zero(text):
            raise DefinitionError(f"{owner}: with_resources({name}=...) takes {form}; got {value!r}.")
        out[name] = text
    if accelerator is not None:
        if not isinstance(accelerator, str) or not accelerator.strip() or any(c.isspace() for c in accelerator):
            raise DefinitionError(
                f"{owner}: with_resources(accelerator=...) takes the accelerator's type, e.g. "
                f"'nvidia-tesla-t4'; got {accelerator!r}."
            )
        out["accelerator"] = accelerator
        out["accelerator_count"] = 1
    if accelerator_count is not None:
        if isinstance(accelerator_count, bool) or not isinstance(accelerator_count, int) or accelerator_count < 1:
            raise DefinitionError(
                f"{owner}: with_resources(accelerator_count=...) takes a whole number >= 1, got {accelerator_count!r}."
            )
        if accelerator is None:
            raise DefinitionError(
                f"{owner}: with_resources(accelerator_count=...) needs accelerator=... (its type, e.g. "
                "'nvidia-tesla-t4')."
            )
        out["accelerator_count"] = accelerator_count
    if not out:
        raise DefinitionError(f"{owner}: with_resources needs at least one of cpu, memory, accelerator.")
    return out


def _quantity(value: Any) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return value.strip() if isinstance(value, str) else repr(value)


def _is_zero(text: str) -> bool:
    digits = re.sub(r"[A-Za-z]+$", "", text)
    try:
        return float(digits) == 0
    except ValueError:
        return False
