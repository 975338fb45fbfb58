"""`@component`: a component from a typed Python function."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from headrace.dsl.annotations import BeamPipeline, _ArtifactAnnotation, _OutputDictAnnotation, _ParameterAnnotation
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import FunctionExecutorSpec
from headrace.dsl.user_modules import pickle_by_value, users_modules
from headrace.errors import DefinitionError
from headrace.types import json_types
from headrace.types import standard_artifacts as sa
from headrace.types.artifact import NULL_PROPERTY, Artifact, ValueArtifact
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

# Plain-typed arguments and OutputDict fields map to value artifacts.
_VALUE_TYPES: dict[Any, type[ValueArtifact]] = {
    int: sa.Integer,
    float: sa.Float,
    str: sa.String,
    bool: sa.Boolean,
    bytes: sa.Bytes,
    dict: sa.JsonValue,
    list: sa.JsonValue,
}


class ArgKinds(typing.NamedTuple):
    """How each function argument is fed, derived from its annotations."""

    inputs: dict[str, ChannelParameter]
    outputs: dict[str, ChannelParameter]
    parameters: dict[str, ExecutionParameter]
    artifact_args: frozenset[str]  # args that receive the Artifact object itself
    value_args: frozenset[str]  # args that receive a value artifact's value
    returned: frozenset[str]  # output keys filled from the returned dict
    optional_returned: frozenset[str] = frozenset()  # returned keys that may be None (Optional[...])
    json_returned: dict[str, Any] = {}  # returned keys with a typed JSON value: key -> Dict[str, int] etc.
    beam_arg: str | None = None  # the argument that receives the Beam pipeline (BeamPipeline)


def arg_kinds(func: Callable[..., Any]) -> ArgKinds:
    """A component function's inputs, outputs and parameters, read from its signature once (at
    decoration) and kept on the function, so they travel with it to executor processes (where
    string annotations could not be evaluated again)."""
    kinds = getattr(func, "_headrace_kinds", None)
    if not isinstance(kinds, ArgKinds):
        kinds = _read_signature(func)
        try:
            func._headrace_kinds = kinds  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
    return kinds


def _read_signature(func: Callable[..., Any]) -> ArgKinds:
    name = func.__name__
    try:
        hints = inspect.get_annotations(func, eval_str=True)
    except Exception as e:
        raise DefinitionError(f"@component {name}: cannot evaluate annotations: {e}") from e
    inputs: dict[str, ChannelParameter] = {}
    outputs: dict[str, ChannelParameter] = {}
    params: dict[str, ExecutionParameter] = {}
    artifact_args, value_args, returned = set(), set(), set()
    beam_arg: str | None = None
    for arg, p in inspect.signature(func).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DefinitionError(f"@component {name}: *args/**kwargs are not supported ('{arg}').")
        raw = hints.get(arg, inspect.Parameter.empty)
        ann = _strip_optional(raw)
        has_default = p.default is not inspect.Parameter.empty
        if isinstance(ann, _ArtifactAnnotation):
            if ann.kind == "InputArtifact":
                if has_default and p.default is not None:
                    raise DefinitionError(f"@component {name}: input artifact '{arg}' may only default to None.")
                inputs[arg] = ChannelParameter(ann.type, optional=has_default)
            else:
                outputs[arg] = ChannelParameter(ann.type)
            artifact_args.add(arg)
        elif isinstance(ann, _ParameterAnnotation):
            params[arg] = ExecutionParameter(ann.type, optional=has_default)
        elif _is_beam_pipeline(ann):
            _check_beam_arg(name, arg, ann.annotation_text, p.default, beam_arg)
            beam_arg = arg
        elif (typing.get_origin(ann) or ann) in _VALUE_TYPES:
            base = typing.get_origin(ann) or ann
            if base in (dict, list) and typing.get_args(ann) and not json_types.is_json_type(ann):
                raise DefinitionError(
                    f"@component {name}: argument '{arg}' has type {json_types.type_name(ann)}, which is not a JSON "
                    "type; use Dict[str, X] or List[X] with X one of int, float, str, bool, Any or a nested Dict/List."
                )
            inputs[arg] = ChannelParameter(
                _VALUE_TYPES[base],
                optional=has_default or ann is not raw,  # Optional[...] inputs may be left out, as in TFX
                json_type=raw if json_types.is_json_type(ann) else None,
            )
            value_args.add(arg)
        elif ann is inspect.Parameter.empty:
            raise DefinitionError(
                f"@component {name}: argument '{arg}' has no annotation; use InputArtifact[...], "
                "OutputArtifact[...], Parameter[...], BeamPipeline or a plain int/float/str/bool/dict/list."
            )
        else:
            raise DefinitionError(
                f"@component {name}: argument '{arg}' has unsupported annotation {ann!r}; use InputArtifact[...], "
                "OutputArtifact[...], Parameter[...], BeamPipeline or a plain int/float/str/bool/dict/list."
            )
    ret = hints.get("return", None)
    optional_returned: set[str] = set()
    json_returned: dict[str, Any] = {}
    for key, hint in _return_fields(name, ret).items():
        if key in inputs or key in outputs or key in params:
            raise DefinitionError(f"@component {name}: returned output '{key}' clashes with an argument name.")
        base_hint = _strip_optional(hint)
        if base_hint is not hint:
            optional_returned.add(key)
        json_type = base_hint if json_types.is_json_type(base_hint) else None
        if json_type is not None:
            json_returned[key] = json_type
        outputs[key] = ChannelParameter(_VALUE_TYPES[typing.get_origin(base_hint) or base_hint], json_type=json_type)
        returned.add(key)
    return ArgKinds(
        inputs,
        outputs,
        params,
        frozenset(artifact_args),
        frozenset(value_args),
        frozenset(returned),
        frozenset(optional_returned),
        json_returned,
        beam_arg,
    )


def _is_beam_pipeline(ann: Any) -> typing.TypeGuard[type[BeamPipeline]]:
    return inspect.isclass(ann) and issubclass(ann, BeamPipeline)


def _check_beam_arg(name: str, arg: str, spelled: str, default: Any, earlier: str | None) -> None:
    """A Beam pipeline argument: one per function, with no default or None (the step builds the pipeline)."""
    if earlier is not None:
        raise DefinitionError(
            f"@component {name}: arguments '{earlier}' and '{arg}' are both {spelled}; a step gets one Beam "
            f"pipeline, so keep one of them."
        )
    if default is not inspect.Parameter.empty and default is not None:
        raise DefinitionError(
            f"@component {name}: the default value of argument '{arg}' ({spelled}) must be None, got {default!r}: "
            f"the step gets the Beam pipeline when it runs; write `{arg}: {spelled} = None`."
        )


def _strip_optional(ann: Any) -> Any:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _return_fields(name: str, ret: Any) -> dict[str, Any]:
    if ret is None or ret is type(None):
        return {}
    if isinstance(ret, _OutputDictAnnotation):
        fields = ret.fields
    elif typing.is_typeddict(ret):
        fields = typing.get_type_hints(ret)
    else:
        raise DefinitionError(
            f"@component {name}: return annotation must be OutputDict(name=type, ...) or a TypedDict, got {ret!r}."
        )
    out = {}
    for key, vtype in fields.items():
        inner = _strip_optional(vtype)
        base = typing.get_origin(inner) or inner
        if base not in _VALUE_TYPES or (
            base in (dict, list) and typing.get_args(inner) and not json_types.is_json_type(inner)
        ):
            raise DefinitionError(
                f"@component {name}: returned output '{key}' has type {json_types.type_name(vtype)}; use int, float, "
                "str, bytes, bool, Dict[str, X] or List[X] (X a JSON type), or Optional[...] of one."
            )
        out[key] = vtype
    return out


def component(func: Callable[..., Any] | None = None) -> Any:
    """Turns a typed function into a component class.

    The function's arguments say what the component consumes and produces::

        @component
        def Validate(model: InputArtifact[Model], blessing: OutputArtifact[ModelBlessing],
                     accuracy_threshold: Parameter[int] = 10) -> OutputDict(accuracy=float):
            ...

    Calling the result with keyword arguments (channels and parameter values) makes a node. An argument
    annotated :class:`~headrace.dsl.BeamPipeline` receives a Beam pipeline built from the pipeline's
    `beam_pipeline_args` (and the node's own, `with_beam_pipeline_args`) when the step runs.
    """
    if func is None:
        return component
    if not callable(func) or not hasattr(func, "__code__"):
        raise DefinitionError(f"@component decorates a function, got {func!r}.")
    kinds = arg_kinds(func)
    spec_class = type(
        f"{func.__name__}Spec",
        (ComponentSpec,),
        {
            "INPUTS": kinds.inputs,
            "OUTPUTS": kinds.outputs,
            "PARAMETERS": kinds.parameters,
            "__module__": func.__module__,
        },
    )

    def init(self: BaseComponent, *args: Any, **kwargs: Any) -> None:
        if args:
            accepted = [*kinds.inputs, *kinds.parameters]
            raise DefinitionError(
                f"{func.__name__}(...) takes keyword arguments only, as TFX components do; got {len(args)} "
                f"positional. Name them: {func.__name__}(" + ", ".join(f"{a}=..." for a in accepted) + ")."
            )
        outputs_given = sorted(kwargs.keys() & kinds.outputs.keys())
        if outputs_given:
            raise DefinitionError(
                f"{func.__name__}: '{outputs_given[0]}' is an output; it is created by the component, not passed in. "
                f"Read it as {func.__name__}(...).outputs['{outputs_given[0]}']."
            )
        BaseComponent.__init__(self, spec=spec_class(**kwargs))

    return type(
        func.__name__,
        (BaseComponent,),
        {
            "SPEC_CLASS": spec_class,
            "EXECUTOR_SPEC": FunctionExecutorSpec(func, uses_beam=kinds.beam_arg is not None),
            "FUNCTION": staticmethod(func),
            "__init__": init,
            "__module__": func.__module__,
            "__qualname__": func.__qualname__,
            "__doc__": func.__doc__,
        },
    )


def call_function(
    func: Callable[..., Any],
    input_dict: dict[str, list[Artifact]],
    output_dict: dict[str, list[Artifact]],
    exec_properties: dict[str, Any],
    beam_pipeline_args: Sequence[str] = (),
) -> None:
    """Runs a component function: feeds its arguments and stores what it returns.

    A function with a BeamPipeline argument gets a Beam pipeline built from `beam_pipeline_args` (the
    pipeline's, then the node's own)."""
    kinds = arg_kinds(func)
    kwargs: dict[str, Any] = {}
    for key in kinds.inputs:
        arts = input_dict.get(key) or []
        if not arts:
            continue  # optional input left out: the function default applies
        if key in kinds.value_args:
            kwargs[key] = typing.cast(ValueArtifact, arts[0]).value  # None for a null (Optional) value
        else:
            kwargs[key] = arts[0]
    for key in kinds.outputs:
        if key in kinds.artifact_args:
            kwargs[key] = output_dict[key][0]
    for key in kinds.parameters:
        if key in exec_properties:
            kwargs[key] = exec_properties[key]
    result = (
        func(**kwargs) if kinds.beam_arg is None else _call_with_beam(func, kwargs, kinds.beam_arg, beam_pipeline_args)
    )
    if kinds.returned:
        if result is None and kinds.returned <= kinds.optional_returned:
            result = dict.fromkeys(kinds.returned)  # every output is Optional: None for each
        if not isinstance(result, dict):
            raise TypeError(
                f"{func.__name__} declares outputs {sorted(kinds.returned)} and must return a dict, "
                f"got {type(result).__name__}."
            )
        missing = kinds.returned - result.keys()
        if missing:
            raise TypeError(f"{func.__name__} did not return output(s) {sorted(missing)}.")
        for key in kinds.returned:
            art = typing.cast(ValueArtifact, output_dict[key][0])
            value = result[key]
            if value is None:
                if key not in kinds.optional_returned:
                    raise TypeError(
                        f"{func.__name__} returned None for output '{key}'; declare it Optional[...] to allow that."
                    )
                art.set_custom_property(NULL_PROPERTY, 1)
                continue
            json_type = kinds.json_returned.get(key)
            if json_type is not None and not json_types.value_matches(value, json_type):
                raise TypeError(
                    f"Return value {value!r} for output '{key}' of {func.__name__} is incompatible with output type "
                    f"{json_types.type_name(json_type)}."
                )
            try:
                art.value = value
            except DefinitionError as e:
                raise TypeError(
                    f"Return value {value!r} for output '{key}' of {func.__name__} is incompatible with its type: {e}"
                ) from None
    elif result is not None:
        raise TypeError(
            f"{func.__name__} returned {type(result).__name__} but declares no return annotation; "
            "annotate it with -> OutputDict(...) or return None."
        )


def _call_with_beam(
    func: Callable[..., Any], kwargs: dict[str, Any], arg: str, beam_pipeline_args: Sequence[str]
) -> Any:
    """Calls `func` with a Beam pipeline for `beam_pipeline_args` as `arg`.

    What the user's own files define (a DoFn, a helper function of the pipeline file) is pickled by value
    by Beam, as the function itself travels to headrace's workers: Beam's workers (SDK harness processes,
    Dask workers) could not import those files by name. On a Dask cluster the call gives its worker thread
    back while it waits (the function's pipeline runs on the same cluster), and the client the pipeline
    opened is closed afterwards."""
    from headrace import beam_runners

    pipeline = beam_runners.make_pipeline(beam_pipeline_args, f"@component {func.__name__}'s {arg}")
    # for good, not for the call: steps on threads of one process (BeamDagRunner's) share Beam's pickler
    pickle_by_value(users_modules(), beam_runners.beam_cloudpickle())
    try:
        with beam_runners.waiting_on_cluster(beam_pipeline_args):
            return func(**kwargs, **{arg: pipeline})
    finally:
        beam_runners.close_dask_client(pipeline)
