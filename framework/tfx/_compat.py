"""Small adapters where TFX's signature or convention differs from headrace's: `Pipeline`, `ExecutionMode`,
`ComponentSpec`."""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from typing import Any

from headrace.dsl import BaseComponent
from headrace.dsl import Pipeline as _HeadracePipeline
from headrace.errors import DefinitionError
from headrace.types import ComponentSpec as _HeadraceComponentSpec
from headrace.types import ExecutionParameter


class ExecutionMode(enum.Enum):
    """TFX's pipeline execution modes; headrace runs SYNC pipelines."""

    SYNC = 1
    ASYNC = 2


class Pipeline(_HeadracePipeline):
    """headrace's `Pipeline` with TFX's parameter order (TFX code passes keywords, so this rarely matters).

    `enable_cache` defaults to True, as in headrace (TFX's default is False): pass
    `enable_cache=False` for TFX's behaviour. `execution_mode=ASYNC`, `platform_config`,
    `inputs`/`outputs` (sub-pipelines) are not supported yet and fail at construction.
    `dsl_context_registry` is accepted and ignored.
    """

    def __init__(
        self,
        pipeline_name: str,
        pipeline_root: str | os.PathLike[str] = "",
        metadata_connection_config: Any = None,
        components: Sequence[BaseComponent] = (),
        enable_cache: bool = True,
        beam_pipeline_args: Sequence[str] | None = None,
        platform_config: Any = None,
        execution_mode: ExecutionMode = ExecutionMode.SYNC,
        inputs: Any = None,
        outputs: Any = None,
        dsl_context_registry: Any = None,
    ):
        unsupported = {
            "execution_mode=ASYNC": execution_mode is not ExecutionMode.SYNC,
            "platform_config": platform_config is not None,
            "inputs (a sub-pipeline)": inputs is not None,
            "outputs (a sub-pipeline)": outputs is not None,
        }
        for what, given in unsupported.items():
            if given:
                raise DefinitionError(
                    f"Pipeline({what}) comes with headrace's orchestrator adapters (not in this version yet); "
                    "remove the argument to run the pipeline with LocalDagRunner."
                )
        super().__init__(
            pipeline_name=pipeline_name,
            pipeline_root=pipeline_root,
            components=components,
            metadata_connection_config=metadata_connection_config,
            enable_cache=enable_cache,
            beam_pipeline_args=beam_pipeline_args,
        )

    @property
    def execution_mode(self) -> ExecutionMode:
        """Always SYNC."""
        return ExecutionMode.SYNC

    @property
    def id(self) -> str:
        """The pipeline name (TFX's `pipeline.id`)."""
        return self.pipeline_name


__all__ = ["ExecutionMode", "Pipeline"]


class ComponentSpec(_HeadraceComponentSpec):
    """headrace's `ComponentSpec` with TFX's convention for user code: a str parameter named `module_file`
    names a module whose content (and that of the `.py` files it imports from its folder) belongs to the
    cache key, as TFX fingerprints it, so a custom component ported from TFX re-runs when its module file
    is edited. headrace's own specs declare this with `ExecutionParameter(fingerprint=True)`."""

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        declared = cls.PARAMETERS.get("module_file")
        if isinstance(declared, ExecutionParameter) and declared.base_type is str and not declared.fingerprint:
            code = ExecutionParameter(declared.type, declared.optional, fingerprint=True)
            cls.PARAMETERS = {**cls.PARAMETERS, "module_file": code}
