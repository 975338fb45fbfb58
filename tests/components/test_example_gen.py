"""ExampleGen on real files: splits, configs, spans, payloads, the Arrow hook, and the cache."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from datagen import custom_property, output_uri, run, split_names, split_rows, write_csv

from headrace.components import CsvExampleGen, FileBasedExampleGen, ImportExampleGen, proto
from headrace.errors import DefinitionError

if TYPE_CHECKING:
    import pyarrow as pa

pytestmark = pytest.mark.heavy_imports  # pyarrow reads the splits back in this process


def _examples(result, node="CsvExampleGen"):
    assert result.state == "COMPLETE", result.nodes[node].error
    return output_uri(result, node, "examples")


def test_default_split_is_two_to_one_and_the_same_on_every_run(tmp_path: Path) -> None:
    write_csv(tmp_path / "in" / "data.csv", 3000)
    first = _examples(run(tmp_path / "a", CsvExampleGen(input_base=tmp_path / "in")))
    second = _examples(run(tmp_path / "b", CsvExampleGen(input_base=tmp_path / "in")))
    assert split_names(tmp_path / "a", first) == ["train", "eval"]
    assert "split:single_split,num_files:1,total_bytes:" in custom_property(tmp_path / "a", first, "input_fingerprint")
    train, evals = split_rows(first, "train"), split_rows(first, "eval")
    assert len(train) + len(evals) == 3000
    assert 0.63 < len(train) / 3000 < 0.70
    assert {r["id"] for r in train}.isdisjoint({r["id"] for r in evals})
    assert split_rows(second, "train") == train and split_rows(second, "eval") == evals
    assert train[0].keys() == {"id", "age", "income", "score", "city", "label"}
    assert isinstance(train[0]["income"], float) and isinstance(train[0]["age"], int)


def test_output_config_ratios_names_and_a_partition_column(tmp_path: Path) -> None:
    rows = ["user,value"] + [f"u{i % 50},{i}" for i in range(2000)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "d.csv").write_text("\n".join(rows) + "\n")
    config = {
        "split_config": {
            "splits": [
                {"name": "train", "hash_buckets": 8},
                {"name": "test", "hash_buckets": 1},
                {"name": "x", "hash_buckets": 1},
            ],
            "partition_feature_name": "user",
        }
    }
    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in", output_config=config)))
    assert split_names(tmp_path / "r", uri) == ["train", "test", "x"]
    users = {s: {r["user"] for r in split_rows(uri, s)} for s in ("train", "test", "x")}
    assert users["train"].isdisjoint(users["test"]) and users["test"].isdisjoint(users["x"])  # a user stays whole
    assert sum(len(split_rows(uri, s)) for s in users) == 2000


def test_tfx_proto_configs_are_accepted(tmp_path: Path) -> None:
    write_csv(tmp_path / "in" / "d.csv", 600)
    output = proto.Output(
        split_config=proto.SplitConfig(
            splits=[
                proto.SplitConfig.Split(name="train", hash_buckets=3),
                proto.SplitConfig.Split(name="eval", hash_buckets=1),
            ]
        )
    )
    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in", output_config=output)))
    assert split_names(tmp_path / "r", uri) == ["train", "eval"]


def test_input_config_maps_files_to_splits(tmp_path: Path) -> None:
    write_csv(tmp_path / "in" / "train" / "a.csv", 300, seed=1)
    write_csv(tmp_path / "in" / "train" / "b.csv", 200, seed=2)
    write_csv(tmp_path / "in" / "eval" / "c.csv", 100, seed=3)
    inputs = {"splits": [{"name": "train", "pattern": "train/*.csv"}, {"name": "eval", "pattern": "eval/*"}]}
    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in", input_config=inputs)))
    assert split_names(tmp_path / "r", uri) == ["train", "eval"]
    assert len(split_rows(uri, "train")) == 500 and len(split_rows(uri, "eval")) == 100


def test_several_input_splits_and_output_splits_together_is_a_definition_error(tmp_path: Path) -> None:
    inputs = {"splits": [{"name": "a", "pattern": "a/*"}, {"name": "b", "pattern": "b/*"}]}
    outputs = {"split_config": {"splits": [{"name": "train", "hash_buckets": 1}]}}
    with pytest.raises(DefinitionError, match="leave output_config's split_config empty"):
        CsvExampleGen(input_base=tmp_path, input_config=inputs, output_config=outputs)
    with pytest.raises(DefinitionError, match="hash_buckets > 0"):
        CsvExampleGen(
            input_base=tmp_path, output_config={"split_config": {"splits": [{"name": "t", "hash_buckets": 0}]}}
        )
    with pytest.raises(DefinitionError, match="inside input_base"):
        CsvExampleGen(input_base=tmp_path, input_config={"splits": [{"name": "t", "pattern": "../*"}]})


def test_latest_span_and_version_or_the_span_a_range_names(tmp_path: Path) -> None:
    write_csv(tmp_path / "in" / "span-1" / "v-1" / "d.csv", 90, seed=1)
    write_csv(tmp_path / "in" / "span-2" / "v-1" / "d.csv", 60, seed=2)
    write_csv(tmp_path / "in" / "span-2" / "v-3" / "d.csv", 30, seed=3)
    inputs = {"splits": [{"name": "single_split", "pattern": "span-{SPAN}/v-{VERSION}/*"}]}
    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in", input_config=inputs)))
    assert custom_property(tmp_path / "r", uri, "span") == 2 and custom_property(tmp_path / "r", uri, "version") == 3
    assert sum(len(split_rows(uri, s)) for s in ("train", "eval")) == 30
    ranged = CsvExampleGen(
        input_base=tmp_path / "in",
        input_config=inputs,
        range_config={"static_range": {"start_span_number": 1, "end_span_number": 1}},
    )
    uri = _examples(run(tmp_path / "s", ranged))
    assert custom_property(tmp_path / "s", uri, "span") == 1
    assert sum(len(split_rows(uri, s)) for s in ("train", "eval")) == 90


def test_tfrecord_payload_and_import_of_parquet_and_tfrecords_keep_the_rows(tmp_path: Path) -> None:
    write_csv(tmp_path / "in" / "d.csv", 500)
    csv_uri = _examples(run(tmp_path / "p", CsvExampleGen(input_base=tmp_path / "in")))
    tf_gen = CsvExampleGen(input_base=tmp_path / "in", output_data_format=6)  # example_gen_pb2.FORMAT_TF_EXAMPLE
    tf_uri = _examples(run(tmp_path / "t", tf_gen))
    assert custom_property(tmp_path / "t", tf_uri, "payload_format") == "FORMAT_TF_EXAMPLE"
    assert os.listdir(os.path.join(tf_uri, "Split-train")) == ["data_tfrecord-00000-of-00001.gz"]
    parquet_rows = split_rows(csv_uri, "train")
    tf_rows = split_rows(tf_uri, "train")
    assert [r["id"] for r in tf_rows] == [[r["id"]] for r in parquet_rows]  # tf.Example: lists of values
    assert tf_rows[0]["city"] == [parquet_rows[0]["city"].encode()]

    # ImportExampleGen reads both back; its output keeps the input's format unless told otherwise.
    (tmp_path / "imp_pq").mkdir()
    (tmp_path / "imp_tf").mkdir()
    os.link(
        os.path.join(csv_uri, "Split-train", "data_parquet-00000-of-00001.parquet"), tmp_path / "imp_pq" / "a.parquet"
    )
    os.link(os.path.join(tf_uri, "Split-train", "data_tfrecord-00000-of-00001.gz"), tmp_path / "imp_tf" / "a.gz")
    from_pq = run(tmp_path / "ip", ImportExampleGen(input_base=tmp_path / "imp_pq"))
    from_tf = run(tmp_path / "it", ImportExampleGen(input_base=tmp_path / "imp_tf", output_data_format="parquet"))
    pq_uri, tf_back = _examples(from_pq, "ImportExampleGen"), _examples(from_tf, "ImportExampleGen")
    assert custom_property(tmp_path / "ip", pq_uri, "payload_format") == "FORMAT_PARQUET"
    by_id = lambda rows: sorted(rows, key=lambda r: r["id"])  # noqa: E731
    assert by_id(split_rows(pq_uri, "train") + split_rows(pq_uri, "eval")) == by_id(parquet_rows)
    back = by_id(split_rows(tf_back, "train") + split_rows(tf_back, "eval"))
    assert [r["id"] for r in back] == [r["id"] for r in by_id(parquet_rows)]  # single values: scalar columns again
    assert back[0]["city"] == by_id(parquet_rows)[0]["city"].encode()


def json_lines_reader(path: str) -> pa.Table:
    """An Arrow hook: one JSON object per line."""
    import pyarrow.json as pj

    return pj.read_json(path)


def test_the_arrow_reader_hook(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(f'{{"k": {i}, "s": "v{i % 3}"}}\n' for i in range(300)))
    gen = FileBasedExampleGen(input_base=tmp_path / "in", reader=json_lines_reader)
    uri = _examples(run(tmp_path / "r", gen), "FileBasedExampleGen")
    rows = split_rows(uri, "train") + split_rows(uri, "eval")
    assert sorted(r["k"] for r in rows) == list(range(300))
    with pytest.raises(DefinitionError, match="needs a reader"):
        result = run(tmp_path / "n", FileBasedExampleGen(input_base=tmp_path / "in"))
        raise DefinitionError(str(result.nodes["FileBasedExampleGen"].error))


def test_int_column_with_decimals_later_is_read_as_float(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("x,y\n1,a\n2,b\n")
    (tmp_path / "in" / "b.csv").write_text("x,y\n2.5,c\n,d\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in")))
    values = sorted(r["x"] for r in split_rows(uri, "train") + split_rows(uri, "eval") if r["x"] is not None)
    assert values == [1.0, 2.0, 2.5]
    table = pq.read_table(os.path.join(uri, "Split-train"))
    assert table.schema.field("x").type == pa.float64()


def test_unchanged_input_hits_the_cache_and_a_touched_or_new_file_misses(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "in" / "d.csv", 200)
    first = run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in"))
    assert first.nodes["CsvExampleGen"].state == "COMPLETE"
    assert run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in")).nodes["CsvExampleGen"].state == "CACHED"
    later = time.time() + 5
    os.utime(data, (later, later))  # touched: same content, new modification time
    assert run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in")).nodes["CsvExampleGen"].state == "COMPLETE"
    assert run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in")).nodes["CsvExampleGen"].state == "CACHED"
    write_csv(tmp_path / "in" / "more.csv", 10, seed=5)
    third = run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in"))
    assert third.nodes["CsvExampleGen"].state == "COMPLETE"
    uri = _examples(third)
    assert len(split_rows(uri, "train")) + len(split_rows(uri, "eval")) == 210


def test_dates_stay_text_as_tfx_reads_them(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(
        "day,at,n\n2024-01-02,2024-01-02 10:00:00,1\n2024-02-03,2024-02-03 11:30:00,2\n"
    )
    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in")))
    rows = sorted(split_rows(uri, "train") + split_rows(uri, "eval"), key=lambda r: r["n"])
    assert [(r["day"], r["at"]) for r in rows] == [
        ("2024-01-02", "2024-01-02 10:00:00"),
        ("2024-02-03", "2024-02-03 11:30:00"),
    ]


def test_quoted_newlines_and_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(b'\xef\xbb\xbfid,note\n1,"two\nlines"\n2,"a, comma"\n3,plain\n')
    uri = _examples(run(tmp_path / "r", CsvExampleGen(input_base=tmp_path / "in")))
    rows = sorted(split_rows(uri, "train") + split_rows(uri, "eval"), key=lambda r: r["id"])
    assert rows == [{"id": 1, "note": "two\nlines"}, {"id": 2, "note": "a, comma"}, {"id": 3, "note": "plain"}]
