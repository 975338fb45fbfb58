"""System nodes: `Importer` and `Resolver`. The launcher runs them itself; they have no executor."""

from __future__ import annotations

import re
from typing import Any

from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import ExecutorSpec
from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter


class SystemExecutorSpec(ExecutorSpec):
    """Marks a node the launcher handles itself ('importer' or 'resolver')."""

    def __init__(self, kind: str):
        self.kind = kind

    def to_ir(self, cache: dict[int, Any] | None = None) -> dict[str, Any]:
        return {"kind": self.kind}


class _ImporterSpec(ComponentSpec):
    PARAMETERS = {
        "source_uri": ExecutionParameter(str),
        "artifact_type": ExecutionParameter(str),
        "reimport": ExecutionParameter(bool, optional=True),
        "properties": ExecutionParameter(dict, optional=True),
        "custom_properties": ExecutionParameter(dict, optional=True),
    }


class Importer(BaseComponent):
    """Registers an external URI as an artifact; its output key is 'result'.

    Args:
        source_uri: The URI to register.
        artifact_type: The artifact class.
        reimport: Register a new artifact even if one with this URI and type exists.
        properties: Declared property values for the artifact.
        custom_properties: Custom property values for the artifact.
    """

    SPEC_CLASS = _ImporterSpec
    EXECUTOR_SPEC = SystemExecutorSpec("importer")

    def __init__(
        self,
        source_uri: str,
        artifact_type: type[Artifact],
        reimport: bool = False,
        properties: dict[str, Any] | None = None,
        custom_properties: dict[str, Any] | None = None,
    ):
        if not (isinstance(artifact_type, type) and issubclass(artifact_type, Artifact)):
            raise DefinitionError(f"Importer artifact_type must be an Artifact subclass, got {artifact_type!r}.")
        probe = artifact_type()
        for key, value in (properties or {}).items():
            setattr(probe, key, value)  # raises a clear error on an unknown or mistyped property
        super().__init__(
            spec=_ImporterSpec(
                source_uri=source_uri,
                artifact_type=artifact_type.TYPE_NAME,
                reimport=reimport,
                properties=properties or {},
                custom_properties=custom_properties or {},
            )
        )
        for key, value in (custom_properties or {}).items():
            probe.set_custom_property(key, value)
        channel = Channel(type=artifact_type).set_placeholder(probe)  # what `.get()` returns before the run
        self.spec.outputs["result"] = channel
        channel._bind(self, "result")


class LatestArtifactStrategy:
    """Resolves each input to its most recent LIVE artifact."""

    NAME = "latest_artifact"


class LatestBlessedModelStrategy:
    """Resolves the most recent Model with a ModelBlessing that says blessed (TFX's convention:
    custom properties `blessed` = 1 and `current_model_id` = the model's id). Models produced in
    the same run by the Resolver's upstream nodes are left out: make the Resolver run after the
    Trainer (`resolver.add_upstream_node(trainer)`) and the baseline is never the candidate itself,
    so a re-run whose Trainer is cached stays cached all the way down."""

    NAME = "latest_blessed_model"


class SpanRangeStrategy:
    """Resolves each input to the artifacts of a range of spans (the `span` property), the
    latest version of each span; TFX's strategy of that name. Configure it with `config`:
    `{'rolling_range': {'num_spans': 1, 'skip_num_recent_spans': 1}}` gives the span before the
    latest one (a drift baseline: run the Resolver after the ExampleGen of the new span, with
    `resolver.add_upstream_node(example_gen)`), `{'static_range': {'start_span_number': 3,
    'end_span_number': 5}}` spans 3 to 5. Default: the latest span."""

    NAME = "span_range"


class ModelAliasStrategy:
    """Resolves the Model behind an alias of a pushed model (``headrace models alias``, or a Pusher's
    ``custom_config={'alias': ...}``): the model the aliased version was pushed from (through a
    rollback, the model of the version it copied). Configure it with ``config={'model_name':
    'penguin', 'alias': 'champion'}``; the Resolver takes one Model channel and, optionally, one
    Examples channel, which resolves to the examples that model was trained on (the Trainer's input:
    a drift baseline, "the data the model in service learnt from"). Nothing resolves while the alias
    is unset (an Evaluator then has no baseline). The champion as the Evaluator's baseline::

        Resolver(strategy_class=ModelAliasStrategy, config={'model_name': 'penguin', 'alias': 'champion'},
                 model=Channel(type=Model)).with_id('champion')
    """

    NAME = "model_alias"


_STRATEGIES = {
    s.NAME: s for s in (LatestArtifactStrategy, LatestBlessedModelStrategy, SpanRangeStrategy, ModelAliasStrategy)
}
_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def check_alias(alias: object) -> str:
    """An alias name: lowercase letters, digits, '-' and '_', starting with a letter, at most 63.

    Raises:
        DefinitionError: naming the bad value and the rule.
    """
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
        raise DefinitionError(
            f"Alias {alias!r} is not a usable name: use lowercase letters, digits, '-' or '_', starting with a "
            "letter, at most 63 characters (e.g. 'champion', 'challenger', 'shadow')."
        )
    return alias


