"""Scenario 12 (issue 11): fuzzing the IR loader and the component-spec / placeholder parsers.

Hypothesis generates JSON-like values (recursive: None, bools, ints, floats, text, lists, dicts),
raw text, and mutations of the valid golden IRs (a value anywhere in the document replaced, a key
deleted or added). Each target must either accept the input or raise a typed headrace error
(a subclass of HeadraceError: IRError for the loader, DefinitionError for definitions); anything
else (KeyError, AttributeError, RecursionError, a plain ValueError...) is a violation. Every
example runs under a 10 s alarm: a hang is a violation too. An IR the loader accepts must also
survive what every runner does next (dump and load back to the same IR, each node's kind, the
downstream closure).

Budget: `EXAMPLES` examples per target under `make reliability`, `SHORT` in `make test`.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _reliability import record, trials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headrace import (
    ChannelParameter,
    ComponentSpec,
    ExecutionParameter,
    HeadraceError,
    OutputArtifact,
    OutputDict,
    Parameter,
    Pipeline,
    component,
    standard_artifacts,
)
from headrace.compiler import compile_component, compile_pipeline
from headrace.compiler.ir import PipelineIR, load
from headrace.components import proto
from headrace.dsl import placeholders
from headrace.dsl.container_component import create_container_component
from headrace.dsl.docker_config import docker_config
from headrace.types import Channel
from headrace.types.placeholder_ir import PLACEHOLDER_KEY, evaluate, expression_text, is_placeholder_ir

EXAMPLES = trials(2000, 60)
TIMEOUT_S = 10
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
VALID_IRS = [json.loads((GOLDEN / name).read_text()) for name in ("hello_pipeline.json", "container_pipeline.json")]


def _dynamic_ir() -> dict[str, Any]:
    """A valid IR with dynamic parameters (a future, text joined to one and Base64-encoded, the run id)."""

    @component
    def Make(n: OutputArtifact[standard_artifacts.Integer], s: OutputArtifact[standard_artifacts.String]):
        pass

    @component
    def Use(n: Parameter[int], text: Parameter[str], run: Parameter[str]) -> OutputDict(out=str):  # type: ignore[valid-type]
        return {"out": ""}

    make = Make()
    text = ("gs://" + make.outputs["s"].future()[0].value + "/x").b64encode()
    use = Use(n=make.outputs["n"].future()[0].value, text=text, run=placeholders.execution_invocation().pipeline_run_id)
    return json.loads(compile_pipeline(Pipeline("dyn", "/fuzz/root", [use])).dump())


VALID_IRS.append(_dynamic_ir())

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS, lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=8), c, max_size=5), max_leaves=25
)
KEYS = st.sampled_from(
    [
        "ir_version", "nodes", "pipeline_name", "pipeline_root", "id", "component_type", "executor", "inputs",
        "outputs", "parameters", "upstream", "enable_cache", "file_inputs", "conditions", "artifact_type", "name",
        "class_path", "properties", "producer", "output_key", "optional", "op", "future", "operands", "constant",
        "index", "attribute", "kind", "placeholder", "items", "image", "command", "module", "qualname", "payload",
        "$placeholder", "ptype", "key", "url_safe",
    ]
)  # fmt: skip


class Hang(Exception):
    """An example ran past the alarm."""


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Stats:
    examples: dict[str, int] = {}
    accepted: dict[str, int] = {}
    violations: list[str] = []
    seconds: dict[str, float] = {}


def _check(target: str, call: Callable[[], Any], shown: Any) -> None:
    """Runs one example: accepted or a HeadraceError; anything else, or a hang, is a violation."""
    Stats.examples[target] = Stats.examples.get(target, 0) + 1
    start = time.monotonic()
    try:
        with _alarm(TIMEOUT_S):
            call()
        Stats.accepted[target] = Stats.accepted.get(target, 0) + 1
    except HeadraceError:
        pass
    except Exception as e:  # noqa: BLE001 - an untyped error is exactly what this scenario counts
        Stats.violations.append(f"{target}: {type(e).__name__}: {str(e)[:160]} <- {str(shown)[:200]}")
    finally:
        Stats.seconds[target] = Stats.seconds.get(target, 0.0) + time.monotonic() - start


def _use_ir(ir: PipelineIR) -> None:
    """What every runner does with a loaded IR before running a node."""
    if load(ir.dump()).dump() != ir.dump():  # compared as text: a NaN parameter is not equal to itself
        raise AssertionError("dump/load changed the IR")
    for node in ir.nodes:
        _ = node.kind
        for value in node.parameters.values():  # what the launcher evaluates when the node runs
            if is_placeholder_ir(value):
                expression_text(value[PLACEHOLDER_KEY])
                evaluate(value[PLACEHOLDER_KEY], lambda future: "text", {"pipeline_run_id": "run"})
        for item in node.executor.get("command", []) if node.kind == "container" else []:
            placeholders.from_ir(item)
    ir.downstream_closure({n.id for n in ir.nodes[:1]})


def _load_text(text: str) -> None:
    _use_ir(load(text))


def _from_dict(data: Any) -> None:
    _use_ir(PipelineIR.from_dict(data))


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


# -- the IR loader ----------------------------------------------------------------------------------------
@SETTINGS
@given(st.one_of(st.text(max_size=200), JSON.map(json.dumps), st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)))
def fuzz_load_text(text: str) -> None:
    _check("ir.load(text)", lambda: _load_text(text), text)


@SETTINGS
@given(JSON | st.dictionaries(KEYS, JSON, max_size=8).map(lambda d: {**d, "ir_version": 3}))
def fuzz_from_dict(data: Any) -> None:
    _check("PipelineIR.from_dict(json)", lambda: _from_dict(data), data)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


def _mutate(doc: Any, data: st.DataObject) -> Any:
    doc = json.loads(json.dumps(doc))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths[1:]))
        *head, last = path
        parent = doc
        for part in head:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[last] = data.draw(JSON)
        elif action == "delete":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][data.draw(KEYS | st.text(max_size=6))] = data.draw(JSON)
        elif isinstance(parent[last], list):
            parent[last].append(data.draw(JSON))
    return doc


@SETTINGS
@given(st.sampled_from(VALID_IRS), st.data())
def fuzz_mutated_ir(valid: dict[str, Any], data: st.DataObject) -> None:
    doc = _mutate(valid, data)
    _check("PipelineIR.from_dict(mutated golden IR)", lambda: _from_dict(doc), doc)
    _check("ir.load(mutated golden IR text)", lambda: _load_text(json.dumps(doc)), doc)


# -- placeholders, specs, container components, docker config, proto configs ---------------------------------
PLACEHOLDER_ITEMS = JSON | st.fixed_dictionaries(
    {"placeholder": st.sampled_from(["input_value", "exec_property", "input_uri", "output_uri", "concat", "x"])},
    optional={"name": JSON, "items": st.lists(JSON, max_size=3)},
)


@SETTINGS
@given(PLACEHOLDER_ITEMS)
def fuzz_placeholder_from_ir(item: Any) -> None:
    _check("placeholders.from_ir", lambda: placeholders.from_ir(item), item)


class _Spec(ComponentSpec):
    INPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"model": ChannelParameter(type=standard_artifacts.Model)}
    PARAMETERS = {
        "steps": ExecutionParameter(type=int),
        "rate": ExecutionParameter(type=float, optional=True),
        "name": ExecutionParameter(type=str, optional=True),
        "config": ExecutionParameter(type=dict[str, Any], optional=True),
        "flags": ExecutionParameter(type=list[str], optional=True),
    }


SPEC_VALUES = (
    JSON
    | st.sampled_from([standard_artifacts.Examples, standard_artifacts.Model, standard_artifacts.Schema]).map(
        lambda t: Channel(type=t)
    )
    | st.sampled_from([object(), print, b"bytes", (1, 2), {1, 2}])
)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["examples", "model", "steps", "rate", "name", "config", "flags", "exampels", "x"]),
        SPEC_VALUES,
        max_size=6,
    )
)
def fuzz_component_spec(kwargs: dict[str, Any]) -> None:
    _check("ComponentSpec(**kwargs)", lambda: _Spec(**kwargs), kwargs)


TYPES = st.sampled_from([int, float, str, bool, dict, list, bytes, object, None, "int", standard_artifacts.Examples, 3])
ARTIFACT_TYPES = st.sampled_from([standard_artifacts.Examples, standard_artifacts.Model, int, "Examples", None, object])
COMMAND_ITEMS = (
    st.text(max_size=8)
    | st.sampled_from(
        [
            placeholders.InputUriPlaceholder("examples"),
            placeholders.OutputUriPlaceholder("model"),
            placeholders.InputValuePlaceholder("examples"),
            placeholders.ExecPropertyPlaceholder("steps"),
            placeholders.InputUriPlaceholder("missing"),
            placeholders.exec_property("unknown"),
        ]
    )
    | JSON
)


@SETTINGS
@given(
    name=st.text(max_size=10) | JSON,
    image=st.text(max_size=12) | JSON,
    command=st.lists(COMMAND_ITEMS, max_size=5) | JSON,
    inputs=st.dictionaries(st.text(max_size=8), ARTIFACT_TYPES, max_size=2) | JSON,
    outputs=st.dictionaries(st.text(max_size=8), ARTIFACT_TYPES, max_size=2) | JSON,
    parameters=st.dictionaries(st.text(max_size=8), TYPES, max_size=2) | JSON,
    kwargs=st.dictionaries(st.sampled_from(["examples", "steps", "model", "x"]), SPEC_VALUES, max_size=3),
)
def fuzz_container_component(
    name: Any, image: Any, command: Any, inputs: Any, outputs: Any, parameters: Any, kwargs: dict[str, Any]
) -> None:
    def make() -> None:
        cls = create_container_component(name, image, command, inputs, outputs, parameters)
        node = compile_component(cls(**kwargs))
        for item in node.executor.get("command", []):
            placeholders.from_ir(item)

    _check("create_container_component + compile", make, (name, image, command, inputs, outputs, parameters, kwargs))


DOCKER_KEYS = st.sampled_from(
    ["docker_server_url", "name", "privileged", "environment", "user", "volumes", "additional_run_args",
     "timeout_seconds", "uid", "username", "bind", "mode", "x"]
)  # fmt: skip


@SETTINGS
@given(JSON | st.dictionaries(DOCKER_KEYS, JSON | st.dictionaries(DOCKER_KEYS | st.text(max_size=5), JSON), max_size=5))
def fuzz_docker_config(config: Any) -> None:
    _check("docker_config", lambda: docker_config(config, "Node"), config)


PROTO_MESSAGES = [getattr(proto, n) for n in proto.__all__ if hasattr(getattr(proto, n), "FromString")]


@SETTINGS
@given(st.sampled_from(PROTO_MESSAGES), st.data())
def fuzz_proto_config_dict(message: type, data: st.DataObject) -> None:
    fields = [f.name for f in message.DESCRIPTOR.fields]  # type: ignore[attr-defined]
    keys = st.sampled_from(fields) | st.text(max_size=6) if fields else st.text(max_size=6)
    value = data.draw(JSON | st.dictionaries(keys, JSON | st.dictionaries(st.text(max_size=6), JSON), max_size=4))
    _check("proto.config_dict", lambda: proto.config_dict("Node", "config", value, message), (message, value))


TARGETS = [
    fuzz_load_text,
    fuzz_from_dict,
    fuzz_mutated_ir,
    fuzz_placeholder_from_ir,
    fuzz_component_spec,
    fuzz_container_component,
    fuzz_docker_config,
    fuzz_proto_config_dict,
]


def _valid_documents_load() -> list[str]:
    """The control: the loader's strictness must not refuse real IRs, the golden ones and the
    one-node IRs the Kubeflow entrypoint reads (they name upstream nodes that run elsewhere)."""
    refused = []
    for doc in VALID_IRS:
        try:
            ir = PipelineIR.from_dict(doc)
            for node in ir.nodes:
                one = {**doc, "nodes": [n for n in doc["nodes"] if n["id"] == node.id]}
                PipelineIR.from_dict(one)
        except HeadraceError as e:
            refused.append(f"a valid IR was refused: {e}")
    return refused


def test_fuzzing() -> None:
    Stats.examples, Stats.accepted, Stats.violations, Stats.seconds = {}, {}, [], {}
    Stats.violations += _valid_documents_load()
    for target in TARGETS:
        target()
    total = sum(Stats.examples.values())
    worst = max(Stats.seconds.values())
    unique = sorted({v.split(" <- ")[0] for v in Stats.violations})
    record(
        12,
        "Fuzzing the IR loader and the component-spec / placeholder parsers",
        total,
        f"{total} generated inputs over {len(Stats.examples)} targets ({EXAMPLES} Hypothesis examples per target; "
        f"JSON-like recursive values, raw text, mutated golden IRs), each under a {TIMEOUT_S} s alarm",
        len(Stats.violations),
        f"{len(Stats.violations)} untyped errors or hangs; accepted {sum(Stats.accepted.values())}, "
        f"the rest refused with a HeadraceError",
        {
            "examples_per_target": Stats.examples,
            "accepted_per_target": Stats.accepted,
            "seconds_per_target": {k: round(v, 2) for k, v in Stats.seconds.items()},
            "slowest_target_total_s": round(worst, 2),
            "budget": f"{EXAMPLES} examples per Hypothesis target (full 2000, short 60); alarm {TIMEOUT_S} s each",
            "violations": unique[:30],
        },
    )
    assert not Stats.violations, "untyped errors or hangs:\n" + "\n".join(unique[:30])
