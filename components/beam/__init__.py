"""What the components that run on Apache Beam share (ExampleGen, StatisticsGen, BulkInferrer): `runner`
(which runner the arguments name, how parallel it is, the runner to build), `shards` (reading Examples
splits as read shards, a record batch at a time) and `execution_path` (in process or on Beam, by size).
Importing this package imports neither Beam nor pyarrow."""

from __future__ import annotations

from headrace.components.beam.execution_path import PATHS, beam_threshold_bytes, check_path, choose_path
from headrace.components.beam.runner import DASK_RUNNER, beam_runner, parallelism, runner_args, runner_name
from headrace.components.beam.shards import TFRECORD_PART_BYTES, ReadShard, read_shard, read_shards

__all__ = [
    "DASK_RUNNER",
    "PATHS",
    "TFRECORD_PART_BYTES",
    "ReadShard",
    "beam_runner",
    "beam_threshold_bytes",
    "check_path",
    "choose_path",
    "parallelism",
    "read_shard",
    "read_shards",
    "runner_args",
    "runner_name",
]
