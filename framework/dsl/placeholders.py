"""Placeholders in a container component's command line, resolved when the node runs."""

from __future__ import annotations

from typing import Any

from headrace.errors import IRError


class Placeholder:
    """Base class: stands for a value known only at run time."""

    KIND = ""

    def __init__(self, name: str):
        self.name = name

    def to_ir(self) -> dict[str, str]:
        """The IR form: {'placeholder': KIND, 'name': ...}."""
        return {"placeholder": self.KIND, "name": self.name}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name

    def __hash__(self) -> int:
        return hash((self.KIND, self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class InputValuePlaceholder(Placeholder):
    """The value of a parameter or of a value-artifact input."""

    KIND = "input_value"


class InputUriPlaceholder(Placeholder):
    """The URI of an input artifact."""

    KIND = "input_uri"


class OutputUriPlaceholder(Placeholder):
    """The URI of an output artifact (a directory the container writes into)."""

    KIND = "output_uri"


_KINDS = {c.KIND: c for c in (InputValuePlaceholder, InputUriPlaceholder, OutputUriPlaceholder)}


def from_ir(item: Any) -> str | Placeholder:
    """Reads one command-line item back from the IR."""
    if isinstance(item, str):
        return item
    try:
        return _KINDS[item["placeholder"]](item["name"])
    except (KeyError, TypeError):
        raise IRError(f"Unknown command-line item in container spec: {item!r}") from None


__all__ = ["InputUriPlaceholder", "InputValuePlaceholder", "OutputUriPlaceholder", "Placeholder"]
