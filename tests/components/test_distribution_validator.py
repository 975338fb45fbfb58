"""DistributionValidator on synthetic data with a fixed seed: KS and chi-squared flag the shifted
features and not the others; TFDV's L-infinity and Jensen-Shannon comparators flag the same
shifts; fail_on_drift stops the run with the list and leaves no LIVE output; sampling is
deterministic; a missing baseline compares nothing."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from headrace import LocalDagRunner
from headrace.components import CsvExampleGen, StatisticsGen
from headrace.components.validation.distribution_validator import DistributionValidator, Executor
from headrace.dsl import Pipeline
from headrace.errors import DefinitionError
from headrace.types.standard_artifacts import ExampleAnomalies, Examples

pytestmark = pytest.mark.heavy_imports  # the executor runs in this process too: pyarrow and scipy load here

ROWS = 7500  # CsvExampleGen's 2:1 split gives about 5,000 train and 2,500 eval rows per side
SHIFTED = {"score", "channel"}
UNSHIFTED = {"amount", "age", "rooms", "color"}
# TFX's DistributionValidatorConfig in dict form: a per-feature comparator wins over the thresholds.
AMOUNT_COMPARATOR = {
    "default_slice_config": {
        "feature": [
            {"path": {"step": ["amount"]}, "distribution_comparator": {"jensen_shannon_divergence": {"threshold": 0.5}}}
        ]
    }
}
TESTS = {"score": "ks", "amount": "ks", "age": "ks", "rooms": "chi2", "color": "chi2", "channel": "chi2"}


def _write_csv(path: Path, rng: np.random.Generator, shifted: bool) -> None:
    """score moves by half a standard deviation; channel changes proportions and gains 'app'.
    The other columns are drawn from the same distributions on both sides."""
    columns = {
        "amount": np.round(rng.lognormal(3, 0.5, ROWS), 2),
        "score": np.round(rng.normal(0.5 if shifted else 0.0, 1.0, ROWS), 4),
        "age": rng.integers(18, 91, ROWS),  # 73 values: numeric, KS
        "rooms": rng.integers(1, 6, ROWS),  # 5 values: categorical, chi-squared
        "color": rng.choice(["red", "green", "blue"], ROWS, p=[0.5, 0.3, 0.2]),
        "channel": rng.choice(
            ["web", "store", "phone", "app"], ROWS, p=[0.3, 0.3, 0.3, 0.1] if shifted else [0.5, 0.3, 0.2, 0.0]
        ),
    }
    path.parent.mkdir(parents=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))


def _run(root: Path, *components: Any) -> Any:
    # One worker: the two StatisticsGens share one TensorFlow import instead of paying it twice at once.
    pipeline = Pipeline(pipeline_name="drift", pipeline_root=str(root), components=list(components))
    return LocalDagRunner(raise_on_failure=False, max_workers=1).run(pipeline)


def _generators(data: Path) -> tuple[Any, Any]:
    baseline = CsvExampleGen(input_base=data / "baseline").with_id("baseline_gen")
    current = CsvExampleGen(input_base=data / "current").with_id("current_gen")
    return baseline, current


def _sql(root: Path, query: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(str(root / "metadata.sqlite"))
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _live_anomalies(root: Path) -> int:
    query = (
        "SELECT COUNT(*) FROM Artifact a JOIN Type t ON a.type_id = t.id "
        "WHERE t.name = 'ExampleAnomalies' AND a.state = 2"
    )
    return _sql(root, query)[0][0]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Baseline and current Examples, their statistics, a DistributionValidator running the tests and
    both TFDV comparators on the train splits, and one failing on drift (so the run fails)."""
    data = tmp_path_factory.mktemp("drift")
    rng = np.random.default_rng(7)
    _write_csv(data / "baseline" / "data.csv", rng, shifted=False)
    _write_csv(data / "current" / "data.csv", rng, shifted=True)
    baseline, current = _generators(data)
    baseline_stats = StatisticsGen(examples=baseline.outputs["examples"]).with_id("baseline_stats")
    current_stats = StatisticsGen(examples=current.outputs["examples"]).with_id("current_stats")
    validator = DistributionValidator(
        current_stats.outputs["statistics"],
        baseline_stats.outputs["statistics"],
        include_split_pairs=[("train", "train")],
        examples=current.outputs["examples"],
        baseline_examples=baseline.outputs["examples"],
        l_infinity_threshold=0.1,
        jensen_shannon_threshold=0.04,
        config=AMOUNT_COMPARATOR,
    ).with_id("drift")
    gate = DistributionValidator(
        examples=current.outputs["examples"],
        baseline_examples=baseline.outputs["examples"],
        include_split_pairs=[("train", "train")],
        fail_on_drift=True,
    ).with_id("drift_gate")
    root = data / "root"
    result = _run(root, baseline, current, baseline_stats, current_stats, validator, gate)
    assert all(n.state == "COMPLETE" for k, n in result.nodes.items() if k != "drift_gate"), result.errors
    uri = result.nodes["drift"].outputs["anomalies"][0]
    with open(os.path.join(uri, "drift.json")) as f:
        drift = json.load(f)
    examples = {k: result.nodes[f"{k}_gen"].outputs["examples"][0] for k in ("baseline", "current")}
    return {"data": data, "root": root, "uri": uri, "drift": drift, "examples": examples, "result": result}


