"""Retry policies (`component.with_retry`): when a failed node is tried again, and after how long.

Each attempt is its own execution in ML Metadata (FAILED, FAILED, COMPLETE); a failed attempt's
outputs are ABANDONED by the publisher, so only the last attempt's are ever LIVE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace.compiler.ir import NodeIR


def retry_delay(policy: Mapping[str, Any], retry: int) -> float:
    """Seconds to wait before retry number `retry` (1 for the first): `backoff_seconds`, growing by
    `backoff_factor` each time, at most `max_backoff_seconds` (KFP's and Airflow's rule)."""
    delay = float(policy.get("backoff_seconds", 0.0)) * float(policy.get("backoff_factor", 2.0)) ** (retry - 1)
    return min(delay, float(policy.get("max_backoff_seconds", 3600.0)))


def next_retry(node: NodeIR, retries_done: int) -> float | None:
    """The wait before the node's next retry after `retries_done` retries failed too, or None when its
    policy allows no more."""
    policy = node.retry
    if not policy or retries_done >= int(policy.get("max_retries", 0)):
        return None
    return retry_delay(policy, retries_done + 1)
