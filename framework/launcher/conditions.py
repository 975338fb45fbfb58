"""Cond predicates evaluated at run time, on the live output artifacts of the run.

A node whose predicates do not all hold is not executed: it is recorded in ML Metadata as an
execution in state CANCELED with the custom property `skipped` (the reason, e.g.
"condition false: Evaluator.outputs['blessing'][0].custom_property('blessed') == 1 (it is 0)"), and
runners report it as SKIPPED. A false condition is not a failure: the run completes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from headrace.compiler.ir import NodeIR
from headrace.errors import HeadraceError
from headrace.launcher import driver
from headrace.launcher.runs import RunHandle
from headrace.metadata.store import Metadata
from headrace.metadata.values import get_value
from headrace.types.artifact import ValueArtifact
from headrace.types.channel import future_text, predicate_text

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ConditionError(HeadraceError):
    """A Cond predicate could not be evaluated (a missing property, an artifact index out of range,
    values that do not compare)."""


def _futures(predicate: dict[str, Any]) -> list[dict[str, Any]]:
    if "future" in predicate:
        return [predicate[side] for side in ("future", "right") if side in predicate]
    return [f for p in predicate["operands"] for f in _futures(p)]


def false_condition(md: Metadata, handle: RunHandle, node: NodeIR) -> str | None:
    """None if every predicate of the node holds; else why not (the reason a skip records).

    Raises:
        ConditionError: a predicate reads something that is not there, or values that do not compare.
    """
    producers = {f["producer"] for c in node.conditions for f in _futures(c)}
    for p in producers:
        if p not in handle.published and p not in handle.cached_outputs and p not in handle.node_contexts:
            raise ConditionError(
                f"The condition of '{node.id}' reads the outputs of '{p}', which has not run (run it first)."
            )
    outputs = driver.producer_outputs(md, handle, producers)
    for p in sorted(producers):
        if outputs[p] is None:
            skipped = driver.skipped_reason(md, handle, p)
            if skipped is not None:
                return f"upstream '{p}', which the condition reads, was skipped ({skipped})"
            raise ConditionError(
                f"The condition of '{node.id}' reads the outputs of '{p}', which has no successful execution in "
                f"run {handle.run_id}."
            )
    for predicate in node.conditions:
        seen: dict[str, Any] = {}
        if not _holds(md, predicate, outputs, seen):
            values = ", ".join(f"{k} is {v!r}" for k, v in seen.items())
            if len(seen) == 1:
                values = f"it is {next(iter(seen.values()))!r}"
            return f"condition false: {predicate_text(predicate)} ({values})"
    return None


def _holds(md: Metadata, predicate: dict[str, Any], outputs: dict[str, Any], seen: dict[str, Any]) -> bool:
    op = predicate["op"]
    if op == "and":
        return all(_holds(md, p, outputs, seen) for p in predicate["operands"])
    if op == "or":
        return any(_holds(md, p, outputs, seen) for p in predicate["operands"])
    if op == "not":
        return not _holds(md, predicate["operands"][0], outputs, seen)
    future = predicate["future"]
    value = _read(md, future, outputs[future["producer"]])
    seen[future_text(future)] = value
    if "right" in predicate:  # another future's reading
        right = predicate["right"]
        constant = _read(md, right, outputs[right["producer"]])
        seen[future_text(right)] = constant
    else:
        constant = predicate["constant"]
    try:
        return bool(_COMPARE[op](value, constant))
    except TypeError:
        raise ConditionError(
            f"Cannot evaluate {predicate_text(predicate)}: {future_text(future)} is {value!r} "
            f"({type(value).__name__}), which does not compare with {constant!r}."
        ) from None


def _read(md: Metadata, future: dict[str, Any], produced: dict[str, list[Any]]) -> Any:
    return read_future(md, future, produced, ConditionError)


def read_future(md: Metadata, future: dict[str, Any], produced: dict[str, list[Any]], error: type[Exception]) -> Any:
    """What a future reads, from the producer's output artifact protos (a value through the value
    artifact's own API); `error` is raised, saying what is missing, when it cannot be read."""
    text = future_text(future)
    arts = produced.get(future["output_key"], [])
    index = future["index"]
    if not -len(arts) <= index < len(arts):
        raise error(f"Cannot read {text}: that output has {len(arts)} artifact(s) in this run.")
    art = arts[index]
    what, *key = future["attribute"]
    if what == "uri":
        return art.uri
    if what == "value":
        loaded = md.artifact_from_proto(art)
        if isinstance(loaded, ValueArtifact):
            try:
                return loaded.value
            except (OSError, ValueError) as e:
                raise error(f"Cannot read {text}: the value of artifact #{art.id} is unreadable ({e}).") from None
        if "value" in art.custom_properties:
            return get_value(art.custom_properties["value"])
        raise error(f"Cannot read {text}: a {loaded.type_name} artifact has no value.")
    fields = art.custom_properties if what == "custom_property" else art.properties
    if key[0] not in fields:
        kind = "custom property" if what == "custom_property" else "property"
        raise error(
            f"Cannot read {text}: the artifact (#{art.id}) has no {kind} '{key[0]}'"
            f" (it has: {', '.join(sorted(fields)) or 'none'})."
        )
    return get_value(fields[key[0]])
