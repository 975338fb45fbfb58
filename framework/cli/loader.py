"""Loading a pipeline file: a module-level `pipeline` or a `create_pipeline()` function."""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from types import ModuleType

from headrace.dsl import Pipeline
from headrace.dsl.user_code import user_module_name
from headrace.errors import HeadraceError


class UserError(HeadraceError):
    """A mistake the CLI reports as a message, without a stack trace."""


def load_file_as_module(path: str, name: str | None = None) -> ModuleType:
    """Executes a Python file as a module registered in sys.modules (under a private name, with its
    directory on sys.path, so it can import its neighbours)."""
    path = os.path.abspath(path)
    name = name or user_module_name(path)
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load {path} as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


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
        raise UserError(f"A pipeline file is a Python file (.py) or a compiled IR (.json), got {path}")
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


__all__ = ["UserError", "load_file_as_module", "load_pipeline"]
