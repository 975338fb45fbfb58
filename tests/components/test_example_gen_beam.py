"""ExampleGen with a Beam executor written the TFX way (BaseExampleGenExecutor overriding
GetInputSourceToExamplePTransform with a `@beam.ptransform_fn`), run by FileBasedExampleGen's
custom_executor_spec in LocalDagRunner pipelines, followed by StatisticsGen."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from datagen import custom_property, output_uri, run, split_names, split_rows

from headrace.components import CsvExampleGen, FileBasedExampleGen, StatisticsGen
from headrace.components.example_gen.beam import BaseExampleGenExecutor, dict_to_serialized_example
from headrace.components.io.artifact_files import read_statistics
from headrace.dsl.executor import BeamExecutorSpec, ExecutorClassSpec
from headrace.errors import DefinitionError

pytestmark = pytest.mark.heavy_imports  # Beam and pyarrow run in this process

ROWS = 1500


# -- the user's code, as TFX's custom ExampleGen guide writes it -------------------------------
@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
def _JsonLinesToExample(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """Reads JSON-lines files of the split and yields one dict per line."""
    pattern = os.path.join(exec_properties["input_base"], split_pattern)
    return pipeline | "ReadJsonLines" >> beam.io.ReadFromText(pattern) | "Parse" >> beam.Map(json.loads)


class JsonLinesExecutor(BaseExampleGenExecutor):
    """JSON lines -> dicts (headrace turns them into tf.Example)."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _JsonLinesToExample


