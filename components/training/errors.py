"""The Trainer's error."""

from headrace.errors import HeadraceError


class TrainerError(HeadraceError):
    """The Trainer cannot load or run the user's module file, or it wrote no model."""


__all__ = ["TrainerError"]
