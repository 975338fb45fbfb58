"""The error taxonomy.

Three families, so that a caller can tell whose fault a failure is:

* :class:`DefinitionError` -- raised while a component or pipeline is being
  defined or compiled (a user mistake in the pipeline code).
* :class:`ExecutorError` -- user code inside an executor raised; it names the
  node and carries the original traceback text.
* :class:`HeadraceError` subclasses for everything the framework itself runs
  into (metadata store, IR version mismatch, missing optional dependency).
"""

from __future__ import annotations

import builtins
import difflib
import sys
from collections.abc import Iterable
from typing import Any


class HeadraceError(Exception):
    """Base class of every error headrace raises on purpose."""


class DefinitionError(HeadraceError, ValueError):
    """A component, channel or pipeline was defined wrongly.

    Raised eagerly, at construction or compile time, never halfway through a run.
    """


class IRError(HeadraceError, ValueError):
    """An IR document cannot be read (wrong version, malformed JSON)."""


class MetadataError(HeadraceError):
    """The ML Metadata store could not be opened or used."""


class NotInStoreError(MetadataError):
    """The store was read, and holds no run, execution or artifact of the id asked for."""


class MissingDependencyError(HeadraceError, ImportError):
    """An optional integration was used without its extra installed."""

    def __init__(self, package: str, extra: str, feature: str):
        super().__init__(
            f"Package '{package}' must be installed to use {feature}. Install it with: pip install 'headrace[{extra}]'"
        )


class ExecutorError(HeadraceError):
    """User code in a node's executor failed.

    Attributes:
        node_id: The pipeline node whose executor failed.
        error_type: The class name of the original exception.
        message: The original exception's message.
        traceback_text: The original traceback, formatted.
        expected: The executor raised a headrace error on purpose (bad input data, failed
            validation): its message says what to fix, so `str()` leaves the traceback out
            (`traceback_text` and the step's log keep it).
    """

    def __init__(self, node_id: str, error_type: str, message: str, traceback_text: str = "", expected: bool = False):
        self.node_id = node_id
        self.error_type = error_type
        self.message = message
        self.traceback_text = traceback_text
        self.expected = expected
        super().__init__(f"node '{node_id}' failed: {error_type}: {message}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (self.node_id, self.error_type, self.message, self.traceback_text, self.expected)

    def __str__(self) -> str:
        text = f"node '{self.node_id}' failed: {self.error_type}: {self.message}"
        if self.traceback_text and not self.expected:
            text += "\n\nOriginal traceback:\n" + self.traceback_text.rstrip()
        return text


class PipelineRunError(HeadraceError):
    """A run did not complete. Raised by runners (unless told to return the result instead).

    When a node's executor raised an exception whose class can be found where the run was started (a
    builtin such as AssertionError or ValueError, or a class of a module imported there), the error the
    runner raises is also an instance of that class (see :func:`run_error`): `except AssertionError` and
    TFX's `assertRaises(AssertionError)` catch it, as they catch TFX's re-raised exception.

    Attributes:
        result: The run's result (`RunResult`): every node's state, error and outputs.
        node_id: The first node that failed, if any.
        error: That node's error (an :class:`ExecutorError`), if any.
    """

    def __init__(self, result: object, node_id: str | None, error: ExecutorError | None):
        self.result = result
        self.node_id = node_id
        self.error = error
        run_id, state = getattr(result, "run_id", "?"), getattr(result, "state", "FAILED")
        if error is not None:
            head = f"Run {run_id} {state}: {error}"
        else:
            head = f"Run {run_id} ended {state}."
        # Not super().__init__: in a class that is also the executor's exception class, that class's
        # __init__ (which may want other arguments) is not called; its attributes are absent.
        Exception.__init__(self, head)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""  # the run's message, whatever the original's __str__ does

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return run_error, (self.result, self.node_id, self.error)


def run_error(result: object, node_id: str | None, error: ExecutorError | None) -> PipelineRunError:
    """The :class:`PipelineRunError` for a run whose node `node_id` failed with `error`.

    The executor ran in another process, so only the exception's class name and traceback came back. If
    that class can be found here without importing anything (a builtin, or a class of a module already in
    `sys.modules`, `__main__` included) and is an Exception that can be subclassed, the error is an instance
    of a subclass of both PipelineRunError and that class, so it is caught as either.
    """
    original = _exception_class(error) if error is not None else None
    cls = _catchable_as(original) if original is not None else PipelineRunError
    return cls(result, node_id, error)


def _exception_class(error: ExecutorError) -> type[Exception] | None:
    """The class `error` names, found by its traceback's last line (`module.Qualname: message`)."""
    lines = error.traceback_text.splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if not headers:
        return None
    exception_line = next((ln for ln in lines[headers[-1] + 1 :] if ln and not ln[0].isspace()), "")
    dotted = exception_line.partition(":")[0].strip()
    parts = dotted.split(".")
    if parts[-1] != error.error_type:
        return None
    found: Any = None
    if len(parts) == 1:  # the traceback leaves out "builtins." and "__main__."
        found = getattr(builtins, dotted, None) or getattr(sys.modules.get("__main__"), dotted, None)
    for i in range(len(parts) - 1, 0, -1):
        if found is not None:
            break
        found = sys.modules.get(".".join(parts[:i]))
        for attr in parts[i:] if found is not None else ():
            found = getattr(found, attr, None)
    ok = isinstance(found, type) and issubclass(found, Exception) and found.__name__ == error.error_type
    return found if ok else None


_NOT_CAUGHT_AS = (StopIteration, StopAsyncIteration, PipelineRunError)  # never a run error's second class


_COMBINED: dict[type[Exception], type[PipelineRunError]] = {}  # one class per original: isinstance, pickling


def _catchable_as(original: type[Exception]) -> type[PipelineRunError]:
    """A subclass of PipelineRunError and `original` (PipelineRunError itself if they cannot be combined)."""
    if original in _COMBINED:
        return _COMBINED[original]
    combined: type[PipelineRunError] = PipelineRunError
    if not issubclass(original, _NOT_CAUGHT_AS):
        try:
            combined = type(
                f"PipelineRunError[{original.__name__}]",
                (PipelineRunError, original),
                {"__module__": __name__, "__doc__": f"A failed run whose node raised {original.__qualname__}."},
            )
        except TypeError:  # a final class or an incompatible instance layout
            pass
    _COMBINED[original] = combined
    return combined


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Returns ' Did you mean 'x'?' for the nearest candidate, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
