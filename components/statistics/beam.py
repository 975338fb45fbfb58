"""StatisticsGen's Beam path: `tfdv.GenerateStatistics` on every split, in one Beam pipeline.

The pipeline is built from the pipeline's `beam_pipeline_args` (DirectRunner when they name no
runner), so the same step runs in this process, on local worker processes
(`--direct_running_mode=multi_processing --direct_num_workers=N`) or on a cluster runner.

Reading streams: the pipeline starts from a list of read shards (a file, or one part of a file),
and a shard is read a record batch at a time (`examples_io`'s readers), so no stage holds a split
in memory. A file is cut into parts when the runner runs several workers: a Parquet file by row
groups, a TFRecord file by taking every n-th chunk of records (each part frames the whole file,
which is cheap, and decodes only its chunks, which is the expensive step).

Both paths give the same statistics: the Beam path runs TFDV's sketch-based top-k / uniques
generator, as the in-process path must (TFDV's exact one is a Beam transform, not a combiner);
quantile histograms come from sketches merged in another order and may differ slightly.
"""

from __future__ import annotations

import copy
import tempfile
import uuid
from collections.abc import Sequence
from typing import Any

from headrace import beam_runners
from headrace.components.beam import (
    beam_runner,
    lines_writer,
    parallelism,
    read_shard,
    read_shards,
    runner_args,
    runner_name,
)

BEAM_BATCH_ROWS = 65536  # rows per record batch into TFDV: large batches amortize its per-batch cost


def beam_stats_options(options: Any) -> Any:
    """A copy of the StatsOptions with the generators the in-process path runs (sketch-based
    top-k and uniques), so both paths give the same statistics."""
    options = copy.copy(options)
    options.use_sketch_based_topk_uniques = True
    return options


def generators_combine_fn(options: Any) -> Any:
    """A Beam CombineFn running TFDV's in-memory generators (the ones the in-process path runs)
    on record batches; its output is the DatasetFeatureStatisticsList.

    For runners that cannot run `tfdv.GenerateStatistics`: it combines with
    `CombinePerKey(...).with_hot_key_fanout(...)`, which Beam 2.72's DaskRunner mistranslates
    (its post-combine step gets raw values: "too many values to unpack (expected 2)").
    """
    import apache_beam as beam
    from tensorflow_data_validation.statistics import stats_impl

    class GeneratorsCombineFn(beam.CombineFn):
        def __init__(self) -> None:
            self._generators = stats_impl.get_generators(options, in_memory=True)

        def setup(self) -> None:
            for g in self._generators:
                g.setup()

        def create_accumulator(self) -> list[Any]:
            return [g.create_accumulator() for g in self._generators]

        def add_input(self, accumulator: list[Any], batch: Any) -> list[Any]:
            return [g.add_input(a, batch) for g, a in zip(self._generators, accumulator, strict=True)]

        def merge_accumulators(self, accumulators: Any) -> list[Any]:
            columns = zip(*accumulators, strict=True)
            return [g.merge_accumulators(list(c)) for g, c in zip(self._generators, columns, strict=True)]

        def compact(self, accumulator: list[Any]) -> list[Any]:
            return [g.compact(a) for g, a in zip(self._generators, accumulator, strict=True)]

        def extract_output(self, accumulator: list[Any]) -> Any:
            return stats_impl.extract_statistics_output(accumulator, self._generators)

    return GeneratorsCombineFn()


def splits_statistics_beam(
    uri: str,
    splits: Sequence[str],
    payload: str,
    options: Any,
    beam_pipeline_args: Sequence[str],
    work_dir: str | None = None,
    batch_rows: int = BEAM_BATCH_ROWS,
) -> dict[str, Any]:
    """{split: DatasetFeatureStatisticsList} of an Examples artifact, computed in one Beam pipeline.

    Args:
        uri: The Examples artifact's folder.
        splits: The splits to compute statistics of.
        payload: FORMAT_PARQUET or FORMAT_TF_EXAMPLE.
        options: A `tfdv.StatsOptions`.
        beam_pipeline_args: The pipeline's Beam arguments (runner and its options).
            `--runner=DaskRunner` is accepted for Beam's module path of that runner.
        work_dir: Where the pipeline writes the results for this function to read back; it must
            be reachable from the runner's workers. Default: `--temp_location` if the args give
            one, else a local temporary folder (enough for local runners).
        batch_rows: Rows per record batch handed to TFDV.
    """
    import base64

    import apache_beam as beam
    import tensorflow_data_validation as tfdv
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
    from tensorflow_metadata.proto.v0 import statistics_pb2

    args = runner_args(beam_pipeline_args)
    options = beam_stats_options(options)
    columns = list(options.feature_allowlist) if options.feature_allowlist else None
    parts = parallelism(args)
    shards = {s: read_shards(uri, s, payload, parts) for s in splits}
    dask = runner_name(args) == "DaskRunner"
    base = work_dir or PipelineOptions(args).get_all_options().get("temp_location")
    out_dir = FileSystems.join(base, f"headrace-stats-{uuid.uuid4().hex}") if base else tempfile.mkdtemp()
    output = FileSystems.join(out_dir, "statistics.txt")
    try:
        pipeline = beam.Pipeline(runner=beam_runner(args), options=PipelineOptions(args))
        with beam_runners.waiting_on_cluster(args), pipeline:
            results = []
            for i, split in enumerate(splits):
                batches = (
                    pipeline
                    | f"Shards[{split}]" >> beam.Create(shards[split])
                    | f"Read[{split}]" >> beam.FlatMap(read_shard, columns, batch_rows)
                )
                if dask:  # without the default for an empty input: it is a side input (see lines_writer)
                    combine = beam.CombineGlobally(generators_combine_fn(options)).without_defaults()
                    stats = batches | f"Statistics[{split}]" >> combine
                else:
                    stats = batches | f"GenerateStatistics[{split}]" >> tfdv.GenerateStatistics(options)
                results.append(stats | f"Key[{split}]" >> beam.Map(_line, i))
            # One sink for all splits: DaskRunner computes only the last sink of a pipeline.
            if dask:
                write: Any = beam.ParDo(lines_writer(out_dir))
            else:
                write = beam.io.WriteToText(output, shard_name_template="", append_trailing_newlines=True)
            _ = results | "Flatten" >> beam.Flatten() | "Write" >> write
        beam_runners.close_dask_client(pipeline)
        found: dict[int, Any] = {}
        files = [m.path for m in FileSystems.match([FileSystems.join(out_dir, "part-*.txt")])[0].metadata_list]
        for path in files if dask else [output]:
            with FileSystems.open(path) as f:
                for line in f.read().decode().splitlines():
                    index, data = line.split("\t", 1)
                    found[int(index)] = statistics_pb2.DatasetFeatureStatisticsList.FromString(base64.b64decode(data))
        if dask:  # a split without rows gave no element (no default): its statistics are the empty ones
            empty = generators_combine_fn(options)
            empty.setup()
            for i in range(len(splits)):
                found.setdefault(i, empty.extract_output(empty.create_accumulator()))
        missing = [s for i, s in enumerate(splits) if i not in found]
        if missing:
            raise RuntimeError(f"The Beam pipeline produced no statistics for split(s) {missing}.")
        return {s: found[i] for i, s in enumerate(splits)}
    finally:
        if FileSystems.exists(out_dir):
            FileSystems.delete([out_dir])


def _line(stats: Any, index: int) -> str:
    import base64

    return f"{index}\t{base64.b64encode(stats.SerializeToString()).decode()}"
