"""StatisticsGen's two execution paths give one result: the in-process stream of TFDV generators
and the Beam pipeline (`tfdv.GenerateStatistics`), compared feature by feature.

What must be equal, and how closely:
- exactly: num_examples, the features and their types, num_non_missing, num_missing,
  min/max/total number of values, min, max, num_zeros; for strings the unique count, the top
  values with their counts and the rank histogram (both paths run TFDV's sketch-based top-k /
  uniques generator, exact while a feature has fewer than 1024 / 16384 distinct values);
- to a relative 1e-6: mean, std_dev, avg_num_values, avg_length (sums added in another order);
- within the quantile sketch's error: median, the QUANTILES histograms and the STANDARD
  histograms' counts come from TFDV's KLL sketches, which the Beam path merges per batch and per
  worker in another order. TFDV bounds a sketch's rank error by `StatsOptions.epsilon` (0.01) of
  the count, so a quantile boundary of one path must sit within 2 * epsilon of the other's in
  rank (checked against the data itself), and a STANDARD histogram bucket's count (two ranks
  apart, interpolated) within 4 * epsilon * count. Bucket counts sum to the same total.
  On these 20k rows the sketches do not compact yet and both paths agree exactly; on 1M rows
  (two worker processes) the largest differences measured were 0.0002 in rank and 0.0001 * count
  in a bucket, a hundredth of these bounds.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from datagen import custom_property, output_uri, run

from headrace.components import CsvExampleGen, StatisticsGen
from headrace.components.io.artifact_files import read_statistics
from headrace.components.io.examples import FORMAT_PARQUET, FORMAT_TF_EXAMPLE, as_list_batch, iter_batches

pytestmark = pytest.mark.heavy_imports  # TFDV and Beam run in this process

ROWS = 20_000
EPSILON = 0.01  # tfdv.StatsOptions().epsilon: the quantile sketches' rank error
REL = 1e-6
SPLITS = ("train", "eval")
PAYLOADS = {"parquet": FORMAT_PARQUET, "tfrecord": FORMAT_TF_EXAMPLE}


def write_data(path: Path, rows: int = ROWS, seed: int = 7) -> Path:
    """Numeric and categorical columns with missing values, a skewed column and a string column
    of a few hundred values (top-k and uniques do real work)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["age", "income", "score", "city", "plan", "label"])
        for _ in range(rows):
            w.writerow(
                [
                    "" if rng.random() < 0.05 else int(rng.integers(18, 90)),
                    round(float(rng.lognormal(10, 1)), 2),
                    "" if rng.random() < 0.03 else round(float(rng.normal(0, 1)), 4),
                    "" if rng.random() < 0.02 else str(rng.choice(["paris", "lyon", "nice", "lille"])),
                    f"plan-{int(rng.zipf(1.3)) % 300}",
                    int(rng.integers(0, 2)),
                ]
            )
    return path


# -- the comparison ------------------------------------------------------------------------------
def _features(stats: Any) -> dict[str, Any]:
    return {".".join(f.path.step): f for f in stats.datasets[0].features}


def _close(a: float, b: float, what: str) -> None:
    assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-12), f"{what}: {a!r} != {b!r}"


def _rank_range(sorted_values: np.ndarray, x: float) -> tuple[float, float]:
    """The fraction of values below x and at or below x (a value's rank interval)."""
    n = len(sorted_values)
    return np.searchsorted(sorted_values, x, "left") / n, np.searchsorted(sorted_values, x, "right") / n


def _rank_gap(sorted_values: np.ndarray, a: float, b: float) -> float:
    lo_a, hi_a = _rank_range(sorted_values, a)
    lo_b, hi_b = _rank_range(sorted_values, b)
    return max(0.0, lo_b - hi_a, lo_a - hi_b)


