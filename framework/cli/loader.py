"""Loading a pipeline file: a module-level `pipeline` or a `create_pipeline()` function."""

from __future__ import annotations

import os
import traceback

from headrace.dsl import Pipeline
from headrace.errors import HeadraceError
from headrace.launcher.executor_runner import load_file_as_module


class UserError(HeadraceError):
    """A mistake the CLI reports as a message, without a stack trace."""


def _where(e: BaseException, path: str) -> str:
    """' (line N)': the last line of the user's file in the error's traceback."""
    if isinstance(e, SyntaxError) and e.lineno:
        return f" (line {e.lineno})"
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) == os.path.abspath(path)]
    return f" (line {frames[-1].lineno})" if frames else ""


def load_pipeline(path: str) -> Pipeline:
    """Executes a pipeline file and returns its pipeline.

    Raises:
        UserError: the file is missing, fails to execute, or defines no pipeline.
    """
    if not os.path.isfile(path):
        raise UserError(f"Pipeline file not found: {path}")
    if not path.endswith(".py"):
        raise UserError(f"A pipeline file is a Python file (.py), got {path}")
    try:
        module = load_file_as_module(path)
    except HeadraceError as e:
        raise UserError(f"{path}{_where(e, path)}: {e}") from None
    except Exception as e:  # noqa: BLE001 - a user's file may raise anything
        raise UserError(f"Loading {path} failed{_where(e, path)}: {type(e).__name__}: {e}") from None
    found = getattr(module, "pipeline", None)
    if found is None and callable(getattr(module, "create_pipeline", None)):
        try:
            found = module.create_pipeline()
        except HeadraceError as e:
            raise UserError(f"{path}: create_pipeline(): {e}") from None
        except Exception as e:  # noqa: BLE001
            raise UserError(f"{path}: create_pipeline() failed: {type(e).__name__}: {e}") from None
    if found is None:
        raise UserError(
            f"{path} defines no pipeline: give it a module-level `pipeline = Pipeline(...)` or a "
            "`create_pipeline()` function that returns one."
        )
    if not isinstance(found, Pipeline):
        raise UserError(f"{path}: `pipeline` must be a headrace Pipeline, got {type(found).__name__}.")
    return found


__all__ = ["UserError", "load_pipeline"]
