"""Values a run gives, not the pipeline: runtime parameters, and the final status an exit handler gets.

    epochs = RuntimeParameter("epochs", int, default=10)
    trainer = train(epochs=epochs)
    notify = notify_team(status=FinalStatusStr())
    Pipeline("p", root, [trainer], exit_handler=notify)

A runtime parameter's value is given when a run starts (`headrace run FILE --param epochs=20`,
`runner.run(pipeline, parameters={"epochs": 20})`, a Kubeflow pipeline input, an Airflow DAG param);
it is recorded on the run and enters the cache key as any parameter value does. In the IR, a
parameter that takes one is `{"$runtime_parameter": NAME}`; FinalStatusStr is `{"$final_status": true}`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from headrace.errors import DefinitionError

RUNTIME_PARAMETER_KEY = "$runtime_parameter"
FINAL_STATUS_KEY = "$final_status"
PARAMETER_TYPES = ("int", "float", "str", "bool")
_PTYPES: dict[type, str] = {int: "int", float: "float", str: "str", bool: "bool"}
_BY_NAME: dict[str, type] = {v: k for k, v in _PTYPES.items()}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class RuntimeParameter:
    """A parameter value given when the run starts (TFX's `RuntimeParameter`).

    Args:
        name: The parameter's name on the command line and in the orchestrators (letters, digits,
            '_', '-').
        ptype: int, float, str or bool.
        default: The value when the run gives none; without a default the run must give one.
        description: For people (Kubeflow and Airflow show it).
    """

    def __init__(self, name: str, ptype: type | None = None, default: Any = None, description: str | None = None):
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise DefinitionError(
                f"RuntimeParameter name {name!r} is not valid: use letters, digits, '_' and '-', starting with "
                "a letter."
            )
        if ptype is None and default is not None:
            ptype = type(default)
        if ptype not in _PTYPES:
            raise DefinitionError(f"RuntimeParameter '{name}': ptype must be int, float, str or bool, got {ptype!r}.")
        self.name = name
        self.ptype: type = ptype
        self.description = description
        self.default = None if default is None else coerce(name, self.ptype, default)

    @property
    def type_name(self) -> str:
        """'int', 'float', 'str' or 'bool'."""
        return _PTYPES[self.ptype]

    def declaration(self) -> dict[str, Any]:
        """What the IR records: the type, and the default if there is one."""
        out: dict[str, Any] = {"ptype": self.type_name}
        if self.default is not None:
            out["default"] = self.default
        if self.description:
            out["description"] = self.description
        return out

    def to_ir(self) -> dict[str, str]:
        """The parameter's value in the IR: a reference the launcher replaces when the run starts."""
        return {RUNTIME_PARAMETER_KEY: self.name}

    def __repr__(self) -> str:
        default = "" if self.default is None else f", default={self.default!r}"
        return f"RuntimeParameter({self.name!r}, {self.type_name}{default})"


class FinalStatusStr(str):
    """The run's final status as a JSON string, for a parameter of an exit handler (TFX's
    `FinalStatusStr`, a str too): {"state": "SUCCEEDED" or "FAILED", "error": {"message": ...},
    "pipelineJobResourceName": the run id, "pipelineTaskName": the exit handler's id}."""

    def to_ir(self) -> dict[str, bool]:
        return {FINAL_STATUS_KEY: True}

    def __repr__(self) -> str:
        return "FinalStatusStr()"


def coerce(name: str, ptype: type, value: Any) -> Any:
    """`value` as a `ptype` parameter's value: text (from a command line) is parsed; a value of another
    type is refused, naming the parameter."""
    if isinstance(value, str) and ptype is not str:
        text = value.strip()
        try:
            if ptype is bool:
                lowered = text.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                return lowered in ("true", "1", "yes")
            parsed = ptype(text)
        except ValueError:
            raise DefinitionError(
                f"Runtime parameter '{name}' is {_article(ptype)}; {value!r} is not one. Give e.g. "
                f"{name}={_example(ptype)}."
            ) from None
        if ptype is float and not math.isfinite(parsed):
            raise DefinitionError(f"Runtime parameter '{name}' must be a finite number, got {value!r}.")
        return parsed
    if ptype is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, ptype) or (isinstance(value, bool) and ptype is not bool):
        raise DefinitionError(
            f"Runtime parameter '{name}' is {_article(ptype)}; got {value!r} ({type(value).__name__})."
        )
    return value


def _article(ptype: type) -> str:
    return {int: "an int", float: "a float", str: "a str", bool: "a bool"}[ptype]


def _example(ptype: type) -> str:
    return {int: "10", float: "0.5", str: "text", bool: "true"}[ptype]


def check_value_for(owner: str, key: str, value: Any, base_type: type) -> bool:
    """Whether `value` is a runtime value (a RuntimeParameter of the parameter's type, or
    FinalStatusStr for a str), raising a clear error for a RuntimeParameter of the wrong type."""
    if isinstance(value, FinalStatusStr):
        if base_type is not str:
            raise DefinitionError(f"{owner}: parameter '{key}' is not a str, so it cannot take FinalStatusStr().")
        return True
    if not isinstance(value, RuntimeParameter):
        return False
    compatible = value.ptype is base_type or (base_type is float and value.ptype is int)
    if not compatible:
        raise DefinitionError(
            f"{owner}: parameter '{key}' expects {base_type.__name__}, got {value!r}; declare the runtime "
            f"parameter with ptype={base_type.__name__}."
        )
    return True


def runtime_value_ir(value: Any) -> Any:
    """A parameter value as the IR holds it (a runtime value as its reference)."""
    return value.to_ir() if isinstance(value, (RuntimeParameter, FinalStatusStr)) else value


def ptype_named(name: str) -> type:
    """The Python type of an IR type name ('int', 'float', 'str', 'bool')."""
    return _BY_NAME[name]


def runtime_parameter_name(value: Any) -> str | None:
    """The name of the runtime parameter an IR parameter value refers to, or None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(RUNTIME_PARAMETER_KEY), str):
        return str(value[RUNTIME_PARAMETER_KEY])
    return None


def is_final_status(value: Any) -> bool:
    """Whether an IR parameter value stands for the run's final status."""
    return isinstance(value, dict) and len(value) == 1 and value.get(FINAL_STATUS_KEY) is True


def final_status_json(state: str, run_id: str, node_id: str, error: str | None) -> str:
    """The final status an exit handler receives, as KFP's PipelineTaskFinalStatus has it."""
    status: dict[str, Any] = {
        "state": state,
        "error": {"message": error} if error else {},
        "pipelineJobResourceName": run_id,
        "pipelineTaskName": node_id,
    }
    return json.dumps(status, sort_keys=True)