def _compare_histograms(name: str, a: Any, b: Any, values: np.ndarray, count: int) -> None:
    by_type = {h.type: h for h in b}
    assert sorted(h.type for h in a) == sorted(by_type), f"{name}: histogram types differ"
    for ha in a:
        hb = by_type[ha.type]
        assert len(ha.buckets) == len(hb.buckets), f"{name}: bucket counts differ"
        _close(sum(x.sample_count for x in ha.buckets), sum(x.sample_count for x in hb.buckets), f"{name} total")
        if ha.type == ha.QUANTILES:
            for x, y in zip(ha.buckets, hb.buckets, strict=True):
                for u, v in ((x.low_value, y.low_value), (x.high_value, y.high_value)):
                    gap = _rank_gap(values, u, v)
                    assert gap <= 2 * EPSILON, f"{name}: quantile boundary {u} vs {v} is {gap:.4f} apart in rank"
        else:  # STANDARD: equal-width buckets between min and max; counts interpolated from the sketch
            for x, y in zip(ha.buckets, hb.buckets, strict=True):
                _close(x.low_value, y.low_value, f"{name} bucket edge")
                _close(x.high_value, y.high_value, f"{name} bucket edge")
                assert abs(x.sample_count - y.sample_count) <= 4 * EPSILON * count, (
                    f"{name}: bucket [{x.low_value}, {x.high_value}] counts {x.sample_count} vs {y.sample_count}"
                )


def _compare_common(name: str, a: Any, b: Any) -> None:
    for field in ("num_non_missing", "num_missing", "min_num_values", "max_num_values", "tot_num_values"):
        assert getattr(a, field) == getattr(b, field), f"{name}.{field}: {getattr(a, field)} != {getattr(b, field)}"
    _close(a.avg_num_values, b.avg_num_values, f"{name}.avg_num_values")
    ha, hb = a.num_values_histogram, b.num_values_histogram
    assert len(ha.buckets) == len(hb.buckets)
    _close(sum(x.sample_count for x in ha.buckets), sum(x.sample_count for x in hb.buckets), f"{name} num_values")
    for x, y in zip(ha.buckets, hb.buckets, strict=True):  # one value per row here: the same buckets
        assert (x.low_value, x.high_value) == (y.low_value, y.high_value), f"{name}: num_values_histogram differs"


def assert_same_statistics(a: Any, b: Any, data: dict[str, np.ndarray]) -> None:
    """Raises AssertionError naming the first feature and statistic on which `a` and `b` differ
    beyond the tolerances of the module docstring. `data`: each numeric column's present values."""
    assert a.datasets[0].num_examples == b.datasets[0].num_examples
    fa, fb = _features(a), _features(b)
    assert sorted(fa) == sorted(fb), "the two paths describe different features"
    for name, x in fa.items():
        y = fb[name]
        assert x.type == y.type, f"{name}: type {x.type} != {y.type}"
        assert x.WhichOneof("stats") == y.WhichOneof("stats"), f"{name}: stats kind differs"
        if x.HasField("num_stats"):
            nx, ny = x.num_stats, y.num_stats
            _compare_common(name, nx.common_stats, ny.common_stats)
            assert (nx.min, nx.max, nx.num_zeros) == (ny.min, ny.max, ny.num_zeros), f"{name}: min/max/zeros"
            _close(nx.mean, ny.mean, f"{name}.mean")
            _close(nx.std_dev, ny.std_dev, f"{name}.std_dev")
            values = data[name]
            assert _rank_gap(values, nx.median, ny.median) <= 2 * EPSILON, f"{name}: median {nx.median} vs {ny.median}"
            _compare_histograms(name, nx.histograms, ny.histograms, values, nx.common_stats.num_non_missing)
        else:
            sx, sy = x.string_stats, y.string_stats
            _compare_common(name, sx.common_stats, sy.common_stats)
            assert sx.unique == sy.unique, f"{name}: unique {sx.unique} != {sy.unique}"
            _close(sx.avg_length, sy.avg_length, f"{name}.avg_length")
            top_x = [(v.value, v.frequency) for v in sx.top_values]
            assert top_x == [(v.value, v.frequency) for v in sy.top_values], f"{name}: top values differ"
            assert sx.rank_histogram == sy.rank_histogram, f"{name}: rank histogram differs"


