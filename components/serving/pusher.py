"""Pusher: copies a blessed model into the versioned directory TensorFlow Serving watches.

As in TFX, it pushes only when the ModelBlessing (and the InfraBlessing, if given) say
`blessed` = 1, and pushes unconditionally when no blessing is wired; an unblessed model is not an
error: the step succeeds and its PushedModel records ``pushed=0`` and why.

Layout. TF Serving serves ``<model base path>/<version>/``. With ``custom_config={'model_name':
'penguin'}`` the model base path is ``<base_directory>/penguin`` (several models under one
root); without it, `base_directory` itself is the model base path and the model is named after
its last path segment -- TFX's layout, so a ported pipeline and the TF Serving pointed at its
``serving_model_dir`` keep working. Versions are integers, one more than the highest present
(``versioning=UNIX_TIMESTAMP`` keeps TFX's timestamps, still increasing), written atomically
(see :mod:`headrace.components.serving.model_registry`). Rolling back: :func:`rollback` or
``headrace models rollback NAME VERSION``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from headrace.components.io.artifact_files import ArtifactFileError
from headrace.components.serving import aliases, model_registry, serving_config
from headrace.components.serving.infra_validator import STAMPED_MODEL_DIR  # its warmed-up model (make_warmup)
from headrace.components.serving.model_registry import Rollback
from headrace.components.serving.serving_config import check_canary_percent
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec, ExecutorSpec
from headrace.dsl.system_nodes import check_alias
from headrace.errors import DefinitionError, MissingDependencyError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import InfraBlessing, Model, ModelBlessing, PushedModel

SERVING_MODEL_DIR = "Format-Serving"  # where TFX's Trainer puts the serving model inside a Model artifact
_VERSIONING = {"AUTO": 0, "UNIX_TIMESTAMP": 1, 0: 0, 1: 1}


class PusherSpec(ComponentSpec):
    """Pusher's contract (TFX's names)."""

    PARAMETERS = {
        "push_destination": ExecutionParameter(type=dict, optional=True),
        "custom_config": ExecutionParameter(type=dict, optional=True),
    }
    INPUTS = {
        "model": ChannelParameter(type=Model, optional=True),
        "model_blessing": ChannelParameter(type=ModelBlessing, optional=True),
        "infra_blessing": ChannelParameter(type=InfraBlessing, optional=True),
    }
    OUTPUTS = {"pushed_model": ChannelParameter(type=PushedModel)}


def check_destination(owner: str, destination: Any) -> dict[str, Any]:
    """A PushDestination (proto or dict) as a checked dict: filesystem.base_directory made absolute,
    versioning as its number."""
    if hasattr(destination, "DESCRIPTOR"):
        from google.protobuf import json_format

        destination = json_format.MessageToDict(destination, preserving_proto_field_name=True)
    elif isinstance(destination, str):
        try:
            destination = json.loads(destination)
        except json.JSONDecodeError:
            destination = None
    example = "push_destination=proto.PushDestination(filesystem=proto.PushDestination.Filesystem(base_directory=...))"
    if not isinstance(destination, dict):
        raise DefinitionError(f"{owner}: push_destination must be a PushDestination or its dict: {example}.")
    unknown = sorted(set(destination) - {"filesystem"})
    fs = destination.get("filesystem")
    if unknown or not isinstance(fs, dict):
        raise DefinitionError(
            f"{owner}: push_destination needs a 'filesystem' destination (the only kind headrace pushes to), got "
            f"{destination!r}. Write {example}."
        )
    base = fs.get("base_directory")
    if not isinstance(base, (str, os.PathLike)) or not os.fspath(base):
        raise DefinitionError(f"{owner}: push_destination.filesystem.base_directory is required, got {base!r}.")
    extra = sorted(set(fs) - {"base_directory", "versioning"})
    if extra:
        raise DefinitionError(f"{owner}: push_destination.filesystem has unknown fields {extra}.")
    versioning = fs.get("versioning", 0)
    if versioning not in _VERSIONING:
        raise DefinitionError(f"{owner}: versioning must be 'AUTO' or 'UNIX_TIMESTAMP', got {versioning!r}.")
    model_dir = model_registry.model_directory(os.fspath(base))  # rejects a non-local URI now
    return {"filesystem": {"base_directory": model_dir, "versioning": _VERSIONING[versioning]}}


def check_custom_config(owner: str, config: Any) -> dict[str, Any] | None:
    """custom_config as a dict (TFX passes it JSON-encoded); a `model_name` must be one path segment."""
    if config is None:
        return None
    if isinstance(config, str):
        config = json.loads(config)
    if not isinstance(config, dict):
        raise DefinitionError(f"{owner}: custom_config must be a dict, got {type(config).__name__}.")
    if "model_name" in config:
        model_registry.check_model_name(config["model_name"])
    if config.get("alias") is not None:
        check_alias(config["alias"])
    if config.get("promote") and (config.get("alias") != "challenger" or config["promote"] is not True):
        raise DefinitionError(
            f"{owner}: custom_config 'promote': True promotes the pushed challenger to champion (its blessings are "
            "the gate): give it with 'alias': 'challenger'. For a soak time, promote later with "
            "`headrace models promote NAME VERSION --soak 1h`."
        )
    if config.get("canary_traffic_percent") is not None:
        check_canary_percent(config["canary_traffic_percent"])
    return dict(config)


def _blessed(artifact: Artifact) -> bool:
    return artifact.get_custom_property("blessed") == 1


class Executor(BaseExecutor):
    """Pushes the model to ``<model base path>/<version>/`` if every given blessing says blessed."""

    def CheckBlessing(self, input_dict: dict[str, list[Artifact]]) -> bool:
        """Whether every given blessing says blessed (TFX's method: custom executors call it)."""
        return not self.why_not_blessed(input_dict)

    def why_not_blessed(self, input_dict: dict[str, list[Artifact]]) -> str:
        """Why the model must not be pushed, or '' if it may."""
        for key, what in (("model_blessing", "the model validation (Evaluator)"), ("infra_blessing", "InfraValidator")):
            found = input_dict.get(key) or []
            if found and not _blessed(found[0]):
                verdict = found[0].get_custom_property("blessed")
                return f"the model was not blessed by {what}: {key} {found[0].uri} has blessed={verdict!r}"
        return ""

    def GetModelPath(self, input_dict: dict[str, list[Artifact]]) -> str:
        """The directory to push: the Model's `Format-Serving` folder (or the whole artifact), else the
        InfraBlessing's warmed-up model."""
        models = input_dict.get("model") or []
        if models:
            serving = os.path.join(models[0].uri, SERVING_MODEL_DIR)
            return serving if os.path.isdir(serving) else models[0].uri
        infra = (input_dict.get("infra_blessing") or [None])[0]
        if infra is None:
            raise ArtifactFileError("Pusher has no model input: wire model= or infra_blessing=.")
        if infra.get_custom_property("has_model") != 1:
            raise ArtifactFileError(
                "InfraBlessing does not contain a model: wire model=trainer.outputs['model'], or let the "
                "InfraValidator make a warmed-up model (request_spec=RequestSpec(make_warmup=True) with "
                "examples=...; it writes one only for a model it blesses)."
            )
        return os.path.join(infra.uri, STAMPED_MODEL_DIR)

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        out = output_dict["pushed_model"][0]
        fs = check_destination("Pusher", exec_properties["push_destination"])["filesystem"]
        config = check_custom_config("Pusher", exec_properties.get("custom_config")) or {}
        name = config.get("model_name")
        model_dir = model_registry.model_directory(fs["base_directory"], name)
        name = name or os.path.basename(model_dir)
        out.set_custom_property(model_registry.MODEL_NAME, name)
        os.makedirs(out.uri, exist_ok=True)
        reason = self.why_not_blessed(input_dict)
        if reason:
            self._MarkNotPushed(out, reason)
            _write_record(out.uri, {"pushed": 0, "reason": reason, "model_name": name})
            print(f"Pusher: not pushed: {reason}.")
            out.set_custom_property("summary", f"not pushed: {reason}")
            return
        if not input_dict.get("model_blessing") and not input_dict.get("infra_blessing"):
            print("Pusher: pushing without validation (no model_blessing, no infra_blessing wired).")
        # The serving configuration is written once the model has aliases (or when asked): a plain push
        # leaves the model directory as TFX's Pusher does, versions only.
        alias = config.get("alias")
        writes_config = alias is not None or bool(config.get("serving_config")) or aliases.has_serving_config(model_dir)
        if writes_config and not serving_config.protos_available():  # refused before anything is pushed
            raise MissingDependencyError("tensorflow-serving-api", "tf", "the TF Serving model config of this push")
        source = self.GetModelPath(input_dict)
        if not os.path.isfile(os.path.join(source, "saved_model.pb")):
            print(f"Pusher: warning: {source} has no saved_model.pb; TF Serving may not load it.")
        floor = int(time.time()) if fs["versioning"] == 1 else 1
        version, dest = model_registry.push_version(source, model_dir, min_version=floor)
        self._MarkPushed(out, pushed_destination=dest, pushed_version=str(version))
        out.set_custom_property(model_registry.MODEL_DIR, model_dir)
        if config.get("kserve_storage_uri") is not None or config.get("canary_traffic_percent") is not None:
            aliases.save_serving_settings(
                model_dir, config.get("kserve_storage_uri"), config.get("canary_traffic_percent")
            )
        promote = bool(config.get("promote"))
        if writes_config:
            aliases.after_push(name, model_dir, version, alias, promote)  # TF Serving's config, KServe's manifest
        if alias is not None:
            out.set_custom_property("alias", alias)  # the alias change, recorded when this push is published
        if promote:
            out.set_custom_property("promoted", 1)  # ... and its promotion to champion
        record = {"pushed": 1, "model_name": name, "version": version, "destination": dest, "source": source}
        _write_record(out.uri, record)
        how = (f" as {alias}" if alias else "") + (", promoted to champion (blessed)" if promote else "")
        print(f"Pusher: pushed model '{name}' version {version}{how} to {dest}")
        out.set_custom_property("summary", f"pushed model '{name}' version {version}{how} to {dest}")

    def _MarkPushed(self, model_push: Artifact, pushed_destination: str, pushed_version: str | None = None) -> None:
        """Records a push on the PushedModel (TFX's method and properties; the version as a string)."""
        model_push.set_custom_property(model_registry.PUSHED, 1)
        model_push.set_custom_property(model_registry.PUSHED_DESTINATION, pushed_destination)
        if pushed_version is not None:
            model_push.set_custom_property(model_registry.PUSHED_VERSION, pushed_version)

    def _MarkNotPushed(self, model_push: Artifact, reason: str = "") -> None:
        """Records that nothing was pushed, and why (TFX's method; `reason` is headrace's)."""
        model_push.set_custom_property(model_registry.PUSHED, 0)
        if reason:
            model_push.set_custom_property("pushed_reason", reason)


def _write_record(uri: str, record: dict[str, Any]) -> None:
    """`push.json` in the PushedModel's folder: what happened, readable without the store."""
    with open(os.path.join(uri, "push.json"), "w") as f:
        json.dump(record, f, indent=2)


class Pusher(BaseComponent):
    """Pushes a blessed model to a versioned directory that TensorFlow Serving serves.

    Args:
        model: A channel of Model (from the Trainer).
        model_blessing: A channel of ModelBlessing (from the Evaluator); not blessed -> not pushed.
        infra_blessing: A channel of InfraBlessing (from the InfraValidator); not blessed -> not
            pushed. Without `model`, its warmed-up model is pushed (TFX's make_warmup).
        push_destination: ``proto.PushDestination(filesystem=proto.PushDestination.Filesystem(
            base_directory=...))``, TFX's message, or its dict form.
        custom_config: A dict; ``model_name`` pushes to ``<base_directory>/<model_name>/<version>``
            instead of ``<base_directory>/<version>``. ``alias`` ('challenger', 'champion' or any
            alias name) points that alias at the new version: 'challenger' serves it as the canary
            beside the champion until ``headrace models promote`` passes its gate (``'promote': True``
            promotes it at once, the blessings wired being the gate); 'champion' serves it at once.
            ``kserve_storage_uri`` (where the cluster sees the model directory) and
            ``canary_traffic_percent`` (1-99, default 10) shape the KServe manifest. Once the model has
            aliases (or with ``serving_config``: True) every push rewrites the model directory's
            ``model_server.config`` (TF Serving) and ``inferenceservice.yaml`` (KServe); see
            docs/MODEL_REGISTRY.md.
        custom_executor_spec: An executor spec replacing the default one (TFX's form, deprecated
            there too); push_destination may then be left out.

    Output `pushed_model` (PushedModel) has the custom properties ``pushed`` (0/1),
    ``pushed_destination`` (the version's directory), ``pushed_version``, ``model_name`` and
    ``model_base_path`` (and ``alias`` when pushed as one), or ``pushed_reason`` when not pushed.
    """

    SPEC_CLASS = PusherSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor)

    def __init__(
        self,
        model: Channel | None = None,
        model_blessing: Channel | None = None,
        infra_blessing: Channel | None = None,
        push_destination: Any = None,
        custom_config: dict[str, Any] | None = None,
        custom_executor_spec: ExecutorSpec | None = None,
    ):
        owner = type(self).__name__
        if custom_executor_spec is not None:
            if not isinstance(custom_executor_spec, ExecutorSpec):
                raise DefinitionError(
                    f"{owner}: custom_executor_spec must be an executor spec, e.g. ExecutorClassSpec(MyExecutor)."
                )
            self.EXECUTOR_SPEC = custom_executor_spec
        elif push_destination is None:
            raise DefinitionError(
                f"{owner}: push_destination is required: push_destination=proto.PushDestination("
                "filesystem=proto.PushDestination.Filesystem(base_directory='serving_model/my_model'))."
            )
        if model is None and infra_blessing is None:
            raise DefinitionError(
                f"{owner}: give model=trainer.outputs['model'] (or an infra_blessing from an InfraValidator that "
                "made a warmed-up model)."
            )
        super().__init__(
            spec=PusherSpec(
                model=model,
                model_blessing=model_blessing,
                infra_blessing=infra_blessing,
                push_destination=None if push_destination is None else check_destination(owner, push_destination),
                custom_config=check_custom_config(owner, custom_config),
            )
        )


def rollback(
    base_directory: str | None,
    model_name: str,
    version: int,
    metadata: Any = None,
    reason: str = "",
) -> Rollback:
    """Re-points TensorFlow Serving to an earlier version: copies it to a new highest version and
    records that in ML Metadata. See :func:`headrace.components.serving.model_registry.rollback` for the details.

    Example::

        from headrace.components.serving.pusher import rollback
        rollback('serving_model', 'penguin', 2, metadata='headrace_runs/penguin/metadata.sqlite')
    """
    return model_registry.rollback(base_directory, model_name, version, metadata=metadata, reason=reason)


__all__ = ["Executor", "Pusher", "PusherSpec", "rollback"]
