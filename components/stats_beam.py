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
import dataclasses
import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from headrace.components.examples_io import (
    FORMAT_PARQUET,
    FORMAT_TF_EXAMPLE,
    ExamplesReadError,
    as_list_batch,
    data_files,
    split_uri,
)

if TYPE_CHECKING:
    import pyarrow as pa

BEAM_BATCH_ROWS = 65536  # rows per record batch into TFDV: large batches amortize its per-batch cost
TFRECORD_PART_BYTES = 8 << 20  # a TFRecord file is cut into parts of at least this size (compressed)
DASK_RUNNER = "--runner=apache_beam.runners.dask.dask_runner.DaskRunner"
_DIRECT = ("DirectRunner", "direct", "BundleBasedDirectRunner", "SwitchingDirectRunner")


@dataclasses.dataclass(frozen=True)
class ReadShard:
    """One unit of reading: a data file, or part `part` of `parts` of it.

    Parquet parts are sets of row groups (`row_groups`); TFRecord parts are every `parts`-th
    chunk of `batch_rows` records, starting at chunk `part`.
    """

    path: str
    payload: str
    part: int = 0
    parts: int = 1
    row_groups: tuple[int, ...] | None = None


def parallelism(beam_pipeline_args: Sequence[str]) -> int:
    """How many workers the runner the args describe runs at once (1: in this process)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    opts = PipelineOptions(list(beam_pipeline_args)).get_all_options(retain_unknown_options=True)
    runner = str(opts.get("runner") or "DirectRunner").rsplit(".", 1)[-1]
    if runner in _DIRECT:
        if (opts.get("direct_running_mode") or "in_memory") == "in_memory":
            return 1
        return int(opts.get("direct_num_workers") or 0) or os.cpu_count() or 1
    for key in ("parallelism", "max_num_workers", "num_workers", "direct_num_workers"):
        value = opts.get(key)
        if isinstance(value, (int, str)) and str(value).isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def read_shards(
    uri: str, split: str, payload: str, parts: int, min_part_bytes: int = TFRECORD_PART_BYTES
) -> list[ReadShard]:
    """The read shards of one split: each file cut into at most `parts` parts (a Parquet file
    into at most one part per row group, a TFRecord file into parts of `min_part_bytes` or more)."""
    if payload not in (FORMAT_PARQUET, FORMAT_TF_EXAMPLE):
        raise ExamplesReadError(f"Unsupported payload format {payload!r}; the Beam path reads Parquet and tf.Example.")
    shards: list[ReadShard] = []
    for path in data_files(split_uri(uri, split)):
        if payload == FORMAT_PARQUET:
            import pyarrow.parquet as pq

            groups = pq.ParquetFile(path).metadata.num_row_groups
            n = max(1, min(parts, groups))
            shards += [ReadShard(path, payload, k, n, tuple(range(k, groups, n))) for k in range(n)]
        else:
            n = max(1, min(parts, os.path.getsize(path) // max(1, min_part_bytes)))
            shards += [ReadShard(path, payload, k, n) for k in range(n)]
    return shards


def read_shard(
    shard: ReadShard, columns: list[str] | None, batch_rows: int, lists: bool = True
) -> Iterator[pa.RecordBatch]:
    """Streams one shard as record batches of list columns (TFDV's form), or with `lists=False`
    as `examples_io.iter_batches` gives them (Parquet's flat typed columns)."""
    if shard.payload == FORMAT_PARQUET:
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(shard.path).iter_batches(
                batch_size=batch_rows, row_groups=list(shard.row_groups or ()), columns=columns
            )
            for batch in batches:
                yield as_list_batch(batch) if lists else batch
        except OSError as e:
            raise ExamplesReadError(f"Cannot read Parquet file {shard.path}: {e}") from None
        return
    from headrace.components._tfrecord import read_records
    from headrace.components.examples_io import _decode_examples

    chunk: list[bytes] = []
    chunk_index, in_chunk = 0, 0
    for record in read_records(shard.path):
        if chunk_index % shard.parts == shard.part:  # keep (and decode) only this part's chunks
            chunk.append(record)
        in_chunk += 1
        if in_chunk == batch_rows:
            if chunk:
                yield _decode_examples(chunk, columns)
                chunk = []
            chunk_index, in_chunk = chunk_index + 1, 0
    if chunk:
        yield _decode_examples(chunk, columns)


def beam_runner(args: Sequence[str]) -> Any:
    """The runner for `args`: for DirectRunner (also when no runner is named), Beam's FnApiRunner
    (the engine DirectRunner uses for batch pipelines, honouring --direct_running_mode and
    --direct_num_workers). Beam 2.72's DirectRunner first tries to download its Prism runner
    from GitHub; going straight to the FnApiRunner keeps a step from depending on the network
    and from running on a different engine on machines that can download. Other runners: None
    (Beam picks the one --runner names)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if _runner_name(args) not in _DIRECT:
        return None
    options = PipelineOptions(list(args))
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=info)


def beam_stats_options(options: Any) -> Any:
    """A copy of the StatsOptions with the generators the in-process path runs (sketch-based
    top-k and uniques), so both paths give the same statistics."""
    options = copy.copy(options)
    options.use_sketch_based_topk_uniques = True
    return options


def _runner_name(args: Sequence[str]) -> str:
    from apache_beam.options.pipeline_options import PipelineOptions

    return str(PipelineOptions(list(args)).get_all_options().get("runner") or "DirectRunner").rsplit(".", 1)[-1]


def runner_args(args: Sequence[str]) -> list[str]:
    """The Beam arguments, made runnable: `--runner=DaskRunner` spelled as Beam finds it (its
    module path, whose import registers the --dask_* options); on Dask, one read shard per Dask
    partition unless the args say otherwise: the DaskRunner holds a partition's whole output in
    memory and runs a partition as one task (its default of 128 elements a partition would read
    every shard of a split in one task)."""
    out = [DASK_RUNNER if a in ("--runner=DaskRunner", "--runner=dask") else a for a in args]
    if DASK_RUNNER in out:
        import apache_beam.runners.dask.dask_runner  # noqa: F401 - registers the --dask_* options

        if not any(a.startswith(("--dask_npartitions", "--dask_partition_size")) for a in out):
            out.append("--dask_partition_size=1")
    return out


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
    dask = _runner_name(args) == "DaskRunner"
    base = work_dir or PipelineOptions(args).get_all_options().get("temp_location")
    out_dir = FileSystems.join(base, f"headrace-stats-{uuid.uuid4().hex}") if base else tempfile.mkdtemp()
    output = FileSystems.join(out_dir, "statistics.txt")
    try:
        with beam.Pipeline(runner=beam_runner(args), options=PipelineOptions(args)) as pipeline:
            results = []
            for i, split in enumerate(splits):
                batches = (
                    pipeline
                    | f"Shards[{split}]" >> beam.Create(shards[split])
                    | f"Read[{split}]" >> beam.FlatMap(read_shard, columns, batch_rows)
                )
                if dask:
                    stats = batches | f"Statistics[{split}]" >> beam.CombineGlobally(generators_combine_fn(options))
                else:
                    stats = batches | f"GenerateStatistics[{split}]" >> tfdv.GenerateStatistics(options)
                results.append(stats | f"Key[{split}]" >> beam.Map(_line, i))
            # One sink for all splits: DaskRunner computes only the last sink of a pipeline.
            _ = (
                results
                | "Flatten" >> beam.Flatten()
                | "Write" >> beam.io.WriteToText(output, shard_name_template="", append_trailing_newlines=True)
            )
        client = getattr(getattr(pipeline, "result", None), "client", None)
        if client is not None:  # DaskRunner opens a client to the cluster and leaves it open
            client.close()
        found: dict[int, Any] = {}
        with FileSystems.open(output) as f:
            for line in f.read().decode().splitlines():
                index, data = line.split("\t", 1)
                found[int(index)] = statistics_pb2.DatasetFeatureStatisticsList.FromString(base64.b64decode(data))
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
