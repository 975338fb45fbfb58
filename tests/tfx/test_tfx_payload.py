"""Under headrace.tfx, CsvExampleGen writes TFX's payload (gzip TFRecords of tf.Example), so TFX code
that reads the files itself works; headrace's own CsvExampleGen writes Parquet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy_imports  # tfx_bsl decodes the records in this process


def _run(tmp_path: Path, gen, name: str):
    from headrace import LocalDagRunner, Pipeline

    result = LocalDagRunner(quiet=True).run(Pipeline(name, str(tmp_path / name), [gen]))
    return result.nodes["CsvExampleGen"].outputs["examples"][0]


def test_tfx_csv_example_gen_writes_tf_examples_and_headrace_s_writes_parquet(tmp_path: Path) -> None:
    from tfx_bsl.coders import example_coder

    from headrace.components import CsvExampleGen
    from headrace.components.io.tfrecord import read_records
    from headrace.tfx import v1 as tfx

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "d.csv").write_text("a,b\n" + "".join(f"{i},x{i % 3}\n" for i in range(60)))
    tfx_uri = _run(tmp_path, tfx.components.CsvExampleGen(input_base=str(tmp_path / "in")), "tfx")
    train = os.path.join(tfx_uri, "Split-train")
    assert os.listdir(train) == ["data_tfrecord-00000-of-00001.gz"]  # what TFX's tutorials glob and read
    records = list(read_records(os.path.join(train, "data_tfrecord-00000-of-00001.gz")))
    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    assert batch.schema.names == ["a", "b"] and batch.num_rows == len(records) > 0

    parquet = tfx.components.CsvExampleGen(input_base=str(tmp_path / "in"), output_data_format=15)  # FORMAT_PARQUET
    assert parquet.exec_properties["output_data_format"] == "FORMAT_PARQUET"
    own_uri = _run(tmp_path, CsvExampleGen(input_base=tmp_path / "in"), "own")
    assert os.listdir(os.path.join(own_uri, "Split-train")) == ["data_parquet-00000-of-00001.parquet"]
