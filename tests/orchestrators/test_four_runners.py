"""Issue 10's acceptance: one example pipeline (pipelines/three_styles_pipeline.py: a function component,
a fully custom component and a container component) gives the same artifact contents under
LocalDagRunner, BeamDagRunner, the compiled Kubeflow file run by kfp's local DockerRunner (with the
launcher stand-in container components need there, see orchestrators/_kfp_local.py) and Airflow's
`dags test` on the DAG file `headrace compile --target airflow` writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from airflow_env import airflow_home, airflow_venv, dags_test, only_run
from click.testing import CliRunner
from output_files import output_files

from headrace.cli.loader import load_file_as_module
from headrace.cli.main import main
from headrace.compiler import compile_pipeline
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators import BeamDagRunner, LocalDagRunner

pytestmark = pytest.mark.heavy_imports

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "pipelines" / "three_styles_pipeline.py"
EXPECTED = {
    ("MakeRows", "examples"): {"rows.txt": "row 0\nrow 1\nrow 2\nrow 3\n"},
    ("MakeRows", "n"): {"value": "4"},
    ("Tag", "output_data"): {"rows.txt": "item 0\nitem 1\nitem 2\nitem 3\n"},
    ("Count", "count"): {"count": "4\n"},
}


def _from_result(result) -> dict[tuple[str, str], dict[str, str]]:
    assert result.succeeded, result.node_states
    return {(n, k): output_files(uri) for n, o in result.nodes.items() for k, uris in o.outputs.items() for uri in uris}


def _from_store(root: Path, run_id: str) -> dict[tuple[str, str], dict[str, str]]:
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))
    executions = [e for e in reader.executions(run_id) if e.state == "COMPLETE"]
    assert sorted(e.node_id for e in executions) == ["Count", "MakeRows", "Tag"]  # once each
    return {(e.node_id, k): output_files(a.uri) for e in executions for k, arts in e.outputs.items() for a in arts}


@pytest.fixture(scope="module")
def example():
    return load_file_as_module(str(EXAMPLE))


def test_local_and_beam_runners_give_the_same_outputs(example, tmp_path, runtime_image):
    local = _from_result(LocalDagRunner(quiet=True).run(example.create_pipeline(str(tmp_path / "local"))))
    beam = _from_result(BeamDagRunner(quiet=True).run(example.create_pipeline(str(tmp_path / "beam"))))
    assert local == beam == EXPECTED
    # The same from the command line: headrace run FILE --runner beam
    os.environ["HEADRACE_HOME"] = str(tmp_path / "cli")
    try:
        done = CliRunner().invoke(main, ["run", str(EXAMPLE), "--runner", "beam", "-q"])
    finally:
        del os.environ["HEADRACE_HOME"]
    assert done.exit_code == 0, done.output
    assert _from_store(tmp_path / "cli" / "three-styles", done.output.strip().splitlines()[-1]) == EXPECTED


def test_the_compiled_kubeflow_file_runs_on_kfp_local_with_the_same_outputs(example, tmp_path, runtime_image):
    from kfp.components import load_component_from_file

    from headrace.orchestrators._kfp_local import run_package_locally
    from headrace.orchestrators._kfp_spec import task_name

    package = tmp_path / "three_styles.yaml"
    done = CliRunner().invoke(main, ["compile", str(EXAMPLE), "--target", "kubeflow", "-o", str(package)])
    assert done.exit_code == 0, done.output
    loaded = load_component_from_file(str(package))  # loads back through the kfp SDK
    assert set(loaded.pipeline_spec.root.dag.tasks) == {"makerows", "tag", "count"}
    ir = compile_pipeline(example.create_pipeline(str(tmp_path / "unused")))
    run_dir = Path(run_package_locally(str(package), str(tmp_path / "kfp")))
    kfp_outputs = {(n.id, k): output_files(run_dir / task_name(n.id) / k) for n in ir.nodes for k in n.outputs}
    assert kfp_outputs == EXPECTED


def test_airflow_dags_test_runs_the_compiled_dag_with_the_same_outputs(example, tmp_path, runtime_image):
    venv = airflow_venv("3")  # Airflow 3 in its own venv; the tasks run this interpreter (headrace's)
    env = airflow_home(tmp_path / "airflow", venv)
    dags = tmp_path / "dags"
    os.environ["HEADRACE_HOME"] = str(tmp_path)  # the example's root: <HEADRACE_HOME>/three-styles
    try:
        done = CliRunner().invoke(main, ["compile", str(EXAMPLE), "--target", "airflow", "-o", str(dags)])
    finally:
        del os.environ["HEADRACE_HOME"]
    assert done.exit_code == 0, done.output
    run = dags_test(env, venv, dags, "three-styles")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    root = tmp_path / "three-styles"
    assert _from_store(root, only_run(root).run_id) == EXPECTED