def _rows(drift: dict[str, Any], tests: tuple[str, ...], split: str = "train") -> dict[str, dict[str, Any]]:
    return {r["feature"]: r for r in drift["rows"] if r["test"] in tests and r["split"] == split}


def test_ks_and_chi2_flag_the_shifted_features_and_not_the_others(world: dict[str, Any]) -> None:
    rows = _rows(world["drift"], ("ks", "chi2"))
    assert {f: r["test"] for f, r in rows.items()} == TESTS  # rooms (5 integers) is categorical, age is not
    for feature in SHIFTED:
        assert rows[feature]["drifted"] and rows[feature]["p_value"] < 1e-10, rows[feature]
    for feature in UNSHIFTED:
        assert not rows[feature]["drifted"] and rows[feature]["p_value"] > 0.05, rows[feature]
    assert rows["channel"]["only_in_current"] == ["app"]  # a category the baseline never saw
    assert 4500 < rows["score"]["n_current"] < 5500 and 4500 < rows["score"]["n_baseline"] < 5500
    assert all(r["threshold"] == 0.05 and r["baseline_split"] == "train" for r in rows.values())
    assert world["drift"]["sampling"]["sampled_features"] == []  # 5,000 values are under ks_max_rows


def test_the_artifact_names_the_drifted_features(world: dict[str, Any]) -> None:
    root, uri = world["root"], world["uri"]
    found = _sql(
        root,
        "SELECT p.name, p.string_value, p.int_value FROM ArtifactProperty p JOIN Artifact a ON a.id = p.artifact_id "
        f"WHERE a.uri = '{uri}'",
    )
    props = {name: s if s is not None else i for name, s, i in found}
    assert json.loads(props["drifted_features"]) == ["channel", "score"]
    assert props["drift_count"] == 2
    assert json.loads(props["split_names"]) == ["train_train"]
    assert json.loads(props["blessed"]) == {"train_train": 0}
    assert sorted(os.listdir(uri)) == ["SplitPair-train_train", "drift.json", "report.html"]
    with open(os.path.join(uri, "report.html")) as f:
        assert "score" in f.read()


def test_tfdv_comparators_flag_the_shifts(world: dict[str, Any]) -> None:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    l_inf = _rows(world["drift"], ("l_infinity",))
    js = _rows(world["drift"], ("jensen_shannon",))
    assert set(l_inf) == {"color", "channel"} and set(js) == {"score", "amount", "age", "rooms"}
    assert l_inf["channel"]["drifted"] and l_inf["channel"]["statistic"] > 0.15
    assert not l_inf["color"]["drifted"] and l_inf["color"]["statistic"] < 0.05
    assert js["score"]["drifted"] and js["score"]["threshold"] == 0.04
    assert js["amount"]["threshold"] == 0.5  # from the config
    assert not any(js[f]["drifted"] for f in ("amount", "age", "rooms"))
    with open(os.path.join(world["uri"], "SplitPair-train_train", "SchemaDiff.pb"), "rb") as f:
        anomalies = anomalies_pb2.Anomalies.FromString(f.read())
    assert set(anomalies.anomaly_info) == {"channel", "score"}
    # Only the comparison: the schema inferred from the baseline would also call 'app' out of domain.
    kinds = {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for i in anomalies.anomaly_info.values() for r in i.reason}
    assert kinds == {"COMPARATOR_L_INFTY_HIGH", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}


def test_fail_on_drift_fails_the_step_with_the_list_and_leaves_nothing_live(world: dict[str, Any]) -> None:
    result = world["result"]
    outcome = result.nodes["drift_gate"]
    assert result.state == "FAILED" and outcome.state == "FAILED" and not outcome.outputs
    error = str(outcome.error)
    assert "DataDriftError" in error and "2 of 6 features drifted" in error
    assert "feature 'score': ks statistic" in error and "feature 'channel': chi2 statistic" in error
    assert "p-value" in error and "split 'train' vs 'train'" in error
    assert not any(f"'{f}'" in error for f in UNSHIFTED)
    assert _live_anomalies(world["root"]) == 1  # the recording validator's; the failed one left none


