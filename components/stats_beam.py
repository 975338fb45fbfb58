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


def read_shard(shard: ReadShard, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Streams one shard as record batches of list columns (TFDV's form)."""
    if shard.payload == FORMAT_PARQUET:
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(shard.path).iter_batches(
                batch_size=batch_rows, row_groups=list(shard.row_groups or ()), columns=columns
            )
            for batch in batches:
                yield as_list_batch(batch)
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


def _runner(args: Sequence[str]) -> Any:
    """The runner for `args`: for DirectRunner (also when no runner is named), Beam's FnApiRunner
    (the engine DirectRunner uses for batch pipelines, honouring --direct_running_mode and
    --direct_num_workers). Beam 2.72's DirectRunner first tries to download its Prism runner
    from GitHub; going straight to the FnApiRunner keeps a step from depending on the network
    and from running on a different engine on machines that can download. Other runners: None
    (Beam picks the one --runner names)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(list(args))
    runner = str(options.get_all_options().get("runner") or "DirectRunner").rsplit(".", 1)[-1]
    if runner not in _DIRECT:
        return None
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
        work_dir: Where the pipeline writes each split's result for this function to read back;
            it must be reachable from the runner's workers. Default: `--temp_location` if the
            args give one, else a local temporary folder (enough for local runners).
        batch_rows: Rows per record batch handed to TFDV.
    """
    import apache_beam as beam
    import tensorflow_data_validation as tfdv
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
    from tensorflow_metadata.proto.v0 import statistics_pb2

    args = list(beam_pipeline_args)
    options = beam_stats_options(options)
    columns = list(options.feature_allowlist) if options.feature_allowlist else None
    parts = parallelism(args)
    shards = {s: read_shards(uri, s, payload, parts) for s in splits}
    base = work_dir or PipelineOptions(args).get_all_options().get("temp_location")
    out_dir = FileSystems.join(base, f"headrace-stats-{uuid.uuid4().hex}") if base else tempfile.mkdtemp()
    outputs = {s: FileSystems.join(out_dir, f"split-{i}.pb") for i, s in enumerate(splits)}
    try:
        with beam.Pipeline(runner=_runner(args), options=PipelineOptions(args)) as pipeline:
            for split in splits:
                _ = (
                    pipeline
                    | f"Shards[{split}]" >> beam.Create(shards[split])
                    | f"Read[{split}]" >> beam.FlatMap(read_shard, columns, batch_rows)
                    | f"GenerateStatistics[{split}]" >> tfdv.GenerateStatistics(options)
                    | f"Write[{split}]" >> tfdv.WriteStatisticsToBinaryFile(outputs[split])
                )
        result = {}
        for split, path in outputs.items():
            stats = statistics_pb2.DatasetFeatureStatisticsList()
            with FileSystems.open(path) as f:
                stats.ParseFromString(f.read())
            result[split] = stats
        return result
    finally:
        if FileSystems.exists(out_dir):
            FileSystems.delete([out_dir])
