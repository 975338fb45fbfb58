"""Resolvers compiled for Kubeflow as KFP's resolver executors, beside test_kubeflow_production.py: the
main job compiled by the CLI and loaded back through kfp (its resolver part a golden file), one fixed span,
the refusals, a Cond over a resolver's output, and the metadata the entrypoint writes so that the model
query finds the blessed model on Vertex AI (the only backend that runs resolver tasks).

The resolver part of the main job's file is a golden file, tests/golden/kfp_penguin_resolver.yaml;
after an intended change regenerate it with

    HEADRACE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/orchestrators/test_kubeflow_resolver.py

and review the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from headrace import Channel, Cond, InputArtifact, OutputArtifact, Pipeline, Resolver, component
from headrace.compiler import compile_pipeline
from headrace.dsl import LatestArtifactStrategy, LatestBlessedModelStrategy, SpanRangeStrategy
from headrace.errors import DefinitionError
from headrace.orchestrators import KubeflowV2DagRunner
from headrace.types import standard_artifacts

pytestmark = pytest.mark.heavy_imports  # kfp's protos and SDK

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "kfp_penguin_resolver.yaml"
BLESSING_TASK = "latest-blessed-model-resolver-model-blessing-resolver"
MODEL_TASK = "latest-blessed-model-resolver-model-resolver"


def _compile(components, tmp_path) -> dict:
    return KubeflowV2DagRunner(output_dir=str(tmp_path)).run(Pipeline("r", "/root", components))


def _blessed_resolver(node_id: str = "latest") -> Resolver:
    return Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
    ).with_id(node_id)


@pytest.fixture(scope="module")
def main_job(tmp_path_factory) -> Path:
    """`headrace compile pipelines/penguin/pipeline.py --target kubeflow`, as a user runs it."""
    from click.testing import CliRunner

    from headrace.cli.main import main

    out = tmp_path_factory.mktemp("penguin") / "pipeline.yaml"
    args = ["compile", str(REPO / "pipelines" / "penguin" / "pipeline.py"), "--target", "kubeflow", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def test_golden_resolver_part_of_the_main_job(main_job):
    """`headrace compile --target kubeflow` of the main job loads back through kfp; its resolver tasks, their
    components and executors, and the Evaluator's inputs are as in the golden file."""
    from kfp.components import load_component_from_file

    assert load_component_from_file(str(main_job)).pipeline_spec.root.dag.tasks["evaluator"]
    data = yaml.safe_load(main_job.read_text())
    names = [BLESSING_TASK, MODEL_TASK]
    evaluator = data["root"]["dag"]["tasks"]["evaluator"]
    got = {
        "components": {f"comp-{n}": data["components"][f"comp-{n}"] for n in names},
        "executors": {f"exec-{n}": data["deploymentSpec"]["executors"][f"exec-{n}"] for n in names},
        "tasks": {n: data["root"]["dag"]["tasks"][n] for n in names},
        "evaluator": {"dependentTasks": evaluator["dependentTasks"], "artifacts": evaluator["inputs"]["artifacts"]},
    }
    if os.environ.get("HEADRACE_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(yaml.dump(got, sort_keys=True))
    assert GOLDEN.is_file(), f"{GOLDEN} is missing; generate it with HEADRACE_UPDATE_GOLDEN=1"
    assert got == yaml.safe_load(GOLDEN.read_text()), (
        "The main job's resolver tasks changed (HEADRACE_UPDATE_GOLDEN=1)."
    )


@component
def Check(examples: InputArtifact[standard_artifacts.Examples]):
    pass


def test_one_fixed_span_is_a_query_on_the_span_and_its_consumer_reads_the_resolver_task(tmp_path):
    resolver = Resolver(
        strategy_class=SpanRangeStrategy,
        config={"static_range": {"start_span_number": 3, "end_span_number": 3}},
        examples=Channel(type=standard_artifacts.Examples),
    ).with_id("span3")
    check = Check(examples=resolver.outputs["examples"])
    data = _compile([resolver, check], tmp_path)
    queries = data["deploymentSpec"]["executors"]["exec-span3"]["resolver"]["outputArtifactQueries"]
    assert queries == {
        "examples": {"filter": 'schema_title="headrace.Examples" AND state=LIVE AND metadata.span.number_value=3'}
    }
    task = data["root"]["dag"]["tasks"]["check"]
    assert task["inputs"]["artifacts"]["examples"] == {
        "taskOutputArtifact": {"outputArtifactKey": "examples", "producerTask": "span3"}
    }
    assert task["dependentTasks"] == ["span3"]


@pytest.mark.parametrize(
    "config",
    [
        None,  # the latest span: the largest span number, not the newest artifact
        {"rolling_range": {"num_spans": 1, "skip_num_recent_spans": 1}},
        {"static_range": {"start_span_number": 1, "end_span_number": 4}},
    ],
)
def test_span_ranges_a_query_cannot_express_are_refused_saying_what_to_use(config, tmp_path):
    resolver = Resolver(
        strategy_class=SpanRangeStrategy, config=config, examples=Channel(type=standard_artifacts.Examples)
    ).with_id("spans")
    with pytest.raises(DefinitionError) as raised:
        _compile([resolver], tmp_path)
    message = str(raised.value)
    assert "'spans'" in message and "SpanRangeStrategy" in message and "cannot express" in message
    assert "LatestArtifactStrategy" in message and "static_range" in message and "LocalDagRunner" in message


@component
def MakeExamples(examples: OutputArtifact[standard_artifacts.Examples]):
    pass


def test_a_resolver_reading_an_upstream_output_is_refused(tmp_path):
    make = MakeExamples()
    resolver = Resolver(strategy_class=LatestArtifactStrategy, examples=make.outputs["examples"]).with_id("r")
    with pytest.raises(
        DefinitionError, match=r"'r' reads input 'examples' from 'MakeExamples'.*Channel\(type=Examples\)"
    ):
        _compile([make, resolver], tmp_path)


def test_a_node_id_colliding_with_a_resolver_task_is_refused(tmp_path):
    with pytest.raises(DefinitionError, match="'r-model-resolver'"):
        _compile([_blessed_resolver("r"), MakeExamples().with_id("R_model_resolver")], tmp_path)


def test_a_cond_over_a_resolvers_output_reads_the_task_that_finds_it(tmp_path):
    resolver = _blessed_resolver("r")
    with Cond(resolver.outputs["model_blessing"].future()[0].custom_property("blessed") == 1):
        check = Check(examples=MakeExamples().outputs["examples"])
    data = _compile([resolver, check], tmp_path)
    [(key, ref)] = [
        (k, v) for k, v in data["root"]["dag"]["tasks"]["check"]["inputs"]["artifacts"].items() if k != "examples"
    ]
    assert ref["taskOutputArtifact"] == {
        "producerTask": "r-model-blessing-resolver",
        "outputArtifactKey": "model_blessing",
    }
    assert key in data["root"]["dag"]["tasks"]["check"]["triggerPolicy"]["condition"]


# -- what the entrypoint writes: the metadata the queries read ---------------------------------------------
@component
def Train(model: OutputArtifact[standard_artifacts.Model]):
    pass


@component
def Bless(model: InputArtifact[standard_artifacts.Model], blessing: OutputArtifact[standard_artifacts.ModelBlessing]):
    """Sets what the Evaluator sets: blessed, and the models by their ids."""
    blessing.set_custom_property("blessed", 1)
    blessing.set_custom_property("current_model_id", int(model.id))
    blessing.set_custom_property("baseline_model_id", int(model.id))
    blessing.set_custom_property("seen_id", int(model.id))  # not a model reference: left as the executor wrote it


@pytest.mark.parametrize(
    "name, executor_sees",
    [
        # Vertex AI: a resource name; its ids pass 2**53, which a metadata number (a double) would not keep
        ("projects/p/locations/us-central1/metadataStores/default/artifacts/4815906325395394176", 4815906325395394176),
        ("42", 42),  # open-source KFP: the ML Metadata id in decimal
    ],
)
def test_a_blessing_names_its_model_by_the_models_kfp_name_with_blessed_as_a_number(name, executor_sees, tmp_path):
    """TFX's contract on Kubeflow: the executor sees the artifact's KFP id, and the blessing's model ids are
    written back as the model's full KFP name, which the model query matches with
    name="{{$.inputs.artifacts['input'].metadata['current_model_id']}}" (on Vertex AI the Model's name is
    its resource name, so the bare number would find nothing)."""
    from headrace import entrypoint
    from headrace.orchestrators._kfp_spec import encode_node

    train = Train()
    ir = compile_pipeline(Pipeline("p", "/root", [train, Bless(model=train.outputs["model"])]))
    model_dir, out_dir = tmp_path / "model", tmp_path / "blessing"
    model_dir.mkdir()
    executor_input = {
        "inputs": {"artifacts": {"model": {"artifacts": [{"name": name, "uri": str(model_dir), "metadata": {}}]}}},
        "outputs": {
            "artifacts": {"blessing": {"artifacts": [{"name": "b", "uri": str(out_dir)}]}},
            "outputFile": str(tmp_path / "executor_output.json"),
        },
    }
    node_ir = encode_node(ir, ir.node("Bless"))  # what the compiled task's --node-ir holds
    assert entrypoint.main(["kfp", "--executor-input", json.dumps(executor_input), "--node-ir", node_ir]) == 0
    [blessing] = json.loads((tmp_path / "executor_output.json").read_text())["artifacts"]["blessing"]["artifacts"]
    metadata = blessing["metadata"]
    assert metadata["blessed"] == 1 and isinstance(metadata["blessed"], int)  # metadata.blessed.number_value=1
    assert metadata["current_model_id"] == name and metadata["baseline_model_id"] == name
    assert json.loads(metadata["headrace"])["custom_properties"]["current_model_id"] == name
    assert metadata["seen_id"] == executor_sees  # other ids stay as the executor wrote them
    # the model query, as the backend fills in its placeholder from the blessing it found, names the model
    data = _compile([_blessed_resolver("r")], tmp_path)
    query = data["deploymentSpec"]["executors"]["exec-r-model-resolver"]["resolver"]["outputArtifactQueries"]
    placeholder = "{{$.inputs.artifacts['input'].metadata['current_model_id']}}"
    assert query["model"]["filter"].replace(placeholder, metadata["current_model_id"]).endswith(f'name="{name}"')


def test_the_part_of_the_main_job_kfp_local_can_run_leaves_out_resolvers_and_the_cond(main_job, tmp_path):
    """What scripts/kfp_local_main_job.py runs under kfp.local (8 tasks in about 33 s here, with the
    runtime image EXTRAS=tf,data; not in the test suite: that image takes about 20 minutes to build cold)."""
    from kfp.components import load_component_from_file

    from headrace.orchestrators._kfp_local import runnable_part

    part = tmp_path / "part.yaml"
    assert sorted(runnable_part(str(main_job), str(part))) == [BLESSING_TASK, MODEL_TASK, "pusher"]
    spec = load_component_from_file(str(part)).pipeline_spec
    tasks = spec.root.dag.tasks
    assert set(tasks) == {
        "csvexamplegen", "statisticsgen", "schemagen", "examplevalidator", "trainer", "infravalidator",
        "evaluator", "bulkinferrer",
    }  # fmt: skip
    assert "baseline_model" not in tasks["evaluator"].inputs.artifacts  # as when the query finds nothing
    assert MODEL_TASK not in tasks["evaluator"].dependent_tasks


def test_an_empty_list_or_dict_parameter_is_a_list_or_struct_constant_not_null(main_job):
    """exclude_splits=[] was compiled as `constant: null` (a protobuf Value with an empty list is unset),
    which kfp.local refused and a LIST parameter must not be."""
    data = yaml.safe_load(main_job.read_text())
    constant = data["root"]["dag"]["tasks"]["statisticsgen"]["inputs"]["parameters"]["exclude_splits"]
    assert constant == {"runtimeValue": {"constant": []}}
    from headrace.orchestrators._kfp_spec import struct_value

    assert struct_value({}).WhichOneof("kind") == "struct_value" and struct_value([]).WhichOneof("kind") == "list_value"