def _examples(uri: str) -> Examples:
    artifact = Examples()
    artifact.uri = uri
    artifact.split_names = json.dumps(["train", "eval"])
    artifact.payload_format = "FORMAT_PARQUET"
    return artifact


def _execute(world: dict[str, Any], out_dir: Path, baseline: bool = True, **params: Any) -> dict[str, Any]:
    """The executor in this process, on the pipeline's Examples; returns drift.json and the output."""
    exec_properties = {
        "significance_level": 0.05,
        "bonferroni": False,
        "max_int_categories": 20,
        "ks_max_rows": 50_000,
        "fail_on_drift": False,
        **params,
    }
    out = ExampleAnomalies()
    out.uri = str(out_dir)
    inputs = {
        "examples": [_examples(world["examples"]["current"])],
        "baseline_examples": [_examples(world["examples"]["baseline"])] if baseline else [],
    }
    Executor().Do(inputs, {"anomalies": [out]}, exec_properties)
    with open(out_dir / "drift.json") as f:
        return {"drift": json.load(f), "out": out}


def test_bonferroni_divides_the_level_by_the_number_of_tests(world: dict[str, Any], tmp_path: Path) -> None:
    plain = _execute(world, tmp_path / "plain")["drift"]
    corrected = _execute(world, tmp_path / "corrected", bonferroni=True)["drift"]
    assert plain["split_pairs"] == [["train", "train"], ["eval", "eval"]]  # default: same-named splits
    assert len(corrected["rows"]) == 12
    # With 8 tests of unshifted features at 0.05, this seed gives one false alarm: amount on eval.
    eval_plain = _rows(plain, ("ks", "chi2"), split="eval")
    assert eval_plain["amount"]["drifted"] and 0.001 < eval_plain["amount"]["p_value"] < 0.05
    drifted = {(r["feature"], r["split"]) for r in corrected["rows"] if r["drifted"]}
    assert drifted == {(f, s) for f in SHIFTED for s in ("train", "eval")}
    assert {r["threshold"] for r in corrected["rows"]} == {0.05 / 12}


def test_sampling_is_deterministic_and_recorded(world: dict[str, Any], tmp_path: Path) -> None:
    first = _execute(world, tmp_path / "a", ks_max_rows=1000, include_split_pairs=[["train", "train"]])["drift"]
    again = _execute(world, tmp_path / "b", ks_max_rows=1000, include_split_pairs=[["train", "train"]])["drift"]
    assert first["rows"] == again["rows"]
    assert first["sampling"]["sampled_features"] == ["age", "amount", "score"]
    rows = _rows(first, ("ks", "chi2"))
    assert rows["score"]["sample_current"] == rows["score"]["sample_baseline"] == 1000
    assert rows["score"]["n_current"] > 4500  # the count is of every value, the test of the sample
    assert rows["score"]["drifted"] and rows["score"]["p_value"] < 1e-6
    assert "sample_current" not in rows["channel"]  # category counts are exact


def test_no_baseline_compares_nothing_and_blesses_with_two(world: dict[str, Any], tmp_path: Path) -> None:
    ran = _execute(world, tmp_path / "first", baseline=False)
    assert ran["drift"]["rows"] == [] and ran["drift"]["missing_baseline"] == ["baseline_examples"]
    out = ran["out"]
    assert out.get_json_value_custom_property("blessed") == {"train": 2, "eval": 2}
    assert out.get_custom_property("drift_count") == 0 and json.loads(out.split_names) == ["train", "eval"]


def test_definition_errors_say_what_to_pass(world: dict[str, Any]) -> None:
    baseline, current = _generators(world["data"])
    ex, base = current.outputs["examples"], baseline.outputs["examples"]
    cases = [
        ({}, "nothing to compare"),
        ({"examples": ex}, "pass examples and baseline_examples together"),
        ({"examples": ex, "baseline_examples": base, "l_infinity_threshold": 0.1}, "pass statistics="),
        ({"examples": ex, "baseline_examples": base, "significance_level": 5}, "between 0 and 1"),
        ({"examples": ex, "baseline_examples": base, "include_split_pairs": ["eval"]}, "include_split_pairs must"),
        ({"examples": ex, "baseline_examples": base, "ks_max_rows": 0}, "ks_max_rows must be an int"),
    ]
    for kwargs, message in cases:
        with pytest.raises(DefinitionError, match=message):
            DistributionValidator(**kwargs)
