"""StatisticsGen, SchemaGen, ImportSchemaGen and ExampleValidator on real TFDV and real files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from datagen import custom_property, live_artifacts, output_uri, run, split_names, write_csv

from headrace.components import CsvExampleGen, ExampleValidator, ImportSchemaGen, SchemaGen, StatisticsGen
from headrace.components.io.artifact_files import read_anomalies, read_schema, read_statistics
from headrace.dsl import InputArtifact, component
from headrace.types.standard_artifacts import ExampleAnomalies

pytestmark = pytest.mark.heavy_imports  # TFDV runs in this process (inprocess runs): one TensorFlow import


def _run(root: Path, *components: Any) -> Any:
    return run(root, *components, mode="inprocess")


def _features(stats: Any) -> dict[str, Any]:
    return {f.path.step[0] if f.path.step else f.name: f for f in stats.datasets[0].features}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One clean four-component run on 3000 rows."""
    tmp = tmp_path_factory.mktemp("clean")
    write_csv(tmp / "in" / "data.csv", 3000, seed=11)
    eg = CsvExampleGen(input_base=tmp / "in")
    st = StatisticsGen(examples=eg.outputs["examples"])
    sg = SchemaGen(statistics=st.outputs["statistics"])
    ev = ExampleValidator(statistics=st.outputs["statistics"], schema=sg.outputs["schema"])
    result = _run(tmp / "root", eg, st, sg, ev)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items()}
    return {"tmp": tmp, "result": result}


def test_statistics_per_split_where_tfx_writes_them(clean: dict[str, Any]) -> None:
    result, root = clean["result"], clean["tmp"] / "root"
    uri = output_uri(result, "StatisticsGen", "statistics")
    assert split_names(root, uri) == ["train", "eval"]
    total = 0
    for split in ("train", "eval"):
        assert os.path.isfile(os.path.join(uri, f"Split-{split}", "FeatureStats.pb"))
        stats = read_statistics(uri, split)
        total += stats.datasets[0].num_examples
        features = _features(stats)
        assert set(features) == {"id", "age", "income", "score", "city", "label"}
        assert 18 <= features["age"].num_stats.min and features["age"].num_stats.max < 90
        assert features["city"].string_stats.unique == 4
    assert total == 3000
    assert os.path.isfile(os.path.join(uri, "report.html"))


def test_schema_and_no_anomalies_on_clean_data(clean: dict[str, Any]) -> None:
    result, root = clean["result"], clean["tmp"] / "root"
    schema = read_schema(output_uri(result, "SchemaGen", "schema"))
    names = {f.name for f in schema.feature}
    assert names == {"id", "age", "income", "score", "city", "label"}
    assert {d.name: list(d.value) for d in schema.string_domain}["city"] == ["lille", "lyon", "nice", "paris"]
    anomalies_uri = output_uri(result, "ExampleValidator", "anomalies")
    for split in ("train", "eval"):
        assert not read_anomalies(anomalies_uri, split).anomaly_info
    assert custom_property(root, anomalies_uri, "blessed") == 1


def test_parquet_and_tfrecord_payloads_give_the_same_statistics(clean: dict[str, Any]) -> None:
    tmp = clean["tmp"]
    eg = CsvExampleGen(input_base=tmp / "in", output_data_format="tfrecord")
    st = StatisticsGen(examples=eg.outputs["examples"])
    tf_result = _run(tmp / "tf_root", eg, st)
    parquet = read_statistics(output_uri(clean["result"], "StatisticsGen", "statistics"), "train")
    tfrecord = read_statistics(output_uri(tf_result, "StatisticsGen", "statistics"), "train")
    a, b = _features(parquet), _features(tfrecord)
    assert set(a) == set(b)
    assert parquet.datasets[0].num_examples == tfrecord.datasets[0].num_examples
    for name in a:
        if a[name].HasField("num_stats"):
            x, y = a[name].num_stats, b[name].num_stats
            assert x.common_stats.num_non_missing == y.common_stats.num_non_missing
            assert x.min == pytest.approx(y.min, rel=1e-6) and x.max == pytest.approx(y.max, rel=1e-6)
            assert x.mean == pytest.approx(y.mean, rel=1e-6)  # float32 in tf.Example: close, not equal
        else:
            x, y = a[name].string_stats, b[name].string_stats
            assert x.unique == y.unique
            assert [(v.value, v.frequency) for v in x.top_values] == [(v.value, v.frequency) for v in y.top_values]


