"""Every TFX module path headrace.tfx serves imports, its names resolve, and not-yet names say what brings them."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import headrace
from headrace.tfx import NotYetAvailableError
from headrace.tfx.dsl.component.experimental.annotations import OutputArtifact
from headrace.tfx.dsl.component.experimental.decorators import BaseFunctionalComponent, component
from headrace.types import standard_artifacts

# TFX module path -> names the research (TFX 1.16) lists for it that headrace serves today.
SERVED: dict[str, list[str]] = {
    "v1": ["dsl", "types", "orchestration", "components", "proto", "utils", "testing", "extensions", "__version__"],
    "v1.dsl": [
        "Artifact",
        "Channel",
        "Cond",
        "ExecutionMode",
        "Importer",
        "Pipeline",
        "Resolver",
        "components",
        "experimental",
        "io",
        "placeholders",
    ],
    "v1.dsl.components": [
        "InputArtifact",
        "OutputArtifact",
        "OutputDict",
        "Parameter",
        "BeamComponentParameter",
        "component",
    ],
    "v1.dsl.experimental": [
        "LatestArtifactStrategy",
        "LatestBlessedModelStrategy",
        "create_container_component",
        "RuntimeParameter",
        "FinalStatusStr",
    ],
    "orchestration.data_types": ["RuntimeParameter"],
    "orchestration.kubeflow.decorators": ["exit_handler", "FinalStatusStr"],
    "v1.dsl.io": ["fileio"],
    "v1.dsl.io.fileio": [
        "NotFoundError",
        "copy",
        "exists",
        "glob",
        "isdir",
        "listdir",
        "makedirs",
        "mkdir",
        "open",
        "remove",
        "rename",
        "rmtree",
        "stat",
        "walk",
        "PathType",
    ],
    "v1.types": [
        "BaseBeamComponent",
        "BaseChannel",
        "BaseComponent",
        "BaseFunctionalComponent",
        "BaseFunctionalComponentFactory",
        "BaseNode",
        "standard_artifacts",
    ],
    "v1.types.standard_artifacts": [
        "Boolean",
        "Bytes",
        "ExampleAnomalies",
        "ExampleStatistics",
        "Examples",
        "Float",
        "HyperParameters",
        "InferenceResult",
        "InfraBlessing",
        "Integer",
        "JsonValue",
        "Model",
        "ModelBlessing",
        "ModelEvaluation",
        "ModelRun",
        "PushedModel",
        "Schema",
        "String",
        "TransformCache",
        "TransformGraph",
        "TunerResults",
    ],
    "v1.orchestration": ["LocalDagRunner", "metadata", "experimental"],
    "v1.orchestration.metadata": [
        "sqlite_metadata_connection_config",
        "mysql_metadata_connection_config",
        "ConnectionConfigType",
    ],
    "v1.orchestration.experimental": [
        "InteractiveContext",
        "KubeflowV2DagRunner",
        "KubeflowV2DagRunnerConfig",
        "exit_handler",
        "FinalStatusStr",
    ],
    "v1.utils": ["parse_pbtxt_file", "JsonableType"],
    "v1.testing": ["Channel"],
    "types": [
        "Artifact",
        "BaseChannel",
        "Channel",
        "ComponentSpec",
        "ExecPropertyTypes",
        "OutputChannel",
        "Property",
        "ValueArtifact",
        "standard_artifacts",
        "artifact_utils",
        "channel",
        "channel_utils",
        "component_spec",
        "artifact",
    ],
    "types.standard_artifacts": [
        "Config",
        "DataView",
        "ExampleValidationMetrics",
        "ExamplesDiff",
        "ExternalArtifact",
        "Examples",
        "Model",
        "ModelBlessing",
    ],
    "types.artifact": ["Artifact", "ArtifactState", "Property", "PropertyType", "DEFAULT_EXAMPLE_SPLITS"],
    "types.channel": ["Channel", "BaseChannel", "OutputChannel"],
    "types.channel_utils": ["as_channel", "union", "unwrap_channel_dict", "ChannelForTesting"],
    "types.artifact_utils": [
        "get_single_instance",
        "get_single_uri",
        "get_split_uri",
        "get_split_uris",
        "encode_split_names",
        "decode_split_names",
        "replicate_artifacts",
        "get_artifact_type_class",
        "deserialize_artifact",
        "verify_artifacts",
        "jsonify_artifact_dict",
        "parse_artifact_dict",
    ],
    "types.component_spec": ["ChannelParameter", "ComponentSpec", "ExecutionParameter"],
    "types.standard_component_specs": ["STATISTICS_KEY", "SCHEMA_KEY", "ANOMALIES_KEY", "EXAMPLES_KEY"],
    "types.experimental.simple_artifacts": ["Dataset", "File", "Statistics", "Metrics"],
    "dsl.components.base.executor_spec": ["ExecutorClassSpec", "ExecutorSpec", "ExecutorContainerSpec"],
    "v1.dsl.placeholders": ["exec_property", "execution_invocation", "input", "output"],
    "dsl.placeholder.placeholder": [
        "Placeholder",
        "Predicate",
        "ChannelWrappedPlaceholder",
        "logical_and",
        "logical_or",
        "logical_not",
        "join",
        "exec_property",
        "input",
        "output",
    ],
    "proto.orchestration.platform_config_pb2": ["DockerPlatformConfig", "DESCRIPTOR"],
    "dsl.components.base.base_component": ["BaseComponent"],
    "dsl.components.base.base_executor": ["BaseExecutor"],
    "dsl.components.base.base_beam_component": ["BaseBeamComponent"],
    "dsl.components.base.base_beam_executor": ["BaseBeamExecutor"],
    "dsl.components.base.base_node": ["BaseNode"],
    "dsl.components.base": ["executor_spec", "base_component", "base_executor", "base_node"],
    "dsl.components.common": ["resolver", "importer"],
    "dsl.components.common.resolver": ["Resolver"],
    "dsl.components.common.importer": ["Importer", "IMPORT_RESULT_KEY"],
    "dsl.component.experimental.decorators": ["component", "BaseFunctionalComponent"],
    "dsl.component.experimental.annotations": [
        "InputArtifact",
        "OutputArtifact",
        "Parameter",
        "OutputDict",
        "BeamComponentParameter",
    ],
    "dsl.component.experimental.container_component": ["create_container_component"],
    "dsl.component.experimental.placeholders": [
        "InputValuePlaceholder",
        "InputUriPlaceholder",
        "OutputUriPlaceholder",
        "ConcatPlaceholder",
        "CommandlineArgumentType",
    ],
    "dsl.experimental": ["latest_blessed_model_resolver", "latest_artifacts_resolver", "conditionals"],
    "dsl.experimental.conditionals.conditional": ["Cond"],
    "dsl.experimental.latest_blessed_model_resolver": ["LatestBlessedModelResolver"],
    "dsl.experimental.latest_artifacts_resolver": ["LatestArtifactsResolver"],
    "dsl.input_resolution.strategies": ["latest_artifact_strategy", "latest_blessed_model_strategy"],
    "dsl.input_resolution.strategies.latest_artifact_strategy": ["LatestArtifactStrategy"],
    "dsl.input_resolution.strategies.latest_blessed_model_strategy": ["LatestBlessedModelStrategy"],
    "dsl.placeholder": ["placeholder"],
    "dsl.io": ["fileio"],
    "dsl.io.fileio": ["open", "exists", "listdir", "NotFoundError"],
    "orchestration": [
        "pipeline",
        "metadata",
        "data_types",
        "local",
        "beam",
        "airflow",
        "kubeflow",
        "experimental",
        "portable",
    ],
    "orchestration.beam": ["beam_dag_runner"],
    "orchestration.kubeflow.v2.kubeflow_v2_dag_runner": ["KubeflowV2DagRunner", "KubeflowV2DagRunnerConfig"],
    "orchestration.beam.beam_dag_runner": ["BeamDagRunner"],
    "orchestration.pipeline": ["Pipeline", "ExecutionMode"],
    "orchestration.metadata": ["Metadata", "sqlite_metadata_connection_config", "mysql_metadata_connection_config"],
    "orchestration.local.local_dag_runner": ["LocalDagRunner"],
    "orchestration.airflow": ["airflow_dag_runner"],
    "orchestration.airflow.airflow_dag_runner": ["AirflowDagRunner", "AirflowPipelineConfig"],
    "orchestration.experimental.interactive.interactive_context": ["InteractiveContext"],
    "orchestration.experimental.interactive.visualizations": [
        "get_registry",
        "ArtifactVisualization",
        "ArtifactVisualizationRegistry",
    ],
    "orchestration.experimental.interactive.standard_visualizations": ["register_standard_visualizations"],
    "orchestration.portable.mlmd.execution_lib": ["get_output_artifacts", "get_input_artifacts"],
    "utils": ["io_utils", "proto_utils", "json_utils"],
    "utils.io_utils": [
        "copy_file",
        "copy_dir",
        "write_string_file",
        "write_bytes_file",
        "read_string_file",
        "read_bytes_file",
        "ensure_local",
        "get_only_uri_in_dir",
        "parse_pbtxt_file",
        "write_pbtxt_file",
        "delete_dir",
        "all_files_pattern",
        "load_csv_column_names",
    ],
    "utils.proto_utils": ["json_to_proto", "proto_to_json", "proto_to_dict", "dict_to_proto"],
    "": ["v1", "types", "components", "dsl", "orchestration", "proto", "utils", "__version__"],
}

# (TFX import path, name or None for a module import, words the error must contain)
NOT_YET = [
    ("components", "Transform", "data components"),
    ("components", "Tuner", "model components"),
    ("proto", "tuner_pb2", "model components"),
    ("orchestration.kubeflow", "kubeflow_dag_runner", "orchestrator adapters"),
    ("v1.dsl.components", "AsyncOutputArtifact", "orchestrator adapters"),
    ("v1.extensions", "google_cloud_ai_platform", "Google Cloud"),
    ("dsl.placeholder.placeholder", "make_proto", "proto placeholders"),
]


def _module(path: str):
    return importlib.import_module("headrace.tfx" + (f".{path}" if path else ""))


@pytest.mark.parametrize("path", sorted(SERVED))
def test_module_path_imports_and_its_names_resolve(path):
    module = _module(path)
    for name in SERVED[path]:
        value = getattr(module, name)
        assert value is not None or name in ("JsonableType",), f"tfx.{path}.{name} is None"
        exec(f"from headrace.tfx{'.' + path if path else ''} import {name}", {})  # the `from X import Y` form too


@pytest.mark.parametrize(("path", "name", "words"), NOT_YET)
def test_not_yet_names_raise_import_error_naming_the_capability(path, name, words):
    with pytest.raises(ImportError, match=words) as info:
        exec(f"from headrace.tfx.{path} import {name}", {})
    assert "not in this version yet" in str(info.value)
    assert isinstance(info.value, NotYetAvailableError)


def test_module_import_of_a_missing_tfx_module_names_the_capability():
    with pytest.raises(ImportError, match="orchestrator adapters"):
        importlib.import_module("headrace.tfx.orchestration.kubeflow.kubeflow_dag_runner")
    with pytest.raises(ImportError, match="model components"):
        importlib.import_module("headrace.tfx.proto.tuner_pb2")


def test_unknown_names_get_did_you_mean():
    from headrace.tfx import v1 as tfx

    with pytest.raises(AttributeError, match="Did you mean 'Pipeline'"):
        tfx.dsl.Pipelin
    with pytest.raises(ModuleNotFoundError, match="Did you mean 'executor_spec'"):
        importlib.import_module("headrace.tfx.dsl.components.base.executor_spek")


def test_tfx_beam_dag_runner_is_headrace_s_with_tfx_s_constructor():
    from headrace.errors import DefinitionError
    from headrace.orchestrators import BeamDagRunner
    from headrace.tfx.orchestration.beam.beam_dag_runner import BeamDagRunner as TfxBeamDagRunner

    runner = TfxBeamDagRunner(["--direct_num_workers=1"])
    assert isinstance(runner, BeamDagRunner)
    assert runner.beam_orchestrator_args == ["--direct_num_workers=1"] and runner.beam_pipeline_args == []
    with pytest.raises(DefinitionError, match="PipelineConfig"):
        TfxBeamDagRunner(config=object())


def test_names_are_headrace_objects_not_copies():
    from headrace.tfx import v1 as tfx
    from headrace.tfx.dsl.components.base import executor_spec
    from headrace.tfx.types import standard_artifacts as tfx_sa

    assert executor_spec.ExecutorClassSpec is headrace.ExecutorClassSpec
    assert tfx.types.standard_artifacts.Examples is standard_artifacts.Examples is tfx_sa.Examples
    assert issubclass(
        tfx.orchestration.LocalDagRunner, importlib.import_module("headrace.orchestrators").LocalDagRunner
    )
    assert issubclass(tfx.dsl.Pipeline, headrace.Pipeline)
    assert tfx.dsl.io.fileio.listdir is importlib.import_module("headrace.fileio").listdir


def test_pipeline_keeps_tfx_parameter_order_and_refuses_what_is_not_there(tmp_path):
    from headrace.tfx import v1 as tfx
    from headrace.tfx.orchestration import pipeline

    imp = tfx.dsl.Importer(source_uri=str(tmp_path), artifact_type=standard_artifacts.Examples)
    config = tfx.orchestration.metadata.sqlite_metadata_connection_config(str(tmp_path / "m.sqlite"))
    p = pipeline.Pipeline("p", str(tmp_path), config, [imp])  # TFX's positional order
    assert p.metadata_connection_config is config and p.components == [imp] and p.enable_cache
    with pytest.raises(ValueError, match="orchestrator adapters"):
        pipeline.Pipeline("p", str(tmp_path), components=[imp], execution_mode=pipeline.ExecutionMode.ASYNC)


def test_component_decorator_forms():
    def no_op(out: OutputArtifact[standard_artifacts.Model]) -> None:
        pass

    bare = component(no_op)
    called = component(component_annotation=object)(no_op)
    assert bare.test_call is no_op and called.test_call is no_op
    assert isinstance(bare(), BaseFunctionalComponent)
    assert not isinstance(
        headrace.Importer(source_uri="/x", artifact_type=standard_artifacts.Model), BaseFunctionalComponent
    )
    with pytest.raises(ValueError, match=r"^@component\(use_beam=True\) no_op: The decorated function must have one"):
        component(use_beam=True)(no_op)


LIGHT = """
import json, sys
import headrace
assert 'headrace.tfx' not in sys.modules, 'import headrace imported headrace.tfx'
from headrace.tfx import v1 as tfx
from headrace.tfx.dsl.components.base import executor_spec, base_executor, base_component
from headrace.tfx.types import standard_artifacts, artifact_utils, channel_utils
from headrace.tfx.orchestration import metadata, pipeline
from headrace.tfx.dsl.io import fileio
tfx.dsl.Pipeline, tfx.dsl.components.component, tfx.orchestration.LocalDagRunner
tfx.orchestration.metadata.sqlite_metadata_connection_config
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_headrace_tfx_is_light_and_import_headrace_does_not_load_it():
    proc = subprocess.run([sys.executable, "-c", LIGHT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    modules = json.loads(proc.stdout)
    heavy = [
        m
        for m in modules
        if m.split(".")[0] in ("tensorflow", "apache_beam", "kfp", "airflow", "docker", "tensorflow_data_validation")
    ]
    assert heavy == []
    assert "headrace.tfx" in modules
