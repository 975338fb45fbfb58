"""The IR of placeholders (`headrace.types.placeholder`), and their evaluation when a node runs.

A dynamic parameter is `{"$placeholder": EXPR, "ptype": "int"}` in a node's parameters (`ptype` the
parameter's type: 'int', 'float', 'str', 'bool', 'dict' or 'list'), EXPR one of
`{"op": "future", "future": {producer, output_key, index, attribute}}` (what an upstream output holds),
`{"op": "run", "key": "pipeline_run_id"}`, `{"op": "concat", "operands": [str or EXPR, ...]}`,
`{"op": "b64encode", "operands": [EXPR], "url_safe": bool}`. Readers check the shape (`check_expression_ir`);
the launcher evaluates it (`evaluate`) and checks the value against the parameter's type (`coerce_resolved`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from headrace.errors import IRError

PLACEHOLDER_KEY = "$placeholder"
RUN_KEYS = ("pipeline_run_id",)  # what `execution_invocation()` offers


def is_placeholder_ir(value: Any) -> bool:
    """Whether an IR parameter value is a dynamic parameter (`{"$placeholder": EXPR, "ptype": TYPE}`)."""
    return isinstance(value, dict) and isinstance(value.get(PLACEHOLDER_KEY), dict) and set(value) <= _IR_KEYS


_IR_KEYS = {PLACEHOLDER_KEY, "ptype"}
PTYPES = ("int", "float", "str", "bool", "dict", "list")


def expression_futures(expr: dict[str, Any]) -> list[dict[str, Any]]:
    """The futures (IR) an expression reads."""
    if expr.get("op") == "future":
        return [expr["future"]]
    return [f for o in expr.get("operands", ()) if isinstance(o, dict) for f in expression_futures(o)]


def expression_text(expr: dict[str, Any]) -> str:
    """An expression's IR as the Python that builds it."""
    from headrace.types.channel import future_text

    op = expr["op"]
    if op == "future":
        return future_text(expr["future"])
    if op == "run":
        return f"execution_invocation().{expr['key']}"
    parts = [json.dumps(o) if isinstance(o, str) else expression_text(o) for o in expr["operands"]]
    if op == "b64encode":
        return f"{parts[0]}.b64encode({'' if expr.get('url_safe', True) else 'url_safe=False'})"
    return " + ".join(parts)


def evaluate(expr: dict[str, Any], read: Any, run: dict[str, str]) -> Any:
    """The value of an expression, `read(future_ir)` giving what each future reads, `run` the facts
    about the run (`pipeline_run_id`).

    Raises:
        ValueError: a part of a concatenation or a Base64 operand is not text (or bytes for b64encode).
    """
    op = expr["op"]
    if op == "future":
        return read(expr["future"])
    if op == "run":
        return run[expr["key"]]
    if op == "concat":
        parts = []
        for o in expr["operands"]:
            value = o if isinstance(o, str) else evaluate(o, read, run)
            if not isinstance(value, str):
                raise ValueError(
                    f"{expression_text(o)} is {value!r} ({type(value).__name__}), which '+' cannot join to text"
                )
            parts.append(value)
        return "".join(parts)
    if op == "b64encode":
        value = evaluate(expr["operands"][0], read, run)
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes):
            raise ValueError(f"{expression_text(expr['operands'][0])} is {value!r}, not text to Base64-encode")
        encode = base64.urlsafe_b64encode if expr.get("url_safe", True) else base64.b64encode
        return encode(value).decode("ascii")
    raise ValueError(f"unknown expression operator {op!r}")


def check_expression_ir(expr: Any, where: str) -> dict[str, Any]:
    """An expression read back from the IR, its shape checked (IRError names `where`)."""
    if not isinstance(expr, dict) or not isinstance(expr.get("op"), str):
        raise IRError(f"Malformed IR: the placeholder of {where} must be an object with an 'op', got {expr!r:.80}.")
    op = expr["op"]
    if op == "future":
        f = expr.get("future")
        if not (
            isinstance(f, dict)
            and isinstance(f.get("producer"), str)
            and isinstance(f.get("output_key"), str)
            and isinstance(f.get("index"), int)
            and isinstance(f.get("attribute"), list)
            and f["attribute"]
            and all(isinstance(a, str) for a in f["attribute"])
        ):
            raise IRError(f"Malformed IR: the future of {where} is {f!r:.120}.")
        return {"op": op, "future": {k: f[k] for k in ("producer", "output_key", "index", "attribute")}}
    if op == "run":
        if expr.get("key") not in RUN_KEYS:
            raise IRError(f"Malformed IR: {where} reads the run's {expr.get('key')!r}, which is not one of {RUN_KEYS}.")
        return {"op": op, "key": expr["key"]}
    if op in ("concat", "b64encode"):
        operands = expr.get("operands")
        if not isinstance(operands, list) or not operands or (op == "b64encode" and len(operands) != 1):
            raise IRError(f"Malformed IR: the {op} of {where} needs its operands, got {operands!r:.80}.")
        checked = [o if isinstance(o, str) else check_expression_ir(o, where) for o in operands]
        out: dict[str, Any] = {"op": op, "operands": checked}
        if op == "b64encode":
            out["url_safe"] = bool(expr.get("url_safe", True))
        return out
    raise IRError(f"Malformed IR: unknown placeholder operator {op!r} in {where}.")


def coerce_resolved(owner: str, key: str, value: Any, base_type: str) -> Any:
    """A dynamic parameter's resolved value as the parameter's type (`base_type` by name: 'int', 'float',
    'str', 'bool', 'dict', 'list', or '' when unknown): ints widen to float, JSON text parses for a dict
    or list.

    Raises:
        ValueError: the value does not fit, naming the parameter.
    """
    if not base_type:
        return value
    if base_type in ("dict", "list") and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(
                f"parameter '{key}' of '{owner}' takes a {base_type}; the value {value!r:.80} is not JSON"
            ) from None
    if base_type == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = {"int": int, "float": float, "str": str, "bool": bool, "dict": dict, "list": list}[base_type]
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise ValueError(
            f"parameter '{key}' of '{owner}' takes a {base_type}; the value resolved is {value!r:.80} "
            f"({type(value).__name__})"
        )
    return value