def _to_tf_example(record: dict[str, Any]) -> Any:
    import tensorflow as tf

    feature = {}
    for key, value in record.items():
        if value is None:
            feature[key] = tf.train.Feature()
        elif isinstance(value, int):
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        elif isinstance(value, float):
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        else:
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
def _ParquetToExample(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """TFX's custom_executors/parquet_executor.py, with its own dict -> tf.train.Example."""
    parquet_pattern = os.path.join(exec_properties["input_base"], split_pattern)
    return (
        pipeline
        | "ReadFromParquet" >> beam.io.ReadFromParquet(parquet_pattern)
        | "ToTFExample" >> beam.Map(_to_tf_example)
    )


class ParquetExecutor(BaseExampleGenExecutor):
    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _ParquetToExample


def _with_args(line: str, args: list[str]) -> bytes:
    record = json.loads(line)
    record["beam_args"] = args
    return dict_to_serialized_example(record)


@beam.ptransform_fn
def _JsonLinesWithArgs(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """Serialized bytes, each carrying the Beam arguments the executor got (to check the merge)."""
    pattern = os.path.join(exec_properties["input_base"], split_pattern)
    args = exec_properties["_beam_pipeline_args"]
    return pipeline | beam.io.ReadFromText(pattern) | beam.Map(_with_args, args)


class ArgsExecutor(BaseExampleGenExecutor):
    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _JsonLinesWithArgs


class _Numbers(beam.PTransform):
    """A PTransform class (TFX's CsvExampleGen form) yielding what is not a record."""

    def __init__(self, exec_properties: dict[str, Any], split_pattern: str):
        super().__init__()

    def expand(self, pipeline: beam.Pipeline) -> Any:
        return pipeline | beam.Create([1, 2, 3])


@beam.ptransform_fn
def _JsonLinesFromFiles(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """JSON lines, read file by file from a list of the split's files: Beam 2.72's DaskRunner cannot
    run beam.io.Read (ReadFromText), it starts from Create. The functions are local, so Beam pickles
    them by value and a Dask worker, which cannot import this test module, runs them."""
    files = sorted(glob.glob(os.path.join(exec_properties["input_base"], split_pattern)))

    def lines(path: str) -> Any:
        with open(path) as f:
            yield from (json.loads(line) for line in f)

    return pipeline | "Files" >> beam.Create(files) | "Lines" >> beam.FlatMap(lines)


class FilesExecutor(BaseExampleGenExecutor):
    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _JsonLinesFromFiles


class BadRecordsExecutor(BaseExampleGenExecutor):
    def GetInputSourceToExamplePTransform(self) -> Any:
        return _Numbers


# -- data ---------------------------------------------------------------------------------------
def write_jsonl(path: Path, rows: int = ROWS, start: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for i in range(start, start + rows):
            record = {
                "id": i,
                "user": f"u{i % 40}",
                "age": 18 + i % 60,
                "score": round((i * 7919 % 1000) / 10, 1),
                "city": ["paris", "lyon", "nice"][i % 3],
                "tags": [f"t{j}" for j in range(i % 3)],  # 0, 1 or 2 values: a multi-valued feature
                "note": None if i % 5 else "checked",
            }
            f.write(json.dumps(record) + "\n")
    return path


def _split(name: str, buckets: int) -> dict[str, Any]:
    return {"name": name, "hash_buckets": buckets}


def _ok(result: Any, node: str) -> str:
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}
    return output_uri(result, node, "examples")


# -- through the pipeline -----------------------------------------------------------------------
def test_tfx_style_executor_writes_tf_examples_that_statistics_gen_reads(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in" / "a.jsonl", 1000)
    write_jsonl(tmp_path / "in" / "b.jsonl", ROWS - 1000, start=1000)
    # No output_data_format: a Beam executor writes TFX's tf.Example by default.
    eg = FileBasedExampleGen(input_base=tmp_path / "in", custom_executor_spec=BeamExecutorSpec(JsonLinesExecutor))
    st = StatisticsGen(examples=eg.outputs["examples"])
    result = run(tmp_path / "root", eg, st)
    uri, root = _ok(result, "FileBasedExampleGen"), tmp_path / "root"
    assert split_names(root, uri) == ["train", "eval"]
    assert custom_property(root, uri, "payload_format") == "FORMAT_TF_EXAMPLE"
    assert glob.glob(os.path.join(uri, "Split-train", "data_tfrecord-*-of-*.gz"))
    rows = {s: split_rows(uri, s) for s in ("train", "eval")}
    assert json.loads(custom_property(root, uri, "split_rows")) == {s: len(r) for s, r in rows.items()}
    assert len(rows["train"]) + len(rows["eval"]) == ROWS
    assert 0.6 < len(rows["train"]) / ROWS < 0.73
    ids = sorted(r["id"][0] for s in rows for r in rows[s])
    assert ids == list(range(ROWS))  # every line once
    row = next(r for r in rows["train"] if r["id"] == [7])
    assert row["city"] == [b"lyon"] and row["tags"] == [b"t0"]
    assert row["note"] is None  # None became an empty feature, which reads as missing
    assert row["score"] == [pytest.approx(43.3)]
    stats = output_uri(result, "StatisticsGen", "statistics")
    for split in ("train", "eval"):
        assert read_statistics(stats, split).datasets[0].num_examples == len(rows[split])


def test_tfx_parquet_executor_yielding_tf_train_examples(tmp_path: Path) -> None:
    """TFX's parquet_executor form: tf.train.Example protos out of the PTransform."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "in").mkdir()
    numbers = range(300)
    table = pa.table({"x": list(numbers), "name": [f"n{i % 7}" for i in numbers], "w": [i / 4 for i in numbers]})
    pq.write_table(table, tmp_path / "in" / "data.parquet")
    eg = FileBasedExampleGen(
        input_base=tmp_path / "in", custom_executor_spec=BeamExecutorSpec(ParquetExecutor), output_data_format="parquet"
    )
    uri = _ok(run(tmp_path / "root", eg, mode="inprocess"), "FileBasedExampleGen")
    rows = [r for s in ("train", "eval") for r in split_rows(uri, s)]
    assert sorted(r["x"] for r in rows) == list(range(300))
    assert {r["name"] for r in rows} == {f"n{i}" for i in range(7)}
    assert next(r for r in rows if r["x"] == 6)["w"] == 1.5


def test_rows_are_split_as_tfx_splits_them(tmp_path: Path) -> None:
    """sha256 of the record's deterministic serialization, modulo the buckets (TFX's _PartitionFn)."""
    write_jsonl(tmp_path / "in" / "a.jsonl", 600)
    eg = FileBasedExampleGen(
        input_base=tmp_path / "in",
        custom_executor_spec=BeamExecutorSpec(JsonLinesExecutor),
        output_config={
            "split_config": {"splits": [{"name": "big", "hash_buckets": 3}, {"name": "small", "hash_buckets": 1}]}
        },
        output_data_format="tfrecord",
    )
    uri = _ok(run(tmp_path / "root", eg), "FileBasedExampleGen")
    expected: dict[str, set[int]] = {"big": set(), "small": set()}
    with open(tmp_path / "in" / "a.jsonl") as f:
        for line in f:
            record = json.loads(line)
            bucket = int(hashlib.sha256(dict_to_serialized_example(record)).hexdigest(), 16) % 4
            expected["big" if bucket < 3 else "small"].add(record["id"])
    for split, ids in expected.items():
        assert {r["id"][0] for r in split_rows(uri, split)} == ids


def test_dicts_become_the_tf_examples_tensorflow_writes() -> None:
    import tensorflow as tf

    record = {"b": ["x", b"y"], "a": 3, "f": [0.5, 2], "z": 0, "empty": None, "n": []}
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "b": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x", b"y"])),
                "a": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
                "f": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5, 2.0])),
                "z": tf.train.Feature(int64_list=tf.train.Int64List(value=[0])),
                "empty": tf.train.Feature(),
                "n": tf.train.Feature(),
            }
        )
    )
    assert dict_to_serialized_example(record) == example.SerializeToString(deterministic=True)


def test_parquet_output_input_splits_spans_and_a_partition_feature(tmp_path: Path) -> None:
    for span in (1, 2):
        write_jsonl(tmp_path / "in" / f"span-{span}" / "train" / "d.jsonl", 400 * span)
        write_jsonl(tmp_path / "in" / f"span-{span}" / "test" / "d.jsonl", 100, start=10_000)
    config = {
        "splits": [
            {"name": "train", "pattern": "span-{SPAN}/train/*"},
            {"name": "test", "pattern": "span-{SPAN}/test/*"},
        ]
    }
    eg = FileBasedExampleGen(
        input_base=tmp_path / "in",
        input_config=config,
        custom_executor_spec=BeamExecutorSpec(JsonLinesExecutor),
        output_data_format="parquet",
    )
    uri, root = _ok(run(tmp_path / "root", eg), "FileBasedExampleGen"), tmp_path / "root"
    assert split_names(root, uri) == ["train", "test"]
    assert custom_property(root, uri, "span") == 2
    assert custom_property(root, uri, "payload_format") == "FORMAT_PARQUET"
    train = split_rows(uri, "train")
    assert len(train) == 800 and len(split_rows(uri, "test")) == 100
    row = next(r for r in train if r["id"] == 5)
    expected = {"id": 5, "user": "u5", "age": 23, "score": 59.5, "city": "nice", "note": "checked"}
    assert row == {**expected, "tags": ["t0", "t1"]}  # one value: a typed column; several: a list column

    by_user = FileBasedExampleGen(
        input_base=tmp_path / "in" / "span-1" / "train",
        custom_executor_spec=BeamExecutorSpec(JsonLinesExecutor),
        output_config={
            "split_config": {
                "splits": [{"name": "train", "hash_buckets": 1}, {"name": "eval", "hash_buckets": 1}],
                "partition_feature_name": "user",
            }
        },
        output_data_format="parquet",
    ).with_id("by_user")
    uri = _ok(run(tmp_path / "root2", by_user), "by_user")
    users = {s: {r["user"] for r in split_rows(uri, s)} for s in ("train", "eval")}
    assert users["train"] and users["eval"] and users["train"].isdisjoint(users["eval"])


def test_component_beam_args_follow_the_pipeline_s(tmp_path: Path) -> None:
    """The executor gets the pipeline's beam_pipeline_args, then its BeamExecutorSpec's; TFX's
    ExecutorClassSpec form and CsvExampleGen(custom_executor_spec=...) run the executor too."""
    from headrace import LocalDagRunner
    from headrace.dsl import Pipeline

    write_jsonl(tmp_path / "in" / "a.jsonl", 50)
    spec = BeamExecutorSpec(ArgsExecutor, beam_pipeline_args=["--direct_num_workers=1"])
    spec.add_beam_pipeline_args(["--runner=DirectRunner"])
    assert spec.to_ir()["beam_pipeline_args"] == ["--direct_num_workers=1", "--runner=DirectRunner"]
    a = FileBasedExampleGen(
        input_base=tmp_path / "in", custom_executor_spec=spec, output_data_format="parquet"
    ).with_id("a")
    b = CsvExampleGen(
        input_base=tmp_path / "in", custom_executor_spec=ExecutorClassSpec(ArgsExecutor), output_data_format="parquet"
    ).with_id("b")
    pipeline = Pipeline("args", str(tmp_path / "root"), [a, b], beam_pipeline_args=["--direct_running_mode=in_memory"])
    result = LocalDagRunner(raise_on_failure=False, quiet=True).run(pipeline)
    got = split_rows(_ok(result, "a"), "train")[0]["beam_args"]
    assert got == ["--direct_running_mode=in_memory", "--direct_num_workers=1", "--runner=DirectRunner"]
    assert split_rows(_ok(result, "b"), "train")[0]["beam_args"] == "--direct_running_mode=in_memory"  # one value


def test_a_transform_yielding_no_records_fails_with_what_it_yielded(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in" / "a.jsonl", 5)
    eg = FileBasedExampleGen(input_base=tmp_path / "in", custom_executor_spec=BeamExecutorSpec(BadRecordsExecutor))
    result = run(tmp_path / "root", eg)
    assert result.state != "COMPLETE"
    error = str(result.nodes["FileBasedExampleGen"].error)
    assert "produced a int; produce tf.train.Example protos, serialized bytes, or dicts" in error


def test_beam_executor_spec_checks_and_copies() -> None:
    with pytest.raises(DefinitionError, match="list of strings"):
        BeamExecutorSpec(JsonLinesExecutor, beam_pipeline_args="--runner=DirectRunner")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="must be strings"):
        BeamExecutorSpec(JsonLinesExecutor, beam_pipeline_args=[3])  # type: ignore[list-item]
    spec = BeamExecutorSpec(JsonLinesExecutor, worker_group="beam")
    copy = spec.copy()
    copy.add_beam_pipeline_args(["--x=1"])
    assert spec.beam_pipeline_args == [] and "beam_pipeline_args" not in spec.to_ir()
    assert copy.to_ir()["worker_group"] == "beam" and copy.to_ir()["beam_pipeline_args"] == ["--x=1"]


def test_an_input_without_records_fails_and_an_empty_split_is_written(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.jsonl").write_text("")
    eg = FileBasedExampleGen(input_base=tmp_path / "empty", custom_executor_spec=BeamExecutorSpec(JsonLinesExecutor))
    result = run(tmp_path / "root", eg)
    assert "The input PTransform gave no records" in str(result.nodes["FileBasedExampleGen"].error)

    write_jsonl(tmp_path / "one" / "a.jsonl", 1)
    eg = FileBasedExampleGen(
        input_base=tmp_path / "one",
        custom_executor_spec=BeamExecutorSpec(JsonLinesExecutor),
        output_config={"split_config": {"splits": [_split("a", 1), _split("b", 1), _split("c", 1)]}},
    )
    uri = _ok(run(tmp_path / "root2", eg), "FileBasedExampleGen")
    assert sorted(len(split_rows(uri, s)) for s in ("a", "b", "c")) == [0, 0, 1]


@pytest.mark.parametrize("payload", ["tfrecord", "parquet"])
def test_on_dask_the_splits_and_rows_are_the_direct_runner_s(tmp_path: Path, dask_cluster: str, payload: str) -> None:
    """Hash-split output splits on the Dask cluster (every split's sink runs, rows counted without
    Beam metrics): the same rows in the same splits as on the DirectRunner."""
    for i in range(3):
        write_jsonl(tmp_path / "in" / f"part-{i}.jsonl", 500, start=1000 * i)
    splits = {"split_config": {"splits": [_split("train", 3), _split("eval", 1)]}}
    uris = {}
    for name, args in (("direct", []), ("dask", ["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"])):
        spec = BeamExecutorSpec(FilesExecutor, beam_pipeline_args=args)
        eg = FileBasedExampleGen(
            input_base=tmp_path / "in", custom_executor_spec=spec, output_config=splits, output_data_format=payload
        )
        uris[name] = _ok(run(tmp_path / name, eg), "FileBasedExampleGen")
    for split in ("train", "eval"):
        key = lambda row: row["id"][0] if isinstance(row["id"], list) else row["id"]  # noqa: E731
        direct = sorted(split_rows(uris["direct"], split), key=key)
        on_dask = sorted(split_rows(uris["dask"], split), key=key)
        assert on_dask == direct and direct
    assert split_names(tmp_path / "dask", uris["dask"]) == ["train", "eval"]
    counts = {n: json.loads(custom_property(tmp_path / n, uris[n], "split_rows") or "{}") for n in uris}
    assert counts["dask"] == counts["direct"] and sum(counts["direct"].values()) == 1500
