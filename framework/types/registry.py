"""The artifact type registry: type name -> Artifact subclass, as ML Metadata and the IR name types.

Every subclass of :class:`~headrace.types.artifact.Artifact` registers itself when it is defined, so a
type read back from the store or the IR is rebuilt as its own class (`artifact_class`).
"""

from __future__ import annotations

import sys
import types
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.types.artifact import Artifact

_REGISTRY: dict[str, type[Artifact]] = {}
_PENDING: list[weakref.ref[type[Artifact]]] = []  # classes cloudpickle is rebuilding


def register(cls: type[Artifact]) -> None:
    """Makes `cls` the class of its TYPE_NAME (a later definition of the same name wins)."""
    _REGISTRY[cls.TYPE_NAME] = cls


def being_unpickled() -> bool:
    """Whether the class being defined (call from its `__init_subclass__`) is a skeleton cloudpickle is
    rebuilding: such a class gets its attributes only after it is created."""
    frame: types.FrameType | None = sys._getframe(2)
    for _ in range(6):
        if frame is None:
            return False
        if frame.f_code.co_name == "_make_skeleton_class":
            return True
        frame = frame.f_back
    return False


def defer(cls: type[Artifact]) -> None:
    """Registers a skeleton class later, once its attributes are set (cloudpickle drops the skeleton
    of a class that is already loaded: then it is never registered)."""
    _PENDING.append(weakref.ref(cls))


def _promote_pending() -> None:
    """Registers the rebuilt classes whose attributes are set by now (kept skeletons); drops the
    ones cloudpickle threw away."""
    waiting = []
    for ref in _PENDING:
        cls = ref()
        if cls is None:
            continue
        if set(cls.__dict__) - {"__module__", "__doc__"}:
            if "TYPE_NAME" not in cls.__dict__:
                cls.TYPE_NAME = cls.__name__
            register(cls)
        else:
            waiting.append(ref)
    _PENDING[:] = waiting


def artifact_class(type_name: str) -> type[Artifact]:
    """Returns the registered class for `type_name`, or the generic :class:`Artifact`."""
    if _PENDING:
        _promote_pending()
    found = _REGISTRY.get(type_name)
    if found is None:
        from headrace.types.artifact import Artifact  # that module imports this one

        return Artifact
    return found


def class_path(cls: type) -> str:
    """'module:qualname' of a class, the form the IR records."""
    return f"{cls.__module__}:{cls.__qualname__}"
