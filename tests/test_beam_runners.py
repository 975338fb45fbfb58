"""headrace.beam_runners: the runner the Beam arguments name, and the Dask cluster's checks (no Beam
is imported for these: the cluster's own tests are in tests/orchestrators/test_dask_cluster.py)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from headrace import beam_runners
from headrace.beam_runners import BeamRunnerError


def test_runner_flag_in_both_spellings_the_last_one_wins() -> None:
    assert beam_runners.runner_flag([]) is None
    assert beam_runners.runner_name([]) == "DirectRunner"
    assert beam_runners.runner_flag(["--runner=DirectRunner", "--runner", "DaskRunner"]) == "DaskRunner"
    assert beam_runners.runner_name([f"--runner={beam_runners.DASK_RUNNER_PATH}"]) == "DaskRunner"
    for args in (["--runner=DaskRunner"], ["--runner", "dask"], [f"--runner={beam_runners.DASK_RUNNER_PATH}"]):
        assert beam_runners.is_dask(args)
    assert not beam_runners.is_dask(["--runner=DataflowRunner"])


def test_other_runners_pass_unchanged() -> None:
    args = ["--runner=DirectRunner", "--direct_num_workers=2"]
    assert beam_runners.resolve(args) == args
    assert beam_runners.resolve([]) == []


def test_dask_without_an_address_names_the_flag() -> None:
    with pytest.raises(BeamRunnerError, match="--dask_client_address=tcp://HOST:PORT") as e:
        beam_runners.dask_address(["--runner=DaskRunner"])
    assert "scripts/services.sh dask" in str(e.value)


def test_an_address_nobody_answers_is_refused_naming_it() -> None:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["--runner=DaskRunner", f"--dask_client_address=tcp://127.0.0.1:{port}"]
    with pytest.raises(BeamRunnerError, match=f"--dask_client_address=tcp://127.0.0.1:{port}: no Dask scheduler"):
        beam_runners.check_dask_cluster(args, timeout_s=2)
    with pytest.raises(BeamRunnerError, match="expected tcp://HOST:PORT"):
        beam_runners.check_dask_cluster(["--dask_client_address=somewhere"])


def test_an_address_that_answers_passes_and_a_scheduler_file_gives_one(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        assert beam_runners.check_dask_cluster(["--runner=dask", f"--dask_client_address={address}"]) == address
        scheduler_file = tmp_path / "scheduler.json"
        scheduler_file.write_text(json.dumps({"address": address, "type": "Scheduler"}))
        assert beam_runners.check_dask_cluster([f"--dask_scheduler_file={scheduler_file}"]) == address
    with pytest.raises(BeamRunnerError, match="cannot read the scheduler's address"):
        beam_runners.dask_address([f"--dask_scheduler_file={tmp_path / 'missing.json'}"])
