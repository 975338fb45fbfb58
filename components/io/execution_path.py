"""Choosing between a component's in-process path and its Beam path (StatisticsGen, BulkInferrer).

Beam when asked (`execution_path='beam'`), when the pipeline's beam_pipeline_args name a runner
other than DirectRunner, or when the splits to read are larger than HEADRACE_BEAM_THRESHOLD_BYTES
(8 GiB on disk by default); in process otherwise.
"""

from __future__ import annotations

import os

from headrace.components.io.examples import data_files, split_uri
from headrace.errors import DefinitionError

PATHS = ("auto", "in_process", "beam")


def check_path(owner: str, path: str) -> str:
    """Validates an execution path name."""
    if path not in PATHS:
        raise DefinitionError(f"{owner}: execution_path must be one of {', '.join(PATHS)}; got {path!r}.")
    return path


def beam_threshold_bytes() -> int:
    """The split size (bytes on disk) above which `auto` uses Beam."""
    return int(os.environ.get("HEADRACE_BEAM_THRESHOLD_BYTES", str(8 << 30)))


def choose_path(requested: str, uri: str, splits: list[str], beam_pipeline_args: list[str]) -> str:
    """'in_process' or 'beam' for this execution."""
    if requested != "auto":
        return requested
    runner = next((a.split("=", 1)[1] for a in beam_pipeline_args if a.startswith("--runner=")), "")
    if runner and runner not in ("DirectRunner", "direct", "InteractiveRunner"):
        return "beam"
    size = sum(os.path.getsize(f) for s in splits for f in data_files(split_uri(uri, s)))
    return "beam" if size > beam_threshold_bytes() else "in_process"


__all__ = ["PATHS", "beam_threshold_bytes", "check_path", "choose_path"]
