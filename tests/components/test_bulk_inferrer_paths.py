"""BulkInferrer's two execution paths give one result: the in-process stream of record batches and
the Beam pipeline (BatchElements into a DoFn that loads the model in `setup`), on both payloads.
The same rows (matched by an id column: the Beam path's row order is the runner's), the same
columns in the same order and types, predictions equal to 1e-6; 'auto' stays in process on small
data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from datagen import custom_property, output_uri, run, split_rows

from headrace.components import BulkInferrer, CsvExampleGen
from headrace.dsl import Importer
from headrace.types.standard_artifacts import Model

pytestmark = pytest.mark.heavy_imports  # TensorFlow and Beam run in this process

ROWS = 20_000  # more than one in-process batch (8192 rows) per split
PAYLOADS = ("parquet", "tfrecord")
MAKE_MODEL = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

class Model(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x"),
                                  tf.TensorSpec([None], tf.string, name="kind")])
    def serve(self, x, kind):
        return {"y": tf.sin(x) * 3.0, "n": tf.strings.length(kind),
                "probs": tf.stack([tf.sigmoid(x), 1.0 - tf.sigmoid(x)], axis=1)}

m = Model()
tf.saved_model.save(m, os.path.join(sys.argv[1], "Format-Serving"), signatures={"serving_default": m.serve})
"""


@pytest.fixture(scope="module")
def paths_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bulk_paths")
    subprocess.run([sys.executable, "-c", MAKE_MODEL, str(tmp / "model")], check=True, timeout=300)
    (tmp / "in").mkdir()
    lines = "".join(f"{i},{(i * 7919 % 1000) / 100.0},k{i % 13}\n" for i in range(ROWS))
    (tmp / "in" / "d.csv").write_text("id,x,kind\n" + lines)
    model = Importer(source_uri=str(tmp / "model"), artifact_type=Model)
    nodes: list[Any] = [model]
    for payload in PAYLOADS:
        eg = CsvExampleGen(input_base=tmp / "in", output_data_format=payload).with_id(f"eg_{payload}")
        nodes.append(eg)
        for path in ("in_process", "beam", "auto"):
            inferrer = BulkInferrer(examples=eg.outputs["examples"], model=model.outputs["result"], execution_path=path)
            nodes.append(inferrer.with_id(f"{payload}_{path}"))
    result = run(tmp / "root", *nodes, mode="inprocess")
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}
    return {"root": tmp / "root", "result": result}


def _read(uri: str, split: str) -> tuple[Any, dict[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    table = pq.read_table(Path(uri) / f"Split-{split}" / "predictions-00000-of-00001.parquet")
    rows = table.to_pylist()
    ids = [row["id"][0] if isinstance(row["id"], list) else row["id"] for row in rows]
    assert len(set(ids)) == len(ids), "an input row was predicted twice"
    return table.schema, dict(zip(ids, rows, strict=True))


def _assert_same_row(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if key.startswith("prediction."):
            assert b[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key
        else:
            assert b[key] == value, key


@pytest.mark.parametrize("payload", PAYLOADS)
def test_bulk_inferrer_paths_agree(paths_run: dict[str, Any], payload: str) -> None:
    result, root = paths_run["result"], paths_run["root"]
    uris = {p: output_uri(result, f"{payload}_{p}", "inference_result") for p in ("in_process", "beam", "auto")}
    examples = output_uri(result, f"eg_{payload}", "examples")
    for path in ("in_process", "beam"):
        assert custom_property(root, uris[path], "execution_path") == path
    assert custom_property(root, uris["auto"], "execution_path") == "in_process"  # small data stays in process
    total = 0
    for split in ("train", "eval"):
        schema, in_process = _read(uris["in_process"], split)
        beam_schema, beam = _read(uris["beam"], split)
        assert beam_schema == schema  # same column names, order and types
        assert [n for n in schema.names if n.startswith("prediction.")] == [
            "prediction.n",
            "prediction.probs",
            "prediction.y",
        ]
        assert len(in_process) == len(beam) == len(split_rows(examples, split))  # one row per input row
        assert in_process.keys() == beam.keys()
        for key, row in in_process.items():
            _assert_same_row(row, beam[key])
        total += len(beam)
        assert not (Path(uris["beam"]) / f"Split-{split}" / "_beam_parts").exists()
    assert total == ROWS


def test_the_comparison_sees_a_difference() -> None:
    """The row check above can fail: a prediction off by 1e-5 is caught."""
    row = {"id": 1, "x": 0.5, "prediction.y": 1.0}
    _assert_same_row(row, dict(row))
    with pytest.raises(AssertionError):
        _assert_same_row(row, {**row, "prediction.y": 1.00001})


def test_bulk_inferrer_on_dask_agrees(paths_run: dict[str, Any], dask_cluster: str, tmp_path: Path) -> None:
    """beam_pipeline_args naming DaskRunner take BulkInferrer ('auto') to the Beam path on the cluster
    (scripts/services.sh dask: two worker processes, each loading the model); the predictions are
    the in-process ones, row for row."""
    from headrace import LocalDagRunner
    from headrace.dsl import Pipeline
    from headrace.types.standard_artifacts import Examples

    result = paths_run["result"]
    examples = Importer(
        source_uri=output_uri(result, "eg_tfrecord", "examples"),
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]'},
        custom_properties={"payload_format": "FORMAT_TF_EXAMPLE"},
    ).with_id("examples")
    model = Importer(source_uri=str(paths_run["root"].parent / "model"), artifact_type=Model).with_id("model")
    inferrer = BulkInferrer(examples=examples.outputs["result"], model=model.outputs["result"])
    args = ["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"]
    pipeline = Pipeline("dask", str(tmp_path / "root"), [examples, model, inferrer], beam_pipeline_args=args)
    done = LocalDagRunner(raise_on_failure=False, executor_mode="inprocess", quiet=True).run(pipeline)
    assert done.state == "COMPLETE", {n: o.error for n, o in done.nodes.items() if o.error}
    uri = output_uri(done, "BulkInferrer", "inference_result")
    assert custom_property(tmp_path / "root", uri, "execution_path") == "beam"
    reference = output_uri(result, "tfrecord_in_process", "inference_result")
    total = 0
    for split in ("train", "eval"):
        schema, in_process = _read(reference, split)
        dask_schema, on_dask = _read(uri, split)
        assert dask_schema == schema
        assert len(in_process) == len(on_dask), (len(in_process), len(on_dask))
        assert in_process.keys() == on_dask.keys()
        for key, row in in_process.items():
            _assert_same_row(row, on_dask[key])
        total += len(on_dask)
    assert total == ROWS
