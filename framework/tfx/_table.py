"""Which TFX module path holds which names, and where each name comes from in headrace.

`MODULES` maps a TFX module path (relative to `tfx`, e.g. 'dsl.components.base.executor_spec')
to its names. A provider is a string: 'module:attr' (an attribute of a headrace module, imported
on first use), 'module' (a whole headrace module), or a :class:`Const`. `STAR` names a headrace
module whose `__all__` a TFX module serves whole. Submodules listed in `MODULES` are attributes of
their parent automatically. What headrace does not have is in `headrace.tfx._missing`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Const(NamedTuple):
    """A plain value served under a TFX name (a constant, a typing alias)."""

    value: Any


_SA = "headrace.types.standard_artifacts"
_DSL = "headrace.dsl"
_PH = "headrace.dsl.placeholders"
_PH_NAMES = "Placeholder Predicate ExecPropertyPlaceholder exec_property execution_invocation input output join"
_C = "headrace.tfx._compat"
_COMP = "headrace.components"
_PROTO = "headrace.components.proto"
# TFX's exit handler decorator is its @component (runner.set_exit_handler or Pipeline(exit_handler=...)).
_EXIT_HANDLER = {"exit_handler": "headrace.tfx._decorators:component", "FinalStatusStr": "headrace.dsl:FinalStatusStr"}
_TFX_GENS = "headrace.tfx._components"  # ExampleGens writing TFX's tf.Example by default


_ANNOTATIONS = {
    "InputArtifact": f"{_DSL}:InputArtifact",
    "OutputArtifact": f"{_DSL}:OutputArtifact",
    "OutputDict": f"{_DSL}:OutputDict",
    "Parameter": f"{_DSL}:Parameter",
    "BeamComponentParameter": "headrace.tfx._decorators:BeamComponentParameter",
}
_METADATA: dict[str, str | Const] = {
    "sqlite_metadata_connection_config": "headrace.metadata:sqlite_metadata_connection_config",
    "mysql_metadata_connection_config": "headrace.metadata:mysql_metadata_connection_config",
    "ConnectionConfigType": Const(Any),
}
_INTERACTIVE_CONTEXT = "headrace.orchestrators:InteractiveContext"
_PIPELINE = f"{_C}:Pipeline"
_KUBEFLOW_V2: dict[str, str | Const] = {
    n: f"headrace.orchestrators.kubeflow_v2_dag_runner:{n}"
    for n in ("KubeflowV2DagRunner", "KubeflowV2DagRunnerConfig")
}


def _from(module: str, names: str) -> dict[str, str | Const]:
    """Table entries serving each of the space-separated `names` from the headrace `module`."""
    return {n: f"{module}:{n}" for n in names.split()}


# TFX's tfx/proto/example_gen.proto and range_config.proto (as generated `_pb2` modules expose them).
_EXAMPLE_GEN_ENUM_VALUES = (
    "FORMAT_UNSPECIFIED FORMAT_TF_EXAMPLE FORMAT_TF_SEQUENCE_EXAMPLE FORMAT_PROTO FORMAT_PARQUET "
    "FILE_FORMAT_UNSPECIFIED FORMAT_TFRECORDS_GZIP FILE_FORMAT_PARQUET"
)
_EXAMPLE_GEN_PB2 = {
    **_from(_PROTO, f"CustomConfig FileFormat Input Output PayloadFormat SplitConfig {_EXAMPLE_GEN_ENUM_VALUES}"),
    "DESCRIPTOR": f"{_PROTO}:EXAMPLE_GEN_DESCRIPTOR",
}
_RANGE_CONFIG_PB2 = {
    **_from(_PROTO, "RangeConfig RollingRange StaticRange"),
    "DESCRIPTOR": f"{_PROTO}:RANGE_CONFIG_DESCRIPTOR",
}
_TRAINER_PB2 = {**_from(_PROTO, "EvalArgs TrainArgs"), "DESCRIPTOR": f"{_PROTO}:TRAINER_DESCRIPTOR"}
_PUSHER_PB2 = {
    **_from(_PROTO, "AUTO PushDestination UNIX_TIMESTAMP Versioning"),
    "DESCRIPTOR": f"{_PROTO}:PUSHER_DESCRIPTOR",
}
# TFX's tfx/proto/evaluator.proto, infra_validator.proto and bulk_inferrer.proto.
_EVALUATOR_MESSAGES = "FeatureSlicingSpec SingleSlicingSpec"
_INFRA_VALIDATOR_MESSAGES = (
    "EnvVar EnvVarSource KubernetesConfig LocalDockerConfig PodOverrides RequestSpec SecretKeySelector ServingSpec "
    "TensorFlowServing TensorFlowServingRequestSpec ValidationSpec"
)
_BULK_INFERRER_MESSAGES = (
    "ClassifyOutput DataSpec ModelSpec OutputColumnsSpec OutputExampleSpec PredictOutput PredictOutputCol RegressOutput"
)
_EVALUATOR_PB2 = {**_from(_PROTO, _EVALUATOR_MESSAGES), "DESCRIPTOR": f"{_PROTO}:EVALUATOR_DESCRIPTOR"}
_INFRA_VALIDATOR_PB2 = {
    **_from(_PROTO, f"{_INFRA_VALIDATOR_MESSAGES} Resources"),
    "DESCRIPTOR": f"{_PROTO}:INFRA_VALIDATOR_DESCRIPTOR",
}
_BULK_INFERRER_PB2 = {**_from(_PROTO, _BULK_INFERRER_MESSAGES), "DESCRIPTOR": f"{_PROTO}:BULK_INFERRER_DESCRIPTOR"}
_FN_ARGS = _from(f"{_COMP}.training.data_accessor", "DataAccessor FnArgs")
_EXECUTOR_SPECS = {
    "BeamExecutorSpec": "headrace.dsl.executor:BeamExecutorSpec",
    "ExecutorClassSpec": f"{_DSL}:ExecutorClassSpec",
    "ExecutorSpec": "headrace.dsl.executor:ExecutorSpec",
    "ExecutorContainerSpec": "headrace.dsl.container_component:ExecutorContainerSpec",
    "TemplatedExecutorContainerSpec": "headrace.dsl.container_component:TemplatedExecutorContainerSpec",
}

MODULES: dict[str, dict[str, str | Const]] = {
    # -- tfx.v1: the public API -----------------------------------------------------------------
    "v1": {"__version__": "headrace.version:__version__"},
    "v1.dsl": {
        "Artifact": "headrace.types:Artifact",
        "Channel": "headrace.types:Channel",
        "Cond": f"{_DSL}:Cond",
        "ExecutionMode": f"{_C}:ExecutionMode",
        "Importer": f"{_DSL}:Importer",
        "Pipeline": _PIPELINE,
        "Resolver": f"{_DSL}:Resolver",
    },
    "v1.dsl.components": {**_ANNOTATIONS, "component": "headrace.tfx._decorators:component"},
    "v1.dsl.experimental": {
        "LatestArtifactStrategy": f"{_DSL}:LatestArtifactStrategy",
        "LatestBlessedModelStrategy": f"{_DSL}:LatestBlessedModelStrategy",
        "SpanRangeStrategy": f"{_DSL}:SpanRangeStrategy",
        "create_container_component": "headrace.dsl.container_component:create_container_component",
        "RuntimeParameter": f"{_DSL}:RuntimeParameter",
        "FinalStatusStr": f"{_DSL}:FinalStatusStr",
    },
    "v1.dsl.io": {},
    "v1.dsl.io.fileio": {},
    "v1.dsl.placeholders": _from(_PH, "exec_property execution_invocation input output"),
    "v1.types": {
        "BaseChannel": "headrace.types:Channel",
        "BaseComponent": f"{_DSL}:BaseComponent",
        "BaseNode": f"{_DSL}:BaseComponent",
        "BaseFunctionalComponent": "headrace.tfx._decorators:BaseFunctionalComponent",
        "BaseFunctionalComponentFactory": "headrace.tfx._decorators:BaseFunctionalComponentFactory",
        "BaseBeamComponent": "headrace.tfx._beam_components:BaseBeamComponent",
    },
    "v1.types.standard_artifacts": {},
    "v1.orchestration": {"LocalDagRunner": "headrace.tfx._runners:LocalDagRunner"},
    "v1.orchestration.metadata": dict(_METADATA),
    "v1.orchestration.experimental": {"InteractiveContext": _INTERACTIVE_CONTEXT, **_KUBEFLOW_V2, **_EXIT_HANDLER},
    "v1.components": {
        **_from(_COMP, "ExampleValidator ImportExampleGen ImportSchemaGen SchemaGen StatisticsGen"),
        **_from(_TFX_GENS, "CsvExampleGen"),
        "Trainer": f"{_COMP}.training.trainer:Trainer",
        **_from(_COMP, "BulkInferrer Evaluator InfraValidator Pusher"),
        **_FN_ARGS,
    },
    "v1.proto": _from(
        _PROTO,
        "CustomConfig EvalArgs Input Output PayloadFormat PushDestination RangeConfig RollingRange SplitConfig "
        f"StaticRange TrainArgs Versioning {_EVALUATOR_MESSAGES} {_INFRA_VALIDATOR_MESSAGES} {_BULK_INFERRER_MESSAGES}",
    ),
    "v1.extensions": {},
    "v1.utils": {"parse_pbtxt_file": "headrace.tfx._io_utils:parse_pbtxt_file", "JsonableType": Const(Any)},
    "v1.testing": {"Channel": "headrace.tfx._channel_utils:ChannelForTesting"},
    # -- tfx.types ----------------------------------------------------------------------------
    "types": {
        "Artifact": "headrace.types:Artifact",
        "BaseChannel": "headrace.types:Channel",
        "Channel": "headrace.types:Channel",
        "ComponentSpec": "headrace.tfx._compat:ComponentSpec",
        "ExecPropertyTypes": Const(Any),
        "OutputChannel": "headrace.types:Channel",
        "Property": "headrace.types:Property",
        "ValueArtifact": "headrace.types:ValueArtifact",
    },
    "types.standard_artifacts": {},
    "types.artifact": {
        "Artifact": "headrace.types:Artifact",
        "ArtifactState": "headrace.types:ArtifactState",
        "DEFAULT_EXAMPLE_SPLITS": Const(("train", "eval")),
        "JsonValueType": Const(Any),
        "Property": "headrace.types:Property",
        "PropertyType": "headrace.types:PropertyType",
    },
    "types.value_artifact": {"ValueArtifact": "headrace.types:ValueArtifact"},
    "types.channel": {
        "ChannelWrappedPlaceholder": f"{_PH}:ChannelFuture",
        "BaseChannel": "headrace.types:Channel",
        "Channel": "headrace.types:Channel",
        "ExecPropertyTypes": Const(Any),
        "OutputChannel": "headrace.types:Channel",
        "Property": Const(Any),
    },
    "types.channel_utils": {},
    "types.artifact_utils": {},
    "types.component_spec": {
        "ChannelParameter": "headrace.types:ChannelParameter",
        "ComponentSpec": "headrace.tfx._compat:ComponentSpec",
        "ExecutionParameter": "headrace.types:ExecutionParameter",
    },
    "types.standard_component_specs": {
        "ANOMALIES_KEY": Const("anomalies"),
        "BLESSING_KEY": Const("blessing"),
        "EXAMPLES_KEY": Const("examples"),
        "MODEL_BLESSING_KEY": Const("model_blessing"),
        "MODEL_KEY": Const("model"),
        "SCHEMA_KEY": Const("schema"),
        "STATISTICS_KEY": Const("statistics"),
        "TRANSFORM_GRAPH_KEY": Const("transform_graph"),
        # The data components' parameters (TFX's custom ExampleGen executors read exec_properties with these).
        **{
            f"{key.upper()}_KEY": Const(key)
            for key in (
                "baseline_statistics custom_config custom_validation_config distribution_validator_config "
                "exclude_splits infer_feature_shape input_base input_config output_config output_data_format "
                "output_file_format range_config schema_file stats_options_json "
                # ... and the model components' (Trainer, Evaluator, InfraValidator, Pusher, BulkInferrer).
                "train_args eval_args module_file run_fn hyperparameters base_model model_run eval_config "
                "feature_slicing_spec example_splits baseline_model evaluation serving_spec validation_spec "
                "request_spec model_spec data_spec output_example_spec inference_result output_examples "
                "push_destination infra_blessing pushed_model"
            ).split()
        },
    },
    "types.experimental": {},
    "types.experimental.simple_artifacts": {},
    # -- tfx.dsl ------------------------------------------------------------------------------
    "dsl": {},
    "dsl.components": {},
    "dsl.components.base": {},
    "dsl.components.base.executor_spec": dict(_EXECUTOR_SPECS),
    "dsl.components.base.base_component": {"BaseComponent": f"{_DSL}:BaseComponent"},
    "dsl.components.base.base_beam_component": {"BaseBeamComponent": "headrace.tfx._beam_components:BaseBeamComponent"},
    "dsl.components.base.base_beam_executor": {"BaseBeamExecutor": "headrace.tfx._beam_components:BaseBeamExecutor"},
    "dsl.components.base.base_executor": {"BaseExecutor": f"{_DSL}:BaseExecutor"},
    "dsl.components.base.base_node": {"BaseNode": f"{_DSL}:BaseComponent"},
    "dsl.components.common": {},
    "dsl.components.common.resolver": {"Resolver": f"{_DSL}:Resolver"},
    "dsl.components.common.importer": {"IMPORT_RESULT_KEY": Const("result"), "Importer": f"{_DSL}:Importer"},
    "dsl.component": {},
    "dsl.component.experimental": {},
    "dsl.component.experimental.decorators": {
        "BaseFunctionalComponent": "headrace.tfx._decorators:BaseFunctionalComponent",
        "BaseFunctionalComponentFactory": "headrace.tfx._decorators:BaseFunctionalComponentFactory",
        "component": "headrace.tfx._decorators:component",
    },
    "dsl.component.experimental.annotations": dict(_ANNOTATIONS),
    "dsl.component.experimental.container_component": {
        "create_container_component": "headrace.dsl.container_component:create_container_component",
    },
    "dsl.component.experimental.placeholders": {
        "CommandlineArgumentType": Const(Any),
        "InputUriPlaceholder": "headrace.dsl.placeholders:InputUriPlaceholder",
        "InputValuePlaceholder": "headrace.dsl.placeholders:InputValuePlaceholder",
        "OutputUriPlaceholder": "headrace.dsl.placeholders:OutputUriPlaceholder",
        "ConcatPlaceholder": "headrace.dsl.placeholders:ConcatPlaceholder",
    },
    "dsl.experimental": {},
    "dsl.experimental.conditionals": {},
    "dsl.experimental.conditionals.conditional": {"Cond": f"{_DSL}:Cond"},
    "dsl.experimental.latest_artifacts_resolver": {"LatestArtifactsResolver": f"{_DSL}:LatestArtifactStrategy"},
    "dsl.experimental.latest_blessed_model_resolver": {
        "LatestBlessedModelResolver": f"{_DSL}:LatestBlessedModelStrategy",
    },
    "dsl.input_resolution": {},
    "dsl.input_resolution.strategies": {},
    "dsl.input_resolution.strategies.latest_artifact_strategy": {
        "LatestArtifactStrategy": f"{_DSL}:LatestArtifactStrategy",
    },
    "dsl.input_resolution.strategies.latest_blessed_model_strategy": {
        "LatestBlessedModelStrategy": f"{_DSL}:LatestBlessedModelStrategy",
    },
    "dsl.input_resolution.strategies.span_range_strategy": {"SpanRangeStrategy": f"{_DSL}:SpanRangeStrategy"},
    "dsl.placeholder": {},
    # TFX's placeholder language on headrace's one expression model; TFX's ChannelWrappedPlaceholder is a future.
    "dsl.placeholder.placeholder": {
        **_from(_PH, f"{_PH_NAMES} logical_and logical_or logical_not"),
        "ChannelWrappedPlaceholder": f"{_PH}:ChannelFuture",
    },
    "dsl.placeholder.proto_placeholder": {},
    # Container steps: TFX's Docker settings (component.with_platform_config(...)).
    "proto.orchestration": {},
    "proto.orchestration.platform_config_pb2": {
        "DockerPlatformConfig": "headrace.tfx._platform_config:DockerPlatformConfig",
        "DESCRIPTOR": "headrace.tfx._platform_config:DESCRIPTOR",
    },
    "dsl.io": {},
    "dsl.io.fileio": {},
    # -- tfx.orchestration --------------------------------------------------------------------
    "orchestration": {},
    "orchestration.pipeline": {"ExecutionMode": f"{_C}:ExecutionMode", "Pipeline": _PIPELINE},
    "orchestration.metadata": {**_METADATA, "Metadata": "headrace.tfx._metadata:Metadata"},
    "orchestration.data_types": {"RuntimeParameter": f"{_DSL}:RuntimeParameter"},
    "orchestration.local": {},
    "orchestration.local.local_dag_runner": {"LocalDagRunner": "headrace.tfx._runners:LocalDagRunner"},
    "orchestration.beam": {},
    "orchestration.beam.beam_dag_runner": {"BeamDagRunner": "headrace.tfx._beam:BeamDagRunner"},
    "orchestration.airflow": {},
    "orchestration.airflow.airflow_dag_runner": _from(
        "headrace.orchestrators.airflow_dag_runner", "AirflowDagRunner AirflowPipelineConfig"
    ),
    "orchestration.kubeflow": {},
    "orchestration.kubeflow.v2": {},
    "orchestration.kubeflow.decorators": dict(_EXIT_HANDLER),
    "orchestration.kubeflow.v2.kubeflow_v2_dag_runner": dict(_KUBEFLOW_V2),
    "orchestration.experimental": {},
    "orchestration.experimental.interactive": {},
    "orchestration.experimental.interactive.interactive_context": {"InteractiveContext": _INTERACTIVE_CONTEXT},
    "orchestration.experimental.interactive.visualizations": {},
    "orchestration.experimental.interactive.standard_visualizations": {
        "ArtifactHtmlVisualization": "headrace.tfx._visualizations:ArtifactHtmlVisualization",
        "STANDARD_VISUALIZATIONS": "headrace.tfx._visualizations:STANDARD_VISUALIZATIONS",
        "register_standard_visualizations": "headrace.tfx._visualizations:register_standard_visualizations",
    },
    "orchestration.portable": {},
    "orchestration.portable.mlmd": {},
    "orchestration.portable.mlmd.execution_lib": {},
    # -- tfx.components and tfx.proto: the data components and their configs -------------------
    "components": {
        **_from(
            _COMP, "DistributionValidator ExampleValidator ImportExampleGen ImportSchemaGen SchemaGen StatisticsGen"
        ),
        **_from(_TFX_GENS, "CsvExampleGen FileBasedExampleGen"),
        "Trainer": f"{_COMP}.training.trainer:Trainer",
        **_from(_COMP, "BulkInferrer Evaluator InfraValidator Pusher"),
    },
    "components.evaluator": {},
    "components.evaluator.component": _from(_COMP, "Evaluator"),
    "components.evaluator.constants": {},
    "components.infra_validator": {},
    "components.infra_validator.component": _from(_COMP, "InfraValidator"),
    "components.bulk_inferrer": {},
    "components.bulk_inferrer.component": _from(_COMP, "BulkInferrer"),
    "components.pusher": {},
    "components.pusher.component": _from(_COMP, "Pusher"),
    "components.pusher.executor": {"Executor": f"{_COMP}.serving.pusher:Executor"},
    "components.trainer": {},
    "components.trainer.component": {"Trainer": f"{_COMP}.training.trainer:Trainer"},
    "components.trainer.executor": {
        "Executor": f"{_COMP}.training.trainer:Executor",
        "GenericExecutor": f"{_COMP}.training.trainer:GenericExecutor",
        "TrainerFnArgs": f"{_COMP}.training.data_accessor:FnArgs",  # TFX's deprecated alias of FnArgs
    },
    "components.trainer.fn_args_utils": dict(_FN_ARGS),
    "components.example_gen": {},
    "components.example_gen.component": _from(_TFX_GENS, "FileBasedExampleGen"),
    "components.example_gen.base_example_gen_executor": _from(_COMP, "BaseExampleGenExecutor"),
    "components.example_gen.csv_example_gen": {},
    "components.example_gen.csv_example_gen.component": _from(_TFX_GENS, "CsvExampleGen"),
    "components.example_gen.csv_example_gen.executor": {"Executor": f"{_COMP}.example_gen.executor:CsvExecutor"},
    "components.example_gen.utils": {
        n: f"{_COMP}.example_gen.utils:{n}"
        for n in (
            "date_to_span_number",
            "span_number_to_date",
            "dict_to_example",
            "make_default_input_config",
            "make_default_output_config",
        )
    },
    "components.example_gen.import_example_gen": {},
    "components.example_gen.import_example_gen.component": _from(_COMP, "ImportExampleGen"),
    "components.statistics_gen": {},
    "components.statistics_gen.component": _from(_COMP, "StatisticsGen"),
    "components.schema_gen": {},
    "components.schema_gen.component": _from(_COMP, "SchemaGen"),
    "components.schema_gen.import_schema_gen": {},
    "components.schema_gen.import_schema_gen.component": _from(_COMP, "ImportSchemaGen"),
    "components.example_validator": {},
    "components.example_validator.component": _from(_COMP, "ExampleValidator"),
    "components.distribution_validator": {},
    "components.distribution_validator.component": _from(_COMP, "DistributionValidator"),
    # TFX's pre-rename stubs of tfx.dsl.components.base (the ExampleGen guide still imports executor_spec here).
    "components.base": {},
    "components.base.executor_spec": dict(_EXECUTOR_SPECS),
    "components.base.base_component": {"BaseComponent": f"{_DSL}:BaseComponent"},
    "components.base.base_executor": {"BaseExecutor": f"{_DSL}:BaseExecutor"},
    "components.base.base_node": {"BaseNode": f"{_DSL}:BaseComponent"},
    "proto": {},
    "proto.example_gen_pb2": _EXAMPLE_GEN_PB2,
    "proto.range_config_pb2": _RANGE_CONFIG_PB2,
    "proto.trainer_pb2": _TRAINER_PB2,
    "proto.pusher_pb2": _PUSHER_PB2,
    "proto.evaluator_pb2": _EVALUATOR_PB2,
    "proto.infra_validator_pb2": _INFRA_VALIDATOR_PB2,
    "proto.bulk_inferrer_pb2": _BULK_INFERRER_PB2,
    # -- the rest -----------------------------------------------------------------------------
    "utils": {},
    "utils.io_utils": {},
    "utils.proto_utils": {},
    "utils.json_utils": {"JsonableType": Const(Any), "dumps": "json:dumps", "loads": "json:loads"},
    "version": {"__version__": "headrace.version:__version__"},
}

# TFX modules served whole from a headrace module's `__all__` (besides their MODULES entries).
STAR: dict[str, str] = {
    "v1.dsl.io.fileio": "headrace.fileio",
    "dsl.io.fileio": "headrace.fileio",
    "v1.types.standard_artifacts": _SA,
    "types.standard_artifacts": _SA,
    "types.artifact_utils": "headrace.tfx._artifact_utils",
    "types.channel_utils": "headrace.tfx._channel_utils",
    "types.experimental.simple_artifacts": "headrace.tfx._simple_artifacts",
    "utils.io_utils": "headrace.tfx._io_utils",
    "components.evaluator.constants": "headrace.tfx._evaluator_constants",
    "utils.proto_utils": "headrace.tfx._proto_utils",
    "orchestration.experimental.interactive.visualizations": "headrace.tfx._visualizations",
    "orchestration.portable.mlmd.execution_lib": "headrace.tfx._execution_lib",
}
