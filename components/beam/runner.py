"""Which Beam runner a step's `beam_pipeline_args` name, how parallel it runs, and the runner to build
(ExampleGen's, StatisticsGen's and BulkInferrer's Beam paths). Apache Beam is imported inside the functions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

DASK_RUNNER = "--runner=apache_beam.runners.dask.dask_runner.DaskRunner"
_DIRECT = ("DirectRunner", "direct", "BundleBasedDirectRunner", "SwitchingDirectRunner")


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


def beam_runner(args: Sequence[str]) -> Any:
    """The runner for `args`: for DirectRunner (also when no runner is named), Beam's FnApiRunner
    (the engine DirectRunner uses for batch pipelines, honouring --direct_running_mode and
    --direct_num_workers). Beam 2.72's DirectRunner first tries to download its Prism runner
    from GitHub; going straight to the FnApiRunner keeps a step from depending on the network
    and from running on a different engine on machines that can download. Other runners: None
    (Beam picks the one --runner names)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if runner_name(args) not in _DIRECT:
        return None
    options = PipelineOptions(list(args))
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=info)


def runner_name(args: Sequence[str]) -> str:
    """The short name of the runner `args` select (DirectRunner when they name none)."""
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


__all__ = ["DASK_RUNNER", "beam_runner", "parallelism", "runner_args", "runner_name"]
