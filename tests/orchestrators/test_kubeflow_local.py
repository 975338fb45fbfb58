"""The compiled Kubeflow file, loaded back with the kfp SDK and run end to end on kfp's own local
runner (kfp.local.DockerRunner, headrace's runtime image), compared with LocalDagRunner's outputs.

kfp.local takes a task's outputs only from the executor output file; container components write
none, so the pipeline with a container node runs with `launcher_stand_in()`, a small local stand-in
for KFP's launcher (orchestrators/_kfp_local.py says what kfp.local lacks). The pipeline of function
and custom-class nodes runs on plain kfp.local.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from output_files import output_files

from headrace.cli.loader import load_file_as_module
from headrace.compiler import compile_pipeline
from headrace.orchestrators import LocalDagRunner
from headrace.orchestrators._kfp_local import run_package_locally
from headrace.orchestrators._kfp_spec import task_name
from headrace.orchestrators.kubeflow_v2_dag_runner import compile_kubeflow

pytestmark = pytest.mark.heavy_imports

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example():
    """pipelines/three_styles_pipeline.py: a function -> a fully custom -> a container component."""
    return load_file_as_module(str(REPO / "pipelines" / "three_styles_pipeline.py"))


def _local_outputs(ir, root: Path) -> dict[tuple[str, str], dict[str, str]]:
    result = LocalDagRunner(quiet=True).run(ir)
    assert result.succeeded, result.node_states
    return {
        (node_id, key): output_files(Path(uri))
        for node_id, node in result.nodes.items()
        for key, uris in node.outputs.items()
        for uri in uris
    }


def _kfp_outputs(ir, run_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (node.id, key): output_files(run_dir / task_name(node.id) / key) for node in ir.nodes for key in node.outputs
    }


def _compare(ir, local, kfp_run):
    assert set(local) == set(kfp_run)
    for where, files in local.items():
        assert files == kfp_run[where], where


def test_function_and_custom_nodes_run_on_plain_kfp_local_docker_runner(example, tmp_path, runtime_image):
    ir = compile_pipeline(example.create_pipeline(str(tmp_path / "local"), with_container=False))
    package = compile_kubeflow(ir, str(tmp_path / "pipeline.yaml"))
    run_dir = Path(run_package_locally(package, str(tmp_path / "kfp"), stand_in=False))
    kfp_run = _kfp_outputs(ir, run_dir)
    assert kfp_run[("MakeRows", "examples")] == {"rows.txt": "row 0\nrow 1\nrow 2\nrow 3\n"}
    assert kfp_run[("MakeRows", "n")] == {"value": "4"}
    _compare(ir, _local_outputs(ir, tmp_path), kfp_run)
    # the executor output file kfp.local read: the artifact's metadata carries its properties
    import json

    written = json.loads((run_dir / "tag" / "executor_output.json").read_text())
    [art] = written["artifacts"]["output_data"]["artifacts"]
    assert art["metadata"]["tagged"] == 1 and art["metadata"]["split_names"] == '["train"]'
    custom = {"tagged": 1, "producer_component": "Tag", "pipeline_name": "three-styles"}  # TFX's producer properties
    assert json.loads(art["metadata"]["headrace"])["custom_properties"] == custom


def test_three_styles_run_on_kfp_local_with_the_launcher_stand_in_as_under_local_dag_runner(
    example, tmp_path, runtime_image
):
    ir = compile_pipeline(example.create_pipeline(str(tmp_path / "local")))
    start = time.perf_counter()
    package = compile_kubeflow(ir, str(tmp_path / "pipeline.yaml"))
    compiled = time.perf_counter()
    run_dir = Path(run_package_locally(package, str(tmp_path / "kfp")))
    ran = time.perf_counter()
    print(f"compile {compiled - start:.3f} s, kfp.local run {ran - compiled:.1f} s")
    kfp_run = _kfp_outputs(ir, run_dir)
    assert kfp_run[("Count", "count")] == {"count": "4\n"}
    assert kfp_run[("Tag", "output_data")] == {"rows.txt": "item 0\nitem 1\nitem 2\nitem 3\n"}
    _compare(ir, _local_outputs(ir, tmp_path), kfp_run)


def test_without_the_stand_in_kfp_local_finds_no_container_outputs(example, tmp_path, runtime_image):
    """Pins the kfp.local gap the stand-in fills: the container task's declared output is not
    published, so nothing downstream could read it (here the run ends at the container task)."""
    import kfp.local
    from kfp.local import executor_output_utils

    ir = compile_pipeline(example.create_pipeline(str(tmp_path / "local")))
    package = compile_kubeflow(ir, str(tmp_path / "pipeline.yaml"))
    seen: dict[str, dict] = {}
    original = executor_output_utils.get_outputs_for_task

    def spy(executor_input, component_spec):
        outputs = original(executor_input, component_spec)
        seen[os.path.basename(os.path.dirname(executor_input.outputs.output_file))] = outputs
        return outputs

    executor_output_utils.get_outputs_for_task = spy
    try:
        run_package_locally(package, str(tmp_path / "kfp"), stand_in=False)
    finally:
        executor_output_utils.get_outputs_for_task = original
        kfp.local.init(runner=kfp.local.SubprocessRunner())
    assert set(seen["tag"]) == {"output_data"}
    assert seen["count"] == {}


DYNAMIC = """
from headrace import OutputArtifact, OutputDict, Parameter, Pipeline, component
from headrace.dsl import placeholders as ph
from headrace.types import standard_artifacts as sa


@component
def Count(start: Parameter[int], num: OutputArtifact[sa.Integer], name: OutputArtifact[sa.String]):
    num.value = start + 1
    name.value = f'batch-{start}'


@component
def Use(n: Parameter[int], name: Parameter[str], run: Parameter[str]) -> OutputDict(out=str):
    return {'out': f'{n}|{name}|{bool(run)}'}


def create_pipeline(root):
    count = Count(start=3)
    use = Use(
        n=count.outputs['num'].future()[0].value,
        name=count.outputs['name'].future()[0].value,
        run=ph.execution_invocation().pipeline_run_id,
    )
    return Pipeline('kfpdyn', root, [use])
"""


def test_dynamic_parameters_pass_through_kfp_locals_task_output_parameters(write_module, tmp_path, runtime_image):
    """The producer's entrypoint writes value__num / value__name; kfp.local hands them to the consumer's task
    as its input parameters; the consumer's entrypoint checks them against the parameters' types."""
    from headrace.types import standard_artifacts

    ir = compile_pipeline(write_module(DYNAMIC, "kfp_dynamic").create_pipeline(str(tmp_path / "local")))
    package = compile_kubeflow(ir, str(tmp_path / "pipeline.yaml"))
    run_dir = Path(run_package_locally(package, str(tmp_path / "kfp"), stand_in=False))
    out = standard_artifacts.String()
    out.uri = str(run_dir / "use" / "out")
    assert out.value == "4|batch-3|True"