@component
def Consume(anomalies: InputArtifact[ExampleAnomalies]) -> None:
    """Stands for training: must not run on data that failed validation."""
    print("consumed", anomalies.uri)


def test_anomalies_are_detected_and_fail_mode_stops_the_run_before_its_descendants(
    clean: dict[str, Any], tmp_path: Path
) -> None:
    schema_file = tmp_path / "schema.pbtxt"
    shutil.copy(os.path.join(output_uri(clean["result"], "SchemaGen", "schema"), "schema.pbtxt"), schema_file)
    bad = tmp_path / "bad"
    write_csv(bad / "data.csv", 600, seed=12, cities=["paris", "lyon", "berlin"])  # a new category
    text = (bad / "data.csv").read_text().splitlines()
    rows = [line.rsplit(",", 1)[0] for line in text]  # the label column is dropped
    rows = [rows[0]] + [r.replace(",", ",x", 1) if i % 2 else r for i, r in enumerate(rows[1:])]  # age: text too
    (bad / "data.csv").write_text("\n".join(rows) + "\n")

    def pipeline(fail: bool) -> list[Any]:
        eg = CsvExampleGen(input_base=bad, column_types={"age": "string"})
        st = StatisticsGen(examples=eg.outputs["examples"])
        schema = ImportSchemaGen(schema_file=schema_file)
        ev = ExampleValidator(
            statistics=st.outputs["statistics"], schema=schema.outputs["schema"], fail_on_anomalies=fail
        )
        return [eg, st, schema, ev, Consume(anomalies=ev.outputs["anomalies"])]

    recorded = _run(tmp_path / "record", *pipeline(False))
    assert recorded.state == "COMPLETE"
    uri = output_uri(recorded, "ExampleValidator", "anomalies")
    kinds = {}
    for split in ("train", "eval"):
        for feature, info in read_anomalies(uri, split).anomaly_info.items():
            kinds.setdefault(feature, set()).update(r.type for r in info.reason)
    from tensorflow_metadata.proto.v0 import anomalies_pb2 as A

    assert A.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES in kinds["city"]
    assert A.AnomalyInfo.SCHEMA_MISSING_COLUMN in kinds["label"]
    assert kinds["age"] & {A.AnomalyInfo.UNEXPECTED_DATA_TYPE, A.AnomalyInfo.INT_TYPE_NOT_INT_STRING}
    assert custom_property(tmp_path / "record", uri, "blessed") == 0

    failed = _run(tmp_path / "fail", *pipeline(True))
    assert failed.state == "FAILED"
    assert failed.nodes["ExampleValidator"].state == "FAILED"
    assert failed.nodes["Consume"].state == "SKIPPED"
    error = str(failed.nodes["ExampleValidator"].error)
    assert "DataValidationError" in error
    for expected in ("feature 'city': ENUM_TYPE_UNEXPECTED_STRING_VALUES", "feature 'label'", "berlin"):
        assert expected in error
    live_uris = {output_uri(failed, n, k) for n, k in (("CsvExampleGen", "examples"), ("StatisticsGen", "statistics"))}
    assert live_artifacts(tmp_path / "fail") == len(live_uris) + 1  # examples, statistics, imported schema only


def test_excluded_splits_and_stats_options(clean: dict[str, Any], tmp_path: Path) -> None:
    import tensorflow_data_validation as tfdv

    eg = CsvExampleGen(input_base=clean["tmp"] / "in")
    st = StatisticsGen(
        examples=eg.outputs["examples"],
        exclude_splits=["eval"],
        stats_options=tfdv.StatsOptions(feature_allowlist=["age", "city"]),
    )
    sg = SchemaGen(statistics=st.outputs["statistics"], infer_feature_shape=False)
    result = _run(tmp_path / "root", eg, st, sg)
    uri = output_uri(result, "StatisticsGen", "statistics")
    assert split_names(tmp_path / "root", uri) == ["train"]
    assert not os.path.exists(os.path.join(uri, "Split-eval"))
    assert set(_features(read_statistics(uri, "train"))) == {"age", "city"}
    schema = read_schema(output_uri(result, "SchemaGen", "schema"))
    assert all(not f.HasField("shape") for f in schema.feature)  # value counts, not shapes
