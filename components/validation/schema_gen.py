"""SchemaGen (a schema inferred from statistics with TFDV) and ImportSchemaGen (a curated schema
file the user checked in)."""

from __future__ import annotations

import os
from typing import Any

from headrace.components import common as _common
from headrace.dsl.base_component import BaseComponent
from headrace.dsl.executor import BaseExecutor, ExecutorClassSpec
from headrace.errors import DefinitionError
from headrace.types.artifact import Artifact
from headrace.types.channel import Channel
from headrace.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter
from headrace.types.standard_artifacts import ExampleStatistics, Schema


class SchemaGenSpec(ComponentSpec):
    """SchemaGen's contract (TFX's names)."""

    PARAMETERS = {
        "infer_feature_shape": ExecutionParameter(type=bool),
        "exclude_splits": ExecutionParameter(type=list, optional=True),
    }
    INPUTS = {"statistics": ChannelParameter(type=ExampleStatistics)}
    OUTPUTS = {"schema": ChannelParameter(type=Schema)}


class Executor(BaseExecutor):
    """Infers a schema from the first chosen split's statistics and updates it with the others."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        _common.quiet_tensorflow()
        import tensorflow_data_validation as tfdv

        from headrace.components.io import artifact_files
        from headrace.components.reports import schema_html

        statistics = input_dict["statistics"][0]
        splits = _common.chosen_splits(statistics, exec_properties.get("exclude_splits") or [], "SchemaGen")
        schema: Any = None
        for split in splits:
            stats = artifact_files.read_statistics(statistics.uri, split)
            if schema is None:
                schema = tfdv.infer_schema(stats, infer_feature_shape=exec_properties["infer_feature_shape"])
            else:
                schema = tfdv.update_schema(schema, stats)
        out = output_dict["schema"][0]
        artifact_files.write_schema(out.uri, schema)
        print(f"schema of {len(schema.feature)} features from splits {', '.join(splits)}")
        _common.write_report(out.uri, schema_html(schema, "Schema"))


class SchemaGen(BaseComponent):
    """Infers a schema from statistics (TFDV's `infer_schema`).

    Args:
        statistics: A channel of ExampleStatistics.
        infer_feature_shape: Give features a fixed shape where every example has one value (as
            TFX, default True), instead of a value count range.
        exclude_splits: Splits whose statistics are left out (TFX leaves none out by default).
    """

    SPEC_CLASS = SchemaGenSpec
    EXECUTOR_SPEC = ExecutorClassSpec(Executor, worker_group=_common.TFDV_GROUP)

    def __init__(
        self,
        statistics: Channel,
        infer_feature_shape: bool = True,
        exclude_splits: list[str] | None = None,
    ):
        super().__init__(
            spec=SchemaGenSpec(
                statistics=statistics,
                infer_feature_shape=infer_feature_shape,
                exclude_splits=_common.check_splits(type(self).__name__, "exclude_splits", exclude_splits),
            )
        )


class ImportSchemaGenSpec(ComponentSpec):
    """ImportSchemaGen's contract."""

    PARAMETERS = {"schema_file": ExecutionParameter(type=str, fingerprint=True)}
    OUTPUTS = {"schema": ChannelParameter(type=Schema)}


class ImportSchemaExecutor(BaseExecutor):
    """Checks the schema file parses as a Schema, then copies it byte for byte (comments included)
    as the artifact's schema.pbtxt, as TFX's ImportSchemaGen does."""

    def Do(
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        from headrace.components.io import artifact_files
        from headrace.components.reports import schema_html

        path = exec_properties["schema_file"]
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise artifact_files.ArtifactFileError(
                f"schema_file {path} does not exist. Point ImportSchemaGen at a text-format Schema (schema.pbtxt)."
            ) from None
        except IsADirectoryError:
            raise artifact_files.ArtifactFileError(
                f"schema_file {path} is a directory. Point ImportSchemaGen at the schema file in it (schema.pbtxt)."
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise artifact_files.ArtifactFileError(f"schema_file {path} is not UTF-8 text.") from None
        schema = artifact_files.parse_schema_text(text, path)
        if not schema.feature:
            raise artifact_files.ArtifactFileError(f"schema_file {path} declares no feature.")
        out = output_dict["schema"][0]
        artifact_files.copy_schema(out.uri, data)  # the file as the user wrote it, not re-serialized
        print(f"schema of {len(schema.feature)} features imported from {path}")
        _common.write_report(out.uri, schema_html(schema, "Schema"))


class ImportSchemaGen(BaseComponent):
    """Imports a curated schema file (text-format Schema proto) as a Schema artifact.

    Args:
        schema_file: The path of the schema file, e.g. a schema.pbtxt kept in version control.
    """

    SPEC_CLASS = ImportSchemaGenSpec
    EXECUTOR_SPEC = ExecutorClassSpec(ImportSchemaExecutor)

    def __init__(self, schema_file: str | os.PathLike[str]):
        if not isinstance(schema_file, (str, os.PathLike)) or not str(schema_file):
            raise DefinitionError(f"ImportSchemaGen: schema_file must be a file path, got {schema_file!r}.")
        super().__init__(spec=ImportSchemaGenSpec(schema_file=os.path.abspath(os.fspath(schema_file))))
