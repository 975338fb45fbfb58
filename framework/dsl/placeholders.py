"""Placeholders in a container component's command line, resolved when the node runs.

Each argv item is a string or a placeholder; a placeholder becomes exactly one string, built from
the structure (never by text substitution), so a value that contains shell syntax or another
placeholder's text arrives unchanged. TFX's forms are both accepted:

- `InputValuePlaceholder('pattern')`, `InputUriPlaceholder('text')`, `OutputUriPlaceholder('out')`,
  `ConcatPlaceholder(['--out=', OutputUriPlaceholder('out')])` (tfx.dsl.component.experimental);
- `exec_property('pattern')`, `input('text')[0].uri`, `input('n')[0].value`, `output('out')[0].uri`,
  and `'--out=' + output('out')[0].uri` (tfx.dsl.placeholders).
"""

from __future__ import annotations

import json
from typing import Any

from headrace.errors import DefinitionError, IRError


class Placeholder:
    """Base class: stands for a string known only at run time."""

    KIND = ""

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"{type(self).__name__} needs a name (str), got {name!r}.")
        self.name = name

    def to_ir(self) -> dict[str, Any]:
        """The IR form: {'placeholder': KIND, 'name': ...}."""
        return {"placeholder": self.KIND, "name": self.name}

    def leaves(self) -> list[Placeholder]:
        """The named placeholders this one is made of (itself, for a named one)."""
        return [self]

    def __add__(self, other: Any) -> ConcatPlaceholder:
        return ConcatPlaceholder([self, other])

    def __radd__(self, other: Any) -> ConcatPlaceholder:
        return ConcatPlaceholder([other, self])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Placeholder) and type(other) is type(self) and other.to_ir() == self.to_ir()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class InputValuePlaceholder(Placeholder):
    """The value of a parameter or of a value-artifact input."""

    KIND = "input_value"


class ExecPropertyPlaceholder(Placeholder):
    """The value of a parameter (TFX's `placeholders.exec_property(name)`)."""

    KIND = "exec_property"


class InputUriPlaceholder(Placeholder):
    """The URI of an input artifact."""

    KIND = "input_uri"


class OutputUriPlaceholder(Placeholder):
    """The URI of an output artifact: the command writes a file or a folder there (its parent exists)."""

    KIND = "output_uri"


class ConcatPlaceholder(Placeholder):
    """Strings and placeholders joined into one argument, e.g. ``['--out=', OutputUriPlaceholder('o')]``."""

    KIND = "concat"

    def __init__(self, items: list[Any]):
        if not isinstance(items, (list, tuple)) or not items:
            raise DefinitionError(
                f"ConcatPlaceholder takes a non-empty list of strings and placeholders, got {items!r}."
            )
        flat: list[str | Placeholder] = []
        for item in items:
            if isinstance(item, ConcatPlaceholder):
                flat.extend(item.parts())
            elif isinstance(item, (str, Placeholder)):
                flat.append(item)
            else:
                raise DefinitionError(f"ConcatPlaceholder items must be strings or placeholders, got {item!r}.")
        self.name = ""
        self.items = flat

    def parts(self) -> list[str | Placeholder]:
        """The strings and placeholders joined, in order."""
        return list(self.items)

    def to_ir(self) -> dict[str, Any]:
        return {"placeholder": self.KIND, "items": [i if isinstance(i, str) else i.to_ir() for i in self.items]}

    def leaves(self) -> list[Placeholder]:
        return [leaf for i in self.items if isinstance(i, Placeholder) for leaf in i.leaves()]

    def __repr__(self) -> str:
        return f"ConcatPlaceholder({self.items!r})"


# -- TFX's tfx.dsl.placeholders forms ------------------------------------------------------------
class _ArtifactList:
    """`input('x')` / `output('x')`: the first artifact is `[0]`, with `.uri` (and `.value` for inputs)."""

    def __init__(self, name: str, output: bool):
        self._name, self._output = name, output

    def __getitem__(self, index: int) -> _ArtifactRef:
        if index != 0:
            raise DefinitionError(f"Only the first artifact ([0]) of '{self._name}' can be placed, got [{index}].")
        return _ArtifactRef(self._name, self._output)

    @property
    def uri(self) -> Placeholder:  # TFX allows input('x').uri for a single artifact too
        return self[0].uri


class _ArtifactRef:
    def __init__(self, name: str, output: bool):
        self._name, self._output = name, output

    @property
    def uri(self) -> Placeholder:
        return OutputUriPlaceholder(self._name) if self._output else InputUriPlaceholder(self._name)

    @property
    def value(self) -> Placeholder:
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


_KINDS: dict[str, type[Placeholder]] = {
    c.KIND: c for c in (InputValuePlaceholder, ExecPropertyPlaceholder, InputUriPlaceholder, OutputUriPlaceholder)
}


def from_ir(item: Any) -> str | Placeholder:
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
    "ConcatPlaceholder",
    "ExecPropertyPlaceholder",
    "InputUriPlaceholder",
    "InputValuePlaceholder",
    "OutputUriPlaceholder",
    "Placeholder",
    "exec_property",
    "input",
    "output",
]
