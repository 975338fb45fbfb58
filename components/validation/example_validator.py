"""ExampleValidator: statistics checked against a schema (TFDV's `validate_statistics`), anomalies
per split; and, when the user asks, a failed run that names each anomaly, so no downstream step
trains on bad data."""

from __future__ import annotations

import json
from typing import Any

from headrace.components import common as _common
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.errors import HeadraceError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import ExampleAnomalies, ExampleStatistics, Schema


class DataValidationError(HeadraceError):
    """The data does not match its schema (ExampleValidator with fail_on_anomalies=True)."""


class ExampleValidatorSpec(ComponentSpec):
    """ExampleValidator's contract (TFX's names, plus fail_on_anomalies)."""

    PARAMETERS = {
        "exclude_splits": ExecutionParameter(type=list, optional=True),
        "fail_on_anomalies": ExecutionParameter(type=bool),
    }
    INPUTS = {
        "statistics": ChannelParameter(type=ExampleStatistics),
        "schema": ChannelParameter(type=Schema),
    }
    OUTPUTS = {"anomalies": ChannelParameter(type=ExampleAnomalies)}


def describe(anomalies_by_split: dict[str, Any]) -> list[str]:
    """One readable line per anomaly: split, feature, kind, description."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    lines = []
    for split, anomalies in anomalies_by_split.items():
        infos = list(anomalies.anomaly_info.items())
        if anomalies.HasField("dataset_anomaly_info"):
            infos.append(("(dataset)", anomalies.dataset_anomaly_info))
        for feature, info in sorted(infos):
            kinds = ", ".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "ANOMALY"
            text = info.description or info.short_description
            lines.append(f"split '{split}', feature '{feature}': {kinds}: {text}")
    return lines


class Executor(BaseExecutor):
    """Validates each split's statistics; writes `Split-<name>/SchemaDiff.pb`."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        _common.quiet_tensorflow()
        import tensorflow_data_validation as tfdv

        from headrace.components.io import artifact_files
        from headrace.components.reports import anomalies_html

        statistics = input_dict["statistics"][0]
        schema = artifact_files.read_schema(input_dict["schema"][0].uri)
        out = output_dict["anomalies"][0]
        splits = _common.chosen_splits(statistics, exec_properties.get("exclude_splits") or [], "ExampleValidator")
        found = {}
        for split in splits:
            anomalies = tfdv.validate_statistics(artifact_files.read_statistics(statistics.uri, split), schema)
            artifact_files.write_anomalies(out.uri, split, anomalies)
            found[split] = anomalies
        lines = describe(found)
        out.split_names = json.dumps(splits)
        if statistics.has_property("span"):
            out.span = statistics.span
        out.set_custom_property("anomaly_count", len(lines))
        out.set_custom_property("blessed", int(not lines))
        _common.write_report(out.uri, anomalies_html(found, "Anomalies"))
        out.set_custom_property("summary", f"{len(lines)} anomalies" if lines else "no anomalies")
        if not lines:
            print(f"no anomalies in {', '.join(splits)}")
            return
        listing = "\n".join(f"  - {line}" for line in lines)
        if exec_properties["fail_on_anomalies"]:
            raise DataValidationError(
                f"{len(lines)} anomal{'y' if len(lines) == 1 else 'ies'} against the schema; downstream steps will "
                f"not run on this data:\n{listing}\nFix the data, or update the schema if the change is expected."
            )
        print(f"{len(lines)} anomal{'y' if len(lines) == 1 else 'ies'} (recorded; fail_on_anomalies=False):\n{listing}")


class ExampleValidator(BaseComponent):
    """Checks statistics against a schema; anomalies per split.

    Args:
        statistics: A channel of ExampleStatistics.
        schema: A channel of Schema (from SchemaGen or ImportSchemaGen).
        exclude_splits: Splits not to validate.
        fail_on_anomalies: False (the default, as TFX) records anomalies and goes on; True fails
            the step with the list of anomalies, so its descendants do not run.
    """

    SPEC_CLASS = ExampleValidatorSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        statistics: Channel,
        schema: Channel,
        exclude_splits: list[str] | None = None,
        fail_on_anomalies: bool = False,
        custom_validation_config: Any = None,
    ):
        if custom_validation_config is not None:
            from headrace.errors import DefinitionError

            raise DefinitionError(
                "ExampleValidator: custom_validation_config (SQL-based checks) is not supported by headrace; "
                "express the constraint in the schema instead."
            )
        super().__init__(
            spec=ExampleValidatorSpec(
                statistics=statistics,
                schema=schema,
                exclude_splits=_common.check_splits(type(self).__name__, "exclude_splits", exclude_splits),
                fail_on_anomalies=fail_on_anomalies,
            )
        )
