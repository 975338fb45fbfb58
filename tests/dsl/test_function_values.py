"""What a function component accepts for values, as TFX's @component does: bytes, Optional outputs
(None returned for them), and typed JSON (Dict/List) checked when channels are wired and when
values are returned. Run end to end on LocalDagRunner, one channel feeding two inputs included."""

# ruff: noqa: UP006, UP035, UP045 - the typing forms TFX code uses

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from headrace import DefinitionError, OutputDict, Pipeline, component
from headrace.dsl.function_component import call_function
from headrace.orchestrators import LocalDagRunner
from headrace.types import standard_artifacts


@component
def Inject() -> OutputDict(
    a=int,
    b=bytes,
    maybe=Optional[str],
    nested=Dict[str, List[int]],
    floats=List[float],
):
    return {"a": 2, "b": b"\x00raw\xff", "maybe": None, "nested": {"x": [1, 2]}, "floats": [0.5]}


@component
def Use(
    a: int,
    twice: int,
    b: bytes,
    maybe: str | None,
    nested: Dict[str, List[Any]],
) -> OutputDict(summary=str):
    return {"summary": f"{a + twice}|{b!r}|{maybe}|{sorted(nested['x'])}"}


@component
def WantsInts(values: List[int]) -> OutputDict(n=int):
    return {"n": len(values)}


def test_bytes_optional_none_and_nested_json_run_end_to_end_with_one_channel_feeding_two_inputs(tmp_path):
    inject = Inject()
    use = Use(
        a=inject.outputs["a"],
        twice=inject.outputs["a"],  # the same channel into two inputs of one node
        b=inject.outputs["b"],
        maybe=inject.outputs["maybe"],
        nested=inject.outputs["nested"],
    )
    result = LocalDagRunner(quiet=True).run(Pipeline("values", str(tmp_path), [use]))
    assert result.state == "COMPLETE"
    [uri] = result.nodes["Use"].outputs["summary"]
    summary = standard_artifacts.String()
    summary.uri = uri
    assert summary.value == "4|b'\\x00raw\\xff'|None|[1, 2]"
    again = LocalDagRunner(quiet=True).run(Pipeline("values", str(tmp_path), [use]))
    assert set(again.node_states.values()) == {"CACHED"}


def test_a_json_channel_of_the_wrong_element_type_is_a_type_error_when_wired():
    inject = Inject()
    with pytest.raises(TypeError, match=r"input 'values' expects List\[int\].*carries List\[float\]"):
        WantsInts(values=inject.outputs["floats"])
    with pytest.raises(DefinitionError):  # it is a definition error too
        WantsInts(values=inject.outputs["floats"])


def test_returned_values_are_checked_against_their_types():
    outs = {k: [ch.type()] for k, ch in Inject().outputs.items()}

    @component
    def BadNested() -> OutputDict(nested=Dict[str, List[int]]):
        return {"nested": {"x": [1.0]}}

    with pytest.raises(TypeError, match=r"incompatible with output type Dict\[str, List\[int\]\]"):
        call_function(BadNested.FUNCTION, {}, {"nested": outs["nested"]}, {})

    @component
    def NoneForRequired() -> OutputDict(a=int):
        return {"a": None}

    with pytest.raises(TypeError, match=r"returned None for output 'a'; declare it Optional"):
        call_function(NoneForRequired.FUNCTION, {}, {"a": outs["a"]}, {})

    @component
    def NotBytes() -> OutputDict(b=bytes):
        return {"b": "text"}

    with pytest.raises(TypeError, match="for output 'b'"):
        call_function(NotBytes.FUNCTION, {}, {"b": outs["b"]}, {})


def test_a_non_json_container_type_is_refused_at_decoration():
    with pytest.raises(DefinitionError, match=r"not a JSON type"):

        @component
        def Bad(values: Dict[int, str]) -> OutputDict(n=int):
            return {"n": 0}
