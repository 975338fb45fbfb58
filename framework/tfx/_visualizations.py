"""TFX's notebook visualizations registry, with a generic HTML view of any artifact.

TFX registers TFDV/TFMA views (statistics, schema, anomalies, evaluation); those come with
headrace's data and model components. The generic view shows what `Artifact._repr_html_` shows.
"""

from __future__ import annotations

import abc
from typing import Any, cast

from headrace.types import Artifact, standard_artifacts


class ArtifactVisualization(abc.ABC):
    """A notebook view of one artifact type: set `ARTIFACT_TYPE`, implement `display`."""

    ARTIFACT_TYPE: type[Artifact]

    @abc.abstractmethod
    def display(self, artifact: Artifact) -> Any:
        """Shows the artifact in the notebook."""


class ArtifactVisualizationRegistry:
    """Visualizations by artifact type name."""

    def __init__(self) -> None:
        self.visualizations: dict[str, ArtifactVisualization] = {}

    def register(self, visualization_class: type[ArtifactVisualization]) -> None:
        """Instantiates and registers a visualization class for its `ARTIFACT_TYPE`.

        Raises:
            TypeError: `ARTIFACT_TYPE` is not an Artifact subclass.
        """
        artifact_type: Any = getattr(visualization_class, "ARTIFACT_TYPE", None)
        if not (isinstance(artifact_type, type) and issubclass(artifact_type, Artifact)):
            raise TypeError(
                f"{visualization_class.__name__}.ARTIFACT_TYPE must be an Artifact subclass, got {artifact_type!r}."
            )
        self.visualizations[cast(type[Artifact], artifact_type).TYPE_NAME] = visualization_class()

    def get_visualization(self, artifact_type_name: str) -> ArtifactVisualization | None:
        """The visualization registered for a type name, or None."""
        return self.visualizations.get(artifact_type_name)


_REGISTRY = ArtifactVisualizationRegistry()


def get_registry() -> ArtifactVisualizationRegistry:
    """The process-wide registry."""
    return _REGISTRY


class ArtifactHtmlVisualization(ArtifactVisualization):
    """The generic view: type, id, state, URI, properties, custom properties (and a value artifact's value)."""

    ARTIFACT_TYPE = Artifact

    def display(self, artifact: Artifact) -> str:
        """Displays the artifact's HTML table in IPython (when available) and returns the HTML."""
        html = artifact._repr_html_()
        try:
            from IPython.display import HTML
            from IPython.display import display as ipython_display
        except ImportError:
            return html
        ipython_display(HTML(html))
        return html


STANDARD_VISUALIZATIONS = frozenset(
    type(
        f"{name}Visualization",
        (ArtifactHtmlVisualization,),
        {"ARTIFACT_TYPE": getattr(standard_artifacts, name), "__module__": __name__},
    )
    for name in standard_artifacts.__all__
)


def register_standard_visualizations() -> None:
    """Registers the generic view for every standard artifact type (may be called repeatedly)."""
    for visualization in sorted(STANDARD_VISUALIZATIONS, key=lambda v: v.__name__):
        _REGISTRY.register(visualization)


__all__ = ["ArtifactVisualization", "ArtifactVisualizationRegistry", "get_registry"]
