"""Statistics of an Examples split with TFDV, on one of two paths that give the same result.

- In process (the default): TFDV's in-memory generators fed a stream of Arrow record batches
  (`add_input` per batch, `compact` now and then, one `extract_output`), so memory is bounded by
  a batch, not by the split.
- Beam: `tfdv.GenerateStatistics` in a Beam pipeline built from `beam_pipeline_args`
  (DirectRunner locally, Flink/Spark/Dataflow on a cluster); see `stats_beam`.

`_execution_path.choose_path` (shared with BulkInferrer) picks one: Beam when asked, when the
pipeline names a runner other than DirectRunner, or when the split is larger than
HEADRACE_BEAM_THRESHOLD_BYTES (8 GiB on disk by default); in process otherwise.
"""

from __future__ import annotations

from typing import Any

from headrace.components.io.examples import as_list_batch, iter_batches

STATS_BATCH_ROWS = 262144  # large batches: TFDV's per-batch cost is mostly fixed
_COMPACT_EVERY = 8


def stats_options(options_json: str | None, schema: Any = None) -> Any:
    """TFDV StatsOptions from their JSON (StatsOptions.to_json), with the schema if given."""
    import tensorflow_data_validation as tfdv

    options = tfdv.StatsOptions.from_json(options_json) if options_json else tfdv.StatsOptions()
    if schema is not None:
        options.schema = schema
    return options


def split_statistics_in_process(uri: str, split: str, payload: str, options: Any) -> Any:
    """A split's DatasetFeatureStatisticsList, streaming record batches through TFDV's generators."""
    from tensorflow_data_validation.statistics import stats_impl

    generators = stats_impl.get_generators(options, in_memory=True)
    accumulators = [g.create_accumulator() for g in generators]
    columns = list(options.feature_allowlist) if options.feature_allowlist else None
    for i, batch in enumerate(iter_batches(uri, split, payload, columns=columns, batch_rows=STATS_BATCH_ROWS)):
        listed = as_list_batch(batch)
        accumulators = [g.add_input(a, listed) for g, a in zip(generators, accumulators, strict=True)]
        if i % _COMPACT_EVERY == _COMPACT_EVERY - 1:
            accumulators = [g.compact(a) for g, a in zip(generators, accumulators, strict=True)]
    return stats_impl.extract_statistics_output(accumulators, generators)
