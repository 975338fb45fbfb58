"""BeamDagRunner on a Dask cluster (a scheduler and two worker processes started by
`scripts/services.sh dask`, the `dask_cluster` fixture): `--runner=DaskRunner` by its short name,
the nodes run in the workers' processes, and the outputs are LocalDagRunner's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from output_files import output_files

from headrace.cli.loader import load_file_as_module
from headrace.cli.main import main
from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config
from headrace.orchestrators import BeamDagRunner, LocalDagRunner

pytestmark = pytest.mark.heavy_imports  # Beam and distributed run in this process

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "pipelines" / "hello_pipeline.py"


def _outputs(result) -> dict[tuple[str, str], dict[str, bytes]]:
    assert result.succeeded, result.errors
    return {
        (n, k): output_files(uri, binary=True)
        for n, o in result.nodes.items()
        for k, uris in o.outputs.items()
        for uri in uris
    }


def _worker_pids(address: str) -> set[int]:
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        return set(client.run(os.getpid).values())


def _launchers(root: Path, run_id: str) -> dict[str, str]:
    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))
    return {e.node_id: e.properties.get("launcher", "") for e in reader.executions(run_id) if e.state == "COMPLETE"}


@pytest.fixture(scope="module")
def example():
    return load_file_as_module(str(EXAMPLE))


def test_beam_dag_runner_on_dask_gives_local_dag_runner_s_outputs(example, dask_cluster: str, tmp_path: Path) -> None:
    local = _outputs(LocalDagRunner(quiet=True).run(example.create_pipeline(str(tmp_path / "local"))))
    args = ["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"]
    root = tmp_path / "dask"
    result = BeamDagRunner(beam_pipeline_args=args, quiet=True).run(example.create_pipeline(str(root)))
    assert _outputs(result) == local
    assert len(local) == 6
    # Every node that executed ran in a Dask worker's process (the launcher recorded on its execution).
    pids = _worker_pids(dask_cluster)
    launchers = _launchers(root, result.run_id)
    assert set(launchers) == {"MakeExamples", "HelloComponent", "labels", "Train", "Validate"}
    ran_in = {n: int(str(owner).rpartition(":")[2]) for n, owner in launchers.items() if owner}
    assert ran_in and set(ran_in.values()) <= pids, (ran_in, pids)
    assert os.getpid() not in ran_in.values()


def test_headrace_run_on_dask_from_the_command_line(dask_cluster: str, tmp_path: Path) -> None:
    os.environ["HEADRACE_HOME"] = str(tmp_path)
    try:
        beam = ["--runner", "beam", "--beam-arg=--runner=DaskRunner"]
        address = f"--beam-arg=--dask_client_address={dask_cluster}"
        done = CliRunner().invoke(main, ["run", str(EXAMPLE), *beam, address])
        assert done.exit_code == 0, done.output
        assert "COMPLETE" in done.output
        missing = CliRunner().invoke(main, ["run", str(EXAMPLE), *beam])
    finally:
        del os.environ["HEADRACE_HOME"]
    assert missing.exit_code != 0
    assert "--dask_client_address=tcp://HOST:PORT" in missing.output
    assert "Traceback" not in missing.output


def test_an_unreachable_cluster_fails_before_the_run_is_registered(example, tmp_path: Path) -> None:
    from headrace.beam_runners import BeamRunnerError

    args = ["--runner=DaskRunner", "--dask_client_address=tcp://127.0.0.1:9"]
    with pytest.raises(BeamRunnerError, match=r"--dask_client_address=tcp://127\.0\.0\.1:9: no Dask scheduler"):
        BeamDagRunner(beam_pipeline_args=args, quiet=True).run(example.create_pipeline(str(tmp_path / "root")))
    assert not (tmp_path / "root" / "metadata.sqlite").exists()
