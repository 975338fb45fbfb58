"""StatisticsGen: TFDV statistics of every split of an Examples artifact."""

from __future__ import annotations

import json
from typing import Any

from headrace.components import common as _common
from headrace.components.io.examples import payload_format
from headrace.components.io.execution_path import check_path, choose_path
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, BeamExecutorSpec
from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import Examples, ExampleStatistics, Schema


class StatisticsGenSpec(ComponentSpec):
    """StatisticsGen's contract (TFX's names)."""

    PARAMETERS = {
        "stats_options_json": ExecutionParameter(type=str, optional=True),
        "exclude_splits": ExecutionParameter(type=list, optional=True),
        "execution_path": ExecutionParameter(type=str),
    }
    INPUTS = {
        "examples": ChannelParameter(type=Examples),
        "schema": ChannelParameter(type=Schema, optional=True),
    }
    OUTPUTS = {"statistics": ChannelParameter(type=ExampleStatistics)}


class Executor(BaseExecutor):
    """Computes statistics per split, in process or on Beam, and writes `Split-<name>/FeatureStats.pb`."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        _common.quiet_tensorflow()
        from headrace.components.io import artifact_files
        from headrace.components.statistics import engine as stats_engine

        examples = input_dict["examples"][0]
        statistics = output_dict["statistics"][0]
        splits = _common.chosen_splits(examples, exec_properties.get("exclude_splits") or [], "StatisticsGen")
        schema = artifact_files.read_schema(input_dict["schema"][0].uri) if input_dict.get("schema") else None
        options = stats_engine.stats_options(exec_properties.get("stats_options_json"), schema)
        payload = payload_format(examples)
        path = choose_path(exec_properties["execution_path"], examples.uri, splits, self.context.beam_pipeline_args)
        if path == "beam":
            from headrace.components.statistics.beam import splits_statistics_beam

            by_split = splits_statistics_beam(
                examples.uri,
                splits,
                payload,
                options,
                self.context.beam_pipeline_args,
                work_dir=self.context.tmp_dir or None,
            )
        else:
            by_split = {s: stats_engine.split_statistics_in_process(examples.uri, s, payload, options) for s in splits}
        for split, stats in by_split.items():
            artifact_files.write_statistics(statistics.uri, split, stats)
        statistics.split_names = json.dumps(splits)
        if examples.has_property("span"):
            statistics.span = examples.span
        statistics.set_custom_property("execution_path", path)
        counts = ", ".join(f"{s} {by_split[s].datasets[0].num_examples:,}" for s in splits)
        print(f"statistics of {counts} rows ({path.replace('_', '-')})")
        from headrace.components.reports import statistics_html

        _common.write_report(statistics.uri, statistics_html(by_split, "Statistics"))


class StatisticsGen(BaseComponent):
    """Computes TFDV statistics of each split of `examples`.

    Args:
        examples: A channel of Examples (Parquet or tf.Example payloads).
        schema: Optional Schema channel: statistics then follow its types and domains.
        stats_options: A `tfdv.StatsOptions` (passed through as JSON).
        exclude_splits: Names of splits to leave out.
        execution_path: 'auto' (the default), 'in_process' or 'beam'. Both give the same statistics;
            'auto' uses Beam for splits over HEADRACE_BEAM_THRESHOLD_BYTES or when the pipeline's
            beam_pipeline_args name a runner other than DirectRunner.
    """

    SPEC_CLASS = StatisticsGenSpec
    # a Beam executor, as TFX's: `.with_beam_pipeline_args([...])` gives this node Beam arguments of its own
    EXECUTOR_SPEC = BeamExecutorSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        examples: Channel,
        schema: Channel | None = None,
        stats_options: Any = None,
        exclude_splits: list[str] | None = None,
        execution_path: str = "auto",
    ):
        owner = type(self).__name__
        options_json = None
        if stats_options is not None:
            if not hasattr(stats_options, "to_json"):
                raise DefinitionError(f"{owner}: stats_options must be a tfdv.StatsOptions, got {stats_options!r}.")
            try:
                options_json = stats_options.to_json()
            except ValueError as e:
                raise DefinitionError(f"{owner}: these stats_options cannot travel to the executor: {e}") from None
        super().__init__(
            spec=StatisticsGenSpec(
                examples=examples,
                schema=schema,
                stats_options_json=options_json,
                exclude_splits=_common.check_splits(owner, "exclude_splits", exclude_splits),
                execution_path=check_path(owner, execution_path),
            )
        )
