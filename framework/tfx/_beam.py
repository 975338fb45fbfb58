"""TFX's `tfx.orchestration.beam.beam_dag_runner.BeamDagRunner`: headrace's BeamDagRunner under TFX's
constructor, whose `beam_orchestrator_args` reach only the orchestrating Beam pipeline (the pipeline's
own `beam_pipeline_args` go to Beam-based executors, as in TFX)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headrace.errors import DefinitionError
from headrace.orchestrators.beam_dag_runner import BeamDagRunner as _HeadraceBeamDagRunner
from headrace.tfx._runners import TfxFailures


class BeamDagRunner(TfxFailures, _HeadraceBeamDagRunner):
    """Runs a pipeline as one Apache Beam pipeline (headrace's BeamDagRunner); a failed run raises the
    component's exception type, as TFX's does.

    Args:
        beam_orchestrator_args: Beam options of the orchestrating pipeline (default: the DirectRunner).
        config: TFX's PipelineConfig (per-component launchers) has no headrace counterpart: every node
            runs through headrace's node launcher, so only None is accepted.
    """

    def __init__(self, beam_orchestrator_args: Sequence[str] | None = None, config: Any = None):
        if config is not None:
            raise DefinitionError(
                "BeamDagRunner(config=...): TFX's PipelineConfig (per-component launchers) is not supported; "
                "headrace runs every node through its own node launcher. Drop the config argument."
            )
        super().__init__(beam_orchestrator_args=beam_orchestrator_args)
