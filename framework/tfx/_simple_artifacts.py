"""TFX's `tfx.types.experimental.simple_artifacts`: plain artifact types without properties."""

from __future__ import annotations

from headrace.types import Artifact


class Dataset(Artifact):
    """A dataset."""

    TYPE_NAME = "Dataset"


class File(Artifact):
    """A file."""

    TYPE_NAME = "File"


class Statistics(Artifact):
    """Statistics of some data."""

    TYPE_NAME = "Statistics"


class Metrics(Artifact):
    """Metrics."""

    TYPE_NAME = "Metrics"


__all__ = ["Dataset", "File", "Metrics", "Statistics"]