def numeric_values(uri: str, split: str, payload: str) -> dict[str, np.ndarray]:
    """Each numeric column's present values, sorted (the ground truth for rank checks)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.Table.from_batches(list(iter_batches(uri, split, payload)))
    out = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.list_flatten(col)
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            out[name] = np.sort(col.drop_null().to_numpy().astype(np.float64))
    return out


# -- through the pipeline: StatisticsGen(execution_path=...) -------------------------------------
@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One pipeline: each payload's ExampleGen, each followed by StatisticsGen on both paths."""
    tmp = tmp_path_factory.mktemp("paths")
    write_data(tmp / "in" / "data.csv")
    nodes: list[Any] = []
    for label in PAYLOADS:
        eg = CsvExampleGen(input_base=tmp / "in", output_data_format=label).with_id(f"eg_{label}")
        nodes.append(eg)
        for path in ("in_process", "beam"):
            nodes.append(StatisticsGen(examples=eg.outputs["examples"], execution_path=path).with_id(f"{label}_{path}"))
    result = run(tmp / "root", *nodes, mode="inprocess")
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}
    return {"root": tmp / "root", "result": result}


@pytest.mark.parametrize("label", list(PAYLOADS))
def test_statistics_gen_paths_agree(pipeline_run: dict[str, Any], label: str) -> None:
    result, root = pipeline_run["result"], pipeline_run["root"]
    examples = output_uri(result, f"eg_{label}", "examples")
    uris = {p: output_uri(result, f"{label}_{p}", "statistics") for p in ("in_process", "beam")}
    assert custom_property(root, uris["beam"], "execution_path") == "beam"
    assert custom_property(root, uris["in_process"], "execution_path") == "in_process"
    total = 0
    for split in SPLITS:
        a, b = read_statistics(uris["in_process"], split), read_statistics(uris["beam"], split)
        assert_same_statistics(a, b, numeric_values(examples, split, PAYLOADS[label]))
        total += b.datasets[0].num_examples
    assert total == ROWS


def test_the_comparison_sees_a_difference(pipeline_run: dict[str, Any]) -> None:
    """The checks above can fail: one changed count, mean or top value is caught."""
    uri = output_uri(pipeline_run["result"], "parquet_beam", "statistics")
    examples = output_uri(pipeline_run["result"], "eg_parquet", "examples")
    data = numeric_values(examples, "train", FORMAT_PARQUET)
    base = read_statistics(uri, "train")
    assert_same_statistics(base, base, data)
    for change in ("missing", "mean", "top", "quantile"):
        other = type(base).FromString(base.SerializeToString())
        f = _features(other)
        if change == "missing":
            f["age"].num_stats.common_stats.num_missing += 1
        elif change == "mean":
            f["income"].num_stats.mean *= 1.00001
        elif change == "top":
            f["plan"].string_stats.top_values[0].frequency -= 1
        else:
            h = next(h for h in f["income"].num_stats.histograms if h.type == h.QUANTILES)
            h.buckets[4].high_value = h.buckets[7].high_value
        with pytest.raises(AssertionError):
            assert_same_statistics(base, other, data)


# -- the engine functions directly ---------------------------------------------------------------
def test_beam_engine_with_small_batches_agrees_with_the_stream(pipeline_run: dict[str, Any]) -> None:
    """Many batches per split (1000 rows each): the Beam combine merges many partial sketches."""
    from headrace.components.statistics import beam as stats_beam
    from headrace.components.statistics import engine as stats_engine

    examples = output_uri(pipeline_run["result"], "eg_tfrecord", "examples")
    options = stats_engine.stats_options(None)
    beam = stats_beam.splits_statistics_beam(examples, list(SPLITS), FORMAT_TF_EXAMPLE, options, [], batch_rows=1000)
    assert list(beam) == list(SPLITS)
    for split in SPLITS:
        stream = stats_engine.split_statistics_in_process(examples, split, FORMAT_TF_EXAMPLE, options)
        assert_same_statistics(stream, beam[split], numeric_values(examples, split, FORMAT_TF_EXAMPLE))


