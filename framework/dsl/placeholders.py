"""Placeholders in a container component's command line, resolved when the node runs.

Each argv item is a string or a placeholder; a placeholder becomes exactly one string, built from
the structure (never by text substitution), so a value that contains shell syntax or another
placeholder's text arrives unchanged. TFX's forms are both accepted:

- `InputValuePlaceholder('pattern')`, `InputUriPlaceholder('text')`, `OutputUriPlaceholder('out')`,
  `ConcatPlaceholder(['--out=', OutputUriPlaceholder('out')])` (tfx.dsl.component.experimental);
- `exec_property('pattern')`, `input('text')[0].uri`, `input('n')[0].value`, `output('out')[0].uri`,
  and `'--out=' + output('out')[0].uri` (tfx.dsl.placeholders).

These are the command-line members of headrace's one expression model (`headrace.types.placeholder`):
every placeholder, these, channel futures (`ch.future()[0].value`), text expressions and predicates, is
a :class:`Placeholder`; `logical_and`, `logical_or` and `logical_not` combine predicates for `Cond`.
"""

from __future__ import annotations

import json
from typing import Any

from headrace.errors import DefinitionError, IRError
from headrace.types.channel import ChannelFuture, Predicate
from headrace.types.placeholder import (
    Placeholder,
    TextExpression,
    execution_invocation,
    join,
    logical_and,
    logical_not,
    logical_or,
)


class CommandPlaceholder(Placeholder):
    """Base class of the command-line placeholders: stands for one argument known only at run time."""

    KIND = ""

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"{type(self).__name__} needs a name (str), got {name!r}.")
        self.name = name

    def to_ir(self) -> dict[str, Any]:
        """The IR form: {'placeholder': KIND, 'name': ...}."""
        return {"placeholder": self.KIND, "name": self.name}

    def leaves(self) -> list[CommandPlaceholder]:
        """The named placeholders this one is made of (itself, for a named one)."""
        return [self]

    def __add__(self, other: Any) -> ConcatPlaceholder:
        return ConcatPlaceholder([self, other])

    def __radd__(self, other: Any) -> ConcatPlaceholder:
        return ConcatPlaceholder([other, self])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommandPlaceholder) and type(other) is type(self) and other.to_ir() == self.to_ir()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class InputValuePlaceholder(CommandPlaceholder):
    """The value of a parameter or of a value-artifact input."""

    KIND = "input_value"


class ExecPropertyPlaceholder(CommandPlaceholder):
    """The value of a parameter (TFX's `placeholders.exec_property(name)`)."""

    KIND = "exec_property"


class InputUriPlaceholder(CommandPlaceholder):
    """The URI of an input artifact."""

    KIND = "input_uri"


class OutputUriPlaceholder(CommandPlaceholder):
    """The URI of an output artifact: the command writes a file or a folder there (its parent exists)."""

    KIND = "output_uri"


class ConcatPlaceholder(CommandPlaceholder):
    """Strings and placeholders joined into one argument, e.g. ``['--out=', OutputUriPlaceholder('o')]``."""

    KIND = "concat"

    def __init__(self, items: list[Any]):
        if not isinstance(items, (list, tuple)) or not items:
            raise DefinitionError(
                f"ConcatPlaceholder takes a non-empty list of strings and placeholders, got {items!r}."
            )
        flat: list[str | CommandPlaceholder] = []
        for item in items:
            if isinstance(item, ConcatPlaceholder):
                flat.extend(item.parts())
            elif isinstance(item, (str, CommandPlaceholder)):
                flat.append(item)
            else:
                raise DefinitionError(f"ConcatPlaceholder items must be strings or placeholders, got {item!r}.")
        self.name = ""
        self.items = flat

    def parts(self) -> list[str | CommandPlaceholder]:
        """The strings and placeholders joined, in order."""
        return list(self.items)

    def to_ir(self) -> dict[str, Any]:
        return {"placeholder": self.KIND, "items": [i if isinstance(i, str) else i.to_ir() for i in self.items]}

    def leaves(self) -> list[CommandPlaceholder]:
        return [leaf for i in self.items if isinstance(i, CommandPlaceholder) for leaf in i.leaves()]

    def __repr__(self) -> str:
        return f"ConcatPlaceholder({self.items!r})"


