"""Container components: a command line in an image, with placeholders for inputs and outputs."""

from __future__ import annotations

import re
import sys
from typing import Any

from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import ExecutorSpec
from headrace.dsl.placeholders import (
    CommandPlaceholder,
    ExecPropertyPlaceholder,
    InputUriPlaceholder,
    InputValuePlaceholder,
    OutputUriPlaceholder,
    Placeholder,
)
from headrace.errors import DefinitionError, did_you_mean
from headrace.types.artifact import Artifact, ValueArtifact
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TemplatedExecutorContainerSpec(ExecutorSpec):
    """An image and a command line with placeholders (the command replaces the image's entrypoint)."""

    def __init__(self, image: str, command: list[str | Placeholder], args: list[str | Placeholder] | None = None):
        self.image = image
        self.command = list(command)
        self.args = list(args or [])

    def to_ir(self, cache: dict[int, Any] | None = None) -> dict[str, Any]:
        ir: dict[str, Any] = {"kind": "container", "image": self.image, "command": _items_ir(self.command)}
        if self.args:
            ir["args"] = _items_ir(self.args)
        return ir


class ExecutorContainerSpec(TemplatedExecutorContainerSpec):
    """TFX's container executor spec for a fully custom component class: `image`, and `command`
    (replaces the image's entrypoint) and/or `args` (appended to it, or to the image's own
    entrypoint when there is no command), strings and placeholders. Placeholders are checked
    against the component's spec when the pipeline is compiled."""

    def __init__(
        self,
        image: str,
        command: list[str | Placeholder] | None = None,
        args: list[str | Placeholder] | None = None,
    ):
        if not isinstance(image, str) or not image.strip():
            raise DefinitionError(f"ExecutorContainerSpec: image must be a non-empty string, got {image!r}.")
        if not command and not args:
            raise DefinitionError(
                "ExecutorContainerSpec: give a command, args, or both (lists of strings and placeholders)."
            )
        for name, items in (("command", command), ("args", args)):
            if items is not None and not isinstance(items, (list, tuple)):
                raise DefinitionError(f"ExecutorContainerSpec: {name} must be a list, got {type(items).__name__}.")
        super().__init__(image, list(command or []), list(args or []))


def _items_ir(items: list[str | CommandPlaceholder]) -> list[Any]:
    return [c if isinstance(c, str) else c.to_ir() for c in items]


def check_command(owner: str, command: list[Any], spec: type[ComponentSpec]) -> None:
    """Every placeholder of `command` names an input, output or parameter of `spec` that it can take.

    Raises:
        DefinitionError: naming the placeholder, with a did-you-mean and what is allowed.
    """
    inputs = {k: p.type for k, p in spec.INPUTS.items()}
    value_inputs = [k for k, t in inputs.items() if isinstance(t, type) and issubclass(t, ValueArtifact)]
    allowed_by_kind = {
        InputValuePlaceholder: list(spec.PARAMETERS) + value_inputs,
        ExecPropertyPlaceholder: list(spec.PARAMETERS),
        InputUriPlaceholder: list(inputs),
        OutputUriPlaceholder: list(spec.OUTPUTS),
    }
    for item in command:
        if isinstance(item, str):
            continue
        if isinstance(item, Placeholder) and not isinstance(item, CommandPlaceholder) and not item.futures():
            raise DefinitionError(
                f"{owner}: the command holds {item!r}, which a command line cannot place: place input('x')[0].uri, "
                "input('x')[0].value, output('x')[0].uri or exec_property('name')."
            )
        if isinstance(item, Placeholder) and not isinstance(item, CommandPlaceholder):
            raise DefinitionError(
                f"{owner}: the command holds {item!r}, which reads another node's output; a command places its own "
                "inputs, outputs and parameters: give a parameter that value (param=upstream.outputs['x'].future()"
                "[0].value) and place exec_property('param'), or wire the channel as an input and place "
                "input('x')[0].value."
            )
        if not isinstance(item, CommandPlaceholder):
            raise DefinitionError(f"{owner}: command items must be strings or placeholders, got {item!r}.")
        for leaf in item.leaves():
            allowed = allowed_by_kind[type(leaf)]
            if leaf.name not in allowed:
                raise DefinitionError(
                    f"{owner}: {leaf!r} refers to an unknown name."
                    + did_you_mean(leaf.name, allowed)
                    + f" Allowed here: {', '.join(allowed) or '(none)'}."
                )


def create_container_component(
    name: str,
    image: str,
    command: list[str | Placeholder],
    inputs: dict[str, type[Artifact]] | None = None,
    outputs: dict[str, type[Artifact]] | None = None,
    parameters: dict[str, type] | None = None,
) -> type[BaseComponent]:
    """Makes a component class that runs `command` in `image`.

    Args:
        name: The component class name (and default node id).
        image: A container image reference.
        command: Strings and placeholders, e.g.
            ``['python', '-m', 'train', '--data', InputUriPlaceholder('examples')]``.
        inputs: Input names to artifact classes.
        outputs: Output names to artifact classes.
        parameters: Parameter names to Python types (int, float, str, bool, dict, list).

    Returns:
        A component class; construct it with keyword arguments.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise DefinitionError(f"Container component name must be an identifier, got {name!r}.")
    if not isinstance(image, str) or not image.strip():
        raise DefinitionError(f"{name}: image must be a non-empty string, got {image!r}.")
    if not isinstance(command, (list, tuple)) or not command:
        raise DefinitionError(f"{name}: command must be a non-empty list of strings and placeholders.")
    inputs, outputs, parameters = inputs or {}, outputs or {}, parameters or {}
    for what, given in (("inputs", inputs), ("outputs", outputs), ("parameters", parameters)):
        if not isinstance(given, dict) or not all(isinstance(k, str) for k in given):
            raise DefinitionError(f"{name}: {what} must be a dict of names to types, got {given!r:.80}.")
    spec_attrs = {
        "INPUTS": {k: ChannelParameter(t) for k, t in inputs.items()},
        "OUTPUTS": {k: ChannelParameter(t) for k, t in outputs.items()},
        "PARAMETERS": {k: ExecutionParameter(t) for k, t in parameters.items()},
    }
    spec_class = type(f"{name}Spec", (ComponentSpec,), spec_attrs)
    check_command(name, list(command), spec_class)

    def init(self: BaseComponent, **kwargs: Any) -> None:
        BaseComponent.__init__(self, spec=spec_class(**kwargs))

    return type(
        name,
        (BaseComponent,),
        {
            "SPEC_CLASS": spec_class,
            "EXECUTOR_SPEC": TemplatedExecutorContainerSpec(image, list(command)),
            "__init__": init,
            "__module__": sys._getframe(1).f_globals.get("__name__", __name__),  # the defining module
        },
    )
