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

import difflib
from collections.abc import Iterable


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

    def __str__(self) -> str:
        text = f"node '{self.node_id}' failed: {self.error_type}: {self.message}"
        if self.traceback_text and not self.expected:
            text += "\n\nOriginal traceback:\n" + self.traceback_text.rstrip()
        return text


class PipelineRunError(HeadraceError):
    """A run did not complete. Raised by runners (unless told to return the result instead).

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
        super().__init__(head)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Returns ' Did you mean 'x'?' for the nearest candidate, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