# -- TFX's tfx.dsl.placeholders forms ------------------------------------------------------------
class _ArtifactList(Placeholder):
    """`input('x')` / `output('x')`: the first artifact is `[0]`, with `.uri` (and `.value` for inputs)."""

    def __init__(self, name: str, output: bool):
        self._name, self._output = name, output

    def __getitem__(self, index: int) -> _ArtifactRef:
        if index != 0:
            raise DefinitionError(f"Only the first artifact ([0]) of '{self._name}' can be placed, got [{index}].")
        return _ArtifactRef(self._name, self._output)

    @property
    def uri(self) -> CommandPlaceholder:  # TFX allows input('x').uri for a single artifact too
        return self[0].uri

    @property
    def value(self) -> CommandPlaceholder:  # and input('x').value
        return self[0].value

    def to_ir(self) -> dict[str, Any]:
        return self[0].to_ir()

    def __repr__(self) -> str:
        return f"{'output' if self._output else 'input'}('{self._name}')"


class _ArtifactRef(Placeholder):
    def __init__(self, name: str, output: bool):
        self._name, self._output = name, output

    def to_ir(self) -> dict[str, Any]:
        kind = "output" if self._output else "input"
        raise DefinitionError(
            f"{kind}('{self._name}')[0] stands for an artifact, which a command line cannot hold: place its "
            f"{kind}('{self._name}')[0].uri" + ("" if self._output else " or .value") + "."
        )

    def __repr__(self) -> str:
        return f"{'output' if self._output else 'input'}('{self._name}')[0]"

    @property
    def uri(self) -> CommandPlaceholder:
        return OutputUriPlaceholder(self._name) if self._output else InputUriPlaceholder(self._name)

    @property
    def value(self) -> CommandPlaceholder:
        if self._output:
            raise DefinitionError(f"output('{self._name}')[0].value: an output has no value yet; use .uri.")
        return InputValuePlaceholder(self._name)


def exec_property(name: str) -> ExecPropertyPlaceholder:
    """A parameter's value (TFX's `tfx.dsl.placeholders.exec_property`)."""
    return ExecPropertyPlaceholder(name)


def input(name: str) -> _ArtifactList:
    """An input's artifacts: `input('text')[0].uri`, `input('n')[0].value`."""
    return _ArtifactList(name, output=False)


def output(name: str) -> _ArtifactList:
    """An output's artifacts: `output('out')[0].uri`."""
    return _ArtifactList(name, output=True)


def argument_text(value: Any) -> str:
    """A parameter's value as the one argument a placeholder becomes, on every runner alike: strings
    unchanged, dicts and lists as JSON (sorted keys), anything else as str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


_KINDS: dict[str, type[CommandPlaceholder]] = {
    c.KIND: c for c in (InputValuePlaceholder, ExecPropertyPlaceholder, InputUriPlaceholder, OutputUriPlaceholder)
}


def from_ir(item: Any) -> str | CommandPlaceholder:
    """Reads one command-line item back from the IR."""
    if isinstance(item, str):
        return item
    try:
        if item["placeholder"] == ConcatPlaceholder.KIND:
            return ConcatPlaceholder([from_ir(i) for i in item["items"]])
        return _KINDS[item["placeholder"]](item["name"])
    except (KeyError, TypeError, DefinitionError):
        raise IRError(f"Unknown command-line item in container spec: {item!r}") from None


__all__ = [
    "ChannelFuture",
    "CommandPlaceholder",
    "ConcatPlaceholder",
    "ExecPropertyPlaceholder",
    "InputUriPlaceholder",
    "InputValuePlaceholder",
    "OutputUriPlaceholder",
    "Placeholder",
    "Predicate",
    "TextExpression",
    "exec_property",
    "execution_invocation",
    "input",
    "join",
    "logical_and",
    "logical_not",
    "logical_or",
    "output",
]
