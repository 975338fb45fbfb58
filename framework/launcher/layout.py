"""Where a node's outputs live on disk, as TFX lays them out; made before the executor runs, removed when
an attempt is abandoned.

An output artifact's URI is ``{pipeline_root}/{node_id}/{output_key}/{attempt}``: a folder the executor
writes into. A value artifact (String, Integer, Float, Bytes, Boolean, JsonValue, or a subclass of
ValueArtifact) is one file, and its URI is that file, ``.../{attempt}/value``, as TFX's
``OutputsResolver`` makes it (so TFX code's ``open(artifact.uri).read()`` works). Either way the attempt
folder belongs to that one attempt, and only the parent folder of a file output is made beforehand: a
file that exists at a value URI was written by this attempt, never left over from another.

A value type the process cannot know yet (a user's ValueArtifact subclass in a process that has not
loaded its module) gets a folder URI; its value is then written to ``{uri}/value``, the layout earlier
headrace versions used, which every reader still understands (``headrace.types.artifact.value_file``).
"""

from __future__ import annotations

import os
import shutil

from headrace.compiler.ir import ArtifactTypeIR
from headrace.types.artifact import ValueArtifact
from headrace.types.registry import artifact_class


def is_value_type(artifact_type: ArtifactTypeIR | str) -> bool:
    """Whether artifacts of this type hold one value in a file (ValueArtifact and its subclasses)."""
    name = artifact_type if isinstance(artifact_type, str) else artifact_type.name
    return issubclass(artifact_class(name), ValueArtifact)


def output_uri(pipeline_root: str, node_id: str, key: str, attempt: str, artifact_type: ArtifactTypeIR) -> str:
    """The URI of a new output: the attempt's folder, or the value file in it for a value artifact."""
    folder = os.path.join(pipeline_root, node_id, key, attempt)
    return os.path.join(folder, ValueArtifact.VALUE_FILE) if is_value_type(artifact_type) else folder


def attempt_folder(uri: str, value: bool) -> str:
    """The folder an output's attempt owns: the URI itself, or the folder of a value file."""
    return os.path.dirname(uri) if value else uri


def prepare_output(uri: str, value: bool, file_or_folder: bool = False) -> None:
    """Clears whatever sits at the attempt's path (a leftover, which must never be published as this
    attempt's output) and makes what the executor writes into: the folder itself, or only its parent for a
    value file and for an output a container command may create as a file or a folder (`file_or_folder`)."""
    _clear(attempt_folder(uri, value), strict=True)  # a leftover that cannot be removed stops the attempt
    os.makedirs(os.path.dirname(uri) if value or file_or_folder else uri, exist_ok=True)


def remove_output(uri: str) -> None:
    """Removes an abandoned output: a folder, or a file (a value, or what a container wrote at its URI), and
    then a value file's attempt folder if nothing else is in it."""
    _clear(uri)
    if os.path.basename(uri) == ValueArtifact.VALUE_FILE:
        try:
            os.rmdir(os.path.dirname(uri))
        except OSError:
            pass  # not empty, or already gone: never more than this attempt's own folder


def _clear(path: str, strict: bool = False) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=not strict)
    elif os.path.lexists(path):
        os.remove(path)
