"""TFX paths headrace does not have, and the capability each would come with.

`MISSING` maps a TFX module path or name (relative to `tfx`; a module prefix covers what is under it)
to that capability. The table of what headrace serves (`headrace.tfx._table.MODULES`) wins: `MISSING`
answers for the rest, and for a `MODULES` entry whose headrace name is not there yet.
"""

from __future__ import annotations

DATA = "headrace's data components"
MODEL = "headrace's model components"
ORCH = "headrace's orchestrator adapters (Beam, Kubeflow, Airflow)"
CLOUD = "headrace's Google Cloud extensions"
PLACEHOLDERS = "headrace's run-information, list and proto placeholders (runtime_info, make_proto, make_list ...)"
STRATEGIES = "headrace's pluggable resolver strategies"
EXAMPLES = "EXAMPLES"  # TFX's example code: never part of headrace (the error says so)

_DATA_COMPONENTS = "ExampleDiff Transform".split()
_MODEL_COMPONENTS = "ModelValidator Tuner".split()
_V1_MODEL_COMPONENTS = "Tuner TunerFnResult"
_DATA_PROTOS = "transform_pb2 distribution_validator_pb2 example_diff_pb2".split()
_MODEL_PROTOS = ["tuner_pb2"]
_DATA_MESSAGES = "SplitsConfig DistributionValidatorConfig FeatureComparator ExampleDiffConfig".split()
_DATA_MESSAGES += ["PairedExampleSkew"]
_MODEL_MESSAGES = ["TuneArgs"]  # Tuner is not here yet

MISSING: dict[str, str] = {
    **{f"components.{n}": DATA for n in _DATA_COMPONENTS},
    **{f"components.{n}": MODEL for n in _MODEL_COMPONENTS},
    **{f"v1.components.{n}": DATA for n in _DATA_COMPONENTS},
    **{f"v1.components.{n}": MODEL for n in _V1_MODEL_COMPONENTS.split()},
    # Module prefixes: served submodules are in MODULES; the rest (executors, drivers) come with the data components.
    **{f"components.{m}": DATA for m in "example_gen statistics_gen schema_gen example_validator transform".split()},
    **{f"components.{m}": DATA for m in "distribution_validator example_diff".split()},
    # Served from MODULES once headrace has them; until then these say what brings them.
    **{f"components.{m}": MODEL for m in "trainer tuner".split()},
    "components.model_validator": MODEL,
    **{f"proto.{m}": DATA for m in _DATA_PROTOS},
    **{f"proto.{m}": MODEL for m in _MODEL_PROTOS},
    "proto.orchestration": ORCH,
    **{f"v1.proto.{n}": DATA for n in _DATA_MESSAGES},
    **{f"v1.proto.{n}": MODEL for n in _MODEL_MESSAGES},
    "v1.proto.orchestration": ORCH,
    "v1.dsl.components.AsyncOutputArtifact": ORCH,
    "dsl.component.experimental.annotations.AsyncOutputArtifact": ORCH,
    "v1.dsl.experimental.ResolverStrategy": STRATEGIES,
    "dsl.components.common.resolver.ResolverStrategy": STRATEGIES,
    "dsl.experimental.spans_resolver": DATA,
    "dsl.placeholder.placeholder": PLACEHOLDERS,
    "dsl.placeholder.proto_placeholder": PLACEHOLDERS,
    "orchestration.kubeflow.kubeflow_dag_runner": ORCH,  # TFX's Kubeflow v1 runner: headrace compiles for KFP v2 only
    "v1.extensions.google_cloud_ai_platform": CLOUD,
    "v1.extensions.google_cloud_big_query": CLOUD,
    "extensions": CLOUD,
    "examples": EXAMPLES,
    "types.channel.UnionChannel": ORCH,
    "types.channel.union": ORCH,
}