@pytest.mark.parametrize("label", list(PAYLOADS))
def test_read_shards_cover_every_row_once(pipeline_run: dict[str, Any], label: str, tmp_path: Path) -> None:
    """Cutting files into parts (one per worker) loses and repeats no row: a Parquet file by row
    groups (here a copy with 1000-row groups), a TFRecord file by chunks of records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from headrace.components.beam import read_shard, read_shards

    examples = output_uri(pipeline_run["result"], f"eg_{label}", "examples")
    payload = PAYLOADS[label]
    batches = list(iter_batches(examples, "train", payload))
    whole = pa.Table.from_batches([as_list_batch(b) for b in batches])  # read_shard gives list columns
    if payload == FORMAT_PARQUET:
        (tmp_path / "Split-train").mkdir()
        pq.write_table(pa.Table.from_batches(batches), tmp_path / "Split-train" / "data.parquet", row_group_size=1000)
        examples = str(tmp_path)
    shards = read_shards(examples, "train", payload, parts=3, min_part_bytes=1)
    assert [(s.part, s.parts) for s in shards] == [(0, 3), (1, 3), (2, 3)]
    per_part = [pa.Table.from_batches(list(read_shard(s, None, 1000))) for s in shards]
    assert all(t.num_rows for t in per_part)
    assert sum(t.num_rows for t in per_part) == whole.num_rows

    def rows(table: pa.Table) -> list[tuple[Any, ...]]:
        columns = (table.column(c).to_pylist() for c in ("income", "plan", "age"))
        return sorted(zip(*columns, strict=True), key=repr)

    assert rows(pa.concat_tables(per_part)) == rows(whole)


def test_beam_engine_on_worker_processes_agrees(pipeline_run: dict[str, Any]) -> None:
    """DirectRunner with two worker processes: each split is read in parts, in parallel."""
    from headrace.components.statistics import beam as stats_beam
    from headrace.components.statistics import engine as stats_engine

    examples = output_uri(pipeline_run["result"], "eg_tfrecord", "examples")
    options = stats_engine.stats_options(None)
    args = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    assert stats_beam.parallelism(args) == 2
    beam = stats_beam.splits_statistics_beam(examples, list(SPLITS), FORMAT_TF_EXAMPLE, options, args, batch_rows=2000)
    for split in SPLITS:
        stream = stats_engine.split_statistics_in_process(examples, split, FORMAT_TF_EXAMPLE, options)
        assert_same_statistics(stream, beam[split], numeric_values(examples, split, FORMAT_TF_EXAMPLE))


# -- DaskRunner ----------------------------------------------------------------------------------
def test_statistics_gen_on_dask_agrees(pipeline_run: dict[str, Any], dask_cluster: str, tmp_path: Path) -> None:
    """beam_pipeline_args naming DaskRunner take StatisticsGen ('auto') to the Beam path on the
    cluster (scripts/services.sh dask: two worker processes); the statistics are the in-process
    ones. (Beam 2.72's DaskRunner cannot run tfdv.GenerateStatistics itself, see
    stats_beam.generators_combine_fn.)"""
    from headrace import LocalDagRunner
    from headrace.dsl import Importer, Pipeline
    from headrace.types.standard_artifacts import Examples

    examples = output_uri(pipeline_run["result"], "eg_tfrecord", "examples")
    importer = Importer(
        source_uri=examples,
        artifact_type=Examples,
        properties={"split_names": '["train", "eval"]'},
        custom_properties={"payload_format": FORMAT_TF_EXAMPLE},
    ).with_id("examples")
    stats = StatisticsGen(examples=importer.outputs["result"])
    args = ["--runner=DaskRunner", f"--dask_client_address={dask_cluster}"]
    pipeline = Pipeline("dask", str(tmp_path / "root"), [importer, stats], beam_pipeline_args=args)
    result = LocalDagRunner(raise_on_failure=False, executor_mode="inprocess", quiet=True).run(pipeline)
    assert result.state == "COMPLETE", {n: o.error for n, o in result.nodes.items() if o.error}
    uri = output_uri(result, "StatisticsGen", "statistics")
    assert custom_property(tmp_path / "root", uri, "execution_path") == "beam"
    reference = output_uri(pipeline_run["result"], "tfrecord_in_process", "statistics")
    for split in SPLITS:
        data = numeric_values(examples, split, FORMAT_TF_EXAMPLE)
        assert_same_statistics(read_statistics(reference, split), read_statistics(uri, split), data)
