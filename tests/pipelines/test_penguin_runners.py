"""The main job runs to the same result under LocalDagRunner, BeamDagRunner in process and
BeamDagRunner on the Dask cluster (`scripts/services.sh dask`: a scheduler and two worker
processes, where every node runs; StatisticsGen and BulkInferrer then take their Beam paths on the
cluster too): the same rows per split, the same schema, blessed, version 1 pushed, a prediction for
every row."""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path
from typing import Any

import pytest

from headrace import LocalDagRunner
from headrace.orchestrators import BeamDagRunner

pytestmark = pytest.mark.slow("trains and serves the penguin model three times (TensorFlow), on a Dask cluster too")

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "penguin" / "pipeline.py"
SPLITS = ("train", "eval")


def _executions(root: Path) -> list[Any]:
    """The completed executions of the one run under `root`."""
    from headrace.metadata import Metadata, MetadataReader, sqlite_metadata_connection_config

    reader = MetadataReader(Metadata(sqlite_metadata_connection_config(str(root / "metadata.sqlite"))))
    [run] = reader.runs()
    return [e for e in reader.executions(run.run_id) if e.state == "COMPLETE"]


def _result(run: Any, root: Path) -> dict[str, Any]:
    """What must be equal across runners."""
    assert run.state == "COMPLETE", run.errors
    import pyarrow.parquet as pq

    from headrace.components.io.artifact_files import read_schema

    examples = Path(run.nodes["CsvExampleGen"].outputs["examples"][0])
    [example_gen] = [e for e in _executions(root) if e.node_id == "CsvExampleGen"]
    schema = read_schema(run.nodes["SchemaGen"].outputs["schema"][0])
    inference = Path(run.nodes["BulkInferrer"].outputs["inference_result"][0])
    predicted = {s: pq.read_metadata(next((inference / f"Split-{s}").glob("*.parquet"))).num_rows for s in SPLITS}
    return {
        "rows": json.loads(example_gen.outputs["examples"][0].custom_properties["split_rows"]),
        "splits": sorted(p.name for p in examples.iterdir() if p.name.startswith("Split-")),
        "schema": schema.SerializeToString(deterministic=True),
        "blessed": run.nodes["Evaluator"].summary.startswith("blessed"),
        "pushed": sorted(p.name for p in (root / "serving_model" / "penguin").iterdir()),
        "predicted": predicted,
        "states": {n: o.state for n, o in run.nodes.items()},
    }


def test_the_main_job_gives_one_result_on_every_runner_that_runs_here(tmp_path: Path, dask_cluster: str) -> None:
    create = runpy.run_path(str(PIPELINE))["create_pipeline"]
    results = {}
    runners = {
        "local": LocalDagRunner(quiet=True),
        "beam": BeamDagRunner(quiet=True),
        "dask": BeamDagRunner(
            beam_pipeline_args=["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"], quiet=True
        ),
    }
    for name, runner in runners.items():
        root = tmp_path / name
        results[name] = _result(runner.run(create(root=str(root))), root)
    local = results["local"]
    assert local["blessed"] and local["pushed"] == ["1"] and local["splits"] == ["Split-eval", "Split-train"]
    assert local["rows"] == local["predicted"] and sum(local["rows"].values()) > 300
    for name in ("beam", "dask"):
        for key in ("rows", "predicted", "splits", "schema", "blessed", "pushed", "states"):
            assert results[name][key] == local[key], (name, key)
    # On Dask every node ran in a worker process: none in this one.
    launchers = {str(e.properties.get("launcher", "")) for e in _executions(tmp_path / "dask")} - {""}
    assert launchers and not any(x.endswith(f":{os.getpid()}") for x in launchers), launchers
