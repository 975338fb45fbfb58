"""TFX's runners surface a failed component's own exception: `LocalDagRunner().run(p)` raises the
AssertionError the component raised, and TFX's tests are written `with self.assertRaises(...)`.

headrace's runners raise :class:`~headrace.errors.PipelineRunError`, which is already an instance of the
executor's exception class when that class can be found (`headrace.errors.run_error`). Through
`headrace.tfx`, the error's message is also the executor's own (so `assertRaisesRegex` patterns anchored
with `^` or `$` match as under TFX); the run's details stay on it (`.result`, `.node_id`, `.error`), and
headrace's error (run id, node, the executor's traceback) is its `__cause__`, printed above it.
"""

from __future__ import annotations

from typing import Any

from headrace.errors import PipelineRunError, run_error
from headrace.orchestrators import LocalDagRunner as _HeadraceLocalDagRunner
from headrace.orchestrators.base_runner import BaseRunner


def as_tfx_raises(error: PipelineRunError) -> PipelineRunError:
    """`error` as TFX's runner would show it: the executor's message (the run's details on its attributes).
    An error that is not also the executor's exception class (not found here) is returned unchanged."""
    if type(error) is PipelineRunError or error.error is None:
        return error
    shaped = run_error(error.result, error.node_id, error.error)
    shaped.args = (error.error.message,)
    return shaped


class TfxFailures(BaseRunner):
    """A runner whose `run()` raises failures as TFX's runners do (see the module docstring)."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """headrace's `run()`; a failed run raises the executor's exception type with its message."""
        try:
            return super().run(*args, **kwargs)
        except PipelineRunError as error:
            shaped = as_tfx_raises(error)
            if shaped is error:
                raise
            raise shaped from error  # headrace's error, printed above, shows the run and the executor's traceback


class LocalDagRunner(TfxFailures, _HeadraceLocalDagRunner):
    """headrace's LocalDagRunner; a failed run raises the component's exception type, as TFX's does."""


__all__ = ["LocalDagRunner", "TfxFailures", "as_tfx_raises"]