def _alias_config(config: Any) -> dict[str, str]:
    """ModelAliasStrategy's config, checked."""
    example = "config={'model_name': 'penguin', 'alias': 'champion'}"
    if not isinstance(config, dict) or set(config) != {"model_name", "alias"}:
        raise DefinitionError(f"ModelAliasStrategy takes {example}, got {config!r}.")
    name = config["model_name"]
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise DefinitionError(f"ModelAliasStrategy: model_name must be the pushed model's name, got {name!r}.")
    return {"model_name": name, "alias": check_alias(config["alias"])}


def _range_config(config: Any) -> dict[str, Any]:
    """A RangeConfig (a proto or its dict) as a checked dict."""
    if config is None:
        return {"rolling_range": {"num_spans": 1}}
    if isinstance(config, dict) and set(config) == {"range_config"}:  # TFX: config={'range_config': RangeConfig}
        config = config["range_config"]
    if hasattr(config, "DESCRIPTOR"):
        from google.protobuf import json_format

        config = json_format.MessageToDict(config, preserving_proto_field_name=True)
    if not isinstance(config, dict) or not ({"rolling_range", "static_range"} & set(config)):
        raise DefinitionError(
            "SpanRangeStrategy config must be a RangeConfig with rolling_range or static_range, e.g. "
            "{'rolling_range': {'num_spans': 1, 'skip_num_recent_spans': 1}}."
        )
    for section in config.values():
        for key, value in section.items():
            if int(value) < 0:
                raise DefinitionError(f"SpanRangeStrategy config: {key} must be >= 0, got {value!r}.")
    if "rolling_range" in config and int(config["rolling_range"].get("num_spans", 1)) < 1:
        raise DefinitionError("SpanRangeStrategy config: rolling_range num_spans must be at least 1.")
    return {k: {f: int(v) for f, v in section.items()} for k, section in config.items()}


class Resolver(BaseComponent):
    """Picks artifacts from the store by a strategy; outputs have the same keys as the inputs.

    Example::

        Resolver(strategy_class=LatestBlessedModelStrategy,
                 model=Channel(type=Model), model_blessing=Channel(type=ModelBlessing))
    """

    SPEC_CLASS = ComponentSpec
    EXECUTOR_SPEC = SystemExecutorSpec("resolver")

    def __init__(self, strategy_class: Any, config: Any = None, **channels: Channel):
        if getattr(strategy_class, "NAME", None) not in _STRATEGIES:
            raise DefinitionError(
                f"Resolver strategy_class must be one of {', '.join(s.__name__ for s in _STRATEGIES.values())}, "
                f"got {strategy_class!r}."
            )
        if not channels:
            raise DefinitionError("Resolver needs at least one input channel, e.g. model=Channel(type=Model).")
        for key, ch in channels.items():
            if not isinstance(ch, Channel):
                raise DefinitionError(f"Resolver input '{key}' must be a Channel, got {type(ch).__name__}.")
        if strategy_class is LatestBlessedModelStrategy:
            names = sorted(ch.type_name for ch in channels.values())
            if names != ["Model", "ModelBlessing"]:
                raise DefinitionError(
                    "LatestBlessedModelStrategy needs exactly one Model channel and one ModelBlessing channel, "
                    f"got {names}."
                )
        if strategy_class is ModelAliasStrategy and sorted(ch.type_name for ch in channels.values()) not in (
            ["Model"],
            ["Examples", "Model"],
        ):
            raise DefinitionError(
                "ModelAliasStrategy needs one Model channel (model=Channel(type=Model)) and optionally one Examples "
                f"channel (examples=Channel(type=Examples)), got {sorted(ch.type_name for ch in channels.values())}."
            )
        params: dict[str, Any] = {"strategy": strategy_class.NAME}
        if strategy_class is SpanRangeStrategy:
            params["config"] = _range_config(config)
        elif strategy_class is ModelAliasStrategy:
            params["config"] = _alias_config(config)
        elif config is not None:
            raise DefinitionError(f"Resolver: {strategy_class.__name__} takes no config.")
        spec_class = type(
            "ResolverSpec",
            (ComponentSpec,),
            {
                "INPUTS": {k: ChannelParameter(c.type) for k, c in channels.items()},
                "PARAMETERS": {"strategy": ExecutionParameter(str), "config": ExecutionParameter(dict, optional=True)},
            },
        )
        super().__init__(spec=spec_class(**params, **channels))
        # Outputs mirror the inputs key for key (a spec cannot declare one name twice).
        for key, ch in channels.items():
            out = Channel(type=ch.type)
            self.spec.outputs[key] = out
            out._bind(self, key)
