"""Which Beam runner a list of Beam arguments selects, spelled so that Beam finds it, and checked; and
the Beam pipeline such arguments build (:func:`make_pipeline`).

Shared by BeamDagRunner (the orchestrating pipeline), the Beam paths of the components and `@component`
functions with a BeamPipeline argument. Beam
2.72 refuses `--runner=DaskRunner` ("Unexpected pipeline runner"): its DaskRunner is found only by
its module path, whose import also registers the `--dask_*` options. :func:`resolve` accepts the
short name (and `dask`) and checks the cluster before anything runs: without
`--dask_client_address` (or `--dask_scheduler_file`) Beam would quietly start a throw-away
`LocalCluster` in the calling process instead of using the cluster; an address that does not
answer fails here, naming the flag, rather than as a connection timeout deep inside Beam.

Apache Beam and distributed are imported inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from typing import Any

from headrace.errors import HeadraceError, MissingDependencyError

DASK_RUNNER_PATH = "apache_beam.runners.dask.dask_runner.DaskRunner"
DASK_NAMES = ("DaskRunner", "dask", DASK_RUNNER_PATH)
DIRECT_NAMES = ("DirectRunner", "direct", "BundleBasedDirectRunner", "SwitchingDirectRunner")
CONNECT_TIMEOUT_S = 5.0
_START_HINT = "start the project's cluster with `scripts/services.sh dask` (it prints the address)"


class BeamRunnerError(HeadraceError, ValueError):
    """The Beam arguments name a runner that cannot be used as given (a missing or unreachable cluster)."""


def runner_flag(args: Sequence[str]) -> str | None:
    """The value of the last `--runner` argument (`--runner=X` or `--runner X`), None if there is none."""
    return option(args, "runner")


def runner_name(args: Sequence[str]) -> str:
    """The short class name of the runner `args` select (DirectRunner when they name none)."""
    return (runner_flag(args) or "DirectRunner").rsplit(".", 1)[-1]


def is_dask(args: Sequence[str]) -> bool:
    """Whether `args` select Beam's DaskRunner, by any of its names."""
    return runner_flag(args) in DASK_NAMES


def option(args: Sequence[str], name: str) -> str | None:
    """The value of the last `--name=value` (or `--name value`) among `args`."""
    found = None
    for i, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            found = arg.split("=", 1)[1]
        elif arg == f"--{name}" and i + 1 < len(args):
            found = args[i + 1]
    return found


def resolve(args: Sequence[str], check_cluster: bool = True) -> list[str]:
    """`args` with a Dask runner named by Beam's module path (`--runner=DaskRunner`, `--runner=dask`
    and `--runner DaskRunner` accepted), after checking the cluster (unless `check_cluster` is
    False). Arguments for other runners come back unchanged.

    Raises:
        MissingDependencyError: Dask was asked for and `apache-beam[dask]` is not installed.
        BeamRunnerError: Dask was asked for without `--dask_client_address` or
            `--dask_scheduler_file`, or the scheduler does not answer there.
    """
    out = list(args)
    if not is_dask(out):
        return out
    for i, arg in enumerate(out):
        if arg.startswith("--runner="):
            out[i] = f"--runner={DASK_RUNNER_PATH}"
        elif arg == "--runner" and i + 1 < len(out):
            out[i + 1] = DASK_RUNNER_PATH
    try:
        import apache_beam.runners.dask.dask_runner  # noqa: F401 - registers the --dask_* options
        import distributed  # noqa: F401
    except ImportError as e:
        raise MissingDependencyError("distributed", "dask", "Beam's DaskRunner") from e
    if check_cluster:
        check_dask_cluster(out)
    return out


def dask_address(args: Sequence[str]) -> str:
    """The scheduler address the Dask arguments give (from the scheduler file if that is what they give).

    Raises:
        BeamRunnerError: neither flag is given, or the scheduler file cannot be read.
    """
    address = option(args, "dask_client_address")
    scheduler_file = option(args, "dask_scheduler_file")
    if address:
        return address
    if scheduler_file:
        import json

        try:
            with open(scheduler_file) as f:
                return str(json.load(f)["address"])
        except (OSError, ValueError, KeyError) as e:
            raise BeamRunnerError(
                f"--dask_scheduler_file={scheduler_file}: cannot read the scheduler's address from it ({e})."
            ) from None
    raise BeamRunnerError(
        "The DaskRunner needs the cluster's address: add --dask_client_address=tcp://HOST:PORT to the Beam "
        f"arguments (with `headrace run`: --beam-arg=--dask_client_address=tcp://HOST:PORT); {_START_HINT}. "
        "Without it Beam would start a private cluster inside this process."
    )


def check_dask_cluster(args: Sequence[str], timeout_s: float = CONNECT_TIMEOUT_S) -> str:
    """The scheduler address of the Dask arguments, once a TCP connection to it succeeded.

    Raises:
        BeamRunnerError: no address is given, or nothing answers there within `timeout_s`.
    """
    address = dask_address(args)
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as e:
        raise BeamRunnerError(
            f"--dask_client_address={address}: no Dask scheduler answers there ({e.strerror or e}); "
            f"{_START_HINT}, or correct the address."
        ) from None
    return address


def dask_threads(args: Sequence[str], timeout_s: float = CONNECT_TIMEOUT_S) -> int:
    """How many tasks the cluster the Dask arguments name runs at once (its workers' threads; 1 if none)."""
    from distributed import Client

    try:
        client = Client(check_dask_cluster(args, timeout_s), timeout=timeout_s, set_as_default=False)
    except OSError as e:
        raise BeamRunnerError(f"--dask_client_address={dask_address(args)}: {e}; {_START_HINT}.") from None
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    finally:
        client.close()


def close_dask_client(pipeline: Any) -> None:
    """Closes the client a finished pipeline's DaskRunner opened and left open (a no-op for other runners)."""
    client = getattr(getattr(pipeline, "result", None), "client", None)
    if client is not None:
        client.close()


@contextlib.contextmanager
def waiting_on_cluster(args: Sequence[str]) -> Iterator[None]:
    """Around a Beam pipeline on Dask: when this runs inside a Dask task (a BeamDagRunner node on the
    same cluster), the task gives its worker thread back while it waits for the pipeline's tasks
    (`distributed.secede`, then `rejoin`). Holding it, a node waiting on its own Beam pipeline could
    leave that pipeline no thread to run on: StatisticsGen of the main job hung on a 2-thread cluster."""
    seceded = False
    if is_dask(args):
        try:
            from distributed import get_worker, secede

            get_worker()  # ValueError outside a worker
        except (ImportError, ValueError):
            pass
        else:
            secede()
            seceded = True
    try:
        yield
    finally:
        if seceded:
            from distributed import rejoin

            rejoin()


def beam_runner(args: Sequence[str]) -> Any:
    """The runner for `args`: for DirectRunner (also when no runner is named), Beam's FnApiRunner
    (the engine DirectRunner uses for batch pipelines, honouring --direct_running_mode and
    --direct_num_workers). Beam 2.72's DirectRunner first tries to download its Prism runner
    from GitHub; going straight to the FnApiRunner keeps a step from depending on the network
    and from running on a different engine on machines that can download. Other runners: None
    (Beam picks the one --runner names)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if runner_name(args) not in DIRECT_NAMES:
        return None
    options = PipelineOptions(list(args))
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=info)


def make_pipeline(args: Sequence[str], feature: str = "a Beam pipeline") -> Any:
    """A `beam.Pipeline` for `args` (runner and options), not run: the runner is resolved and a Dask
    cluster checked (:func:`resolve`), and the DirectRunner is Beam's FnApiRunner (:func:`beam_runner`).

    Args:
        args: The Beam arguments.
        feature: What needs the pipeline, for the install hint when Beam is missing.

    Raises:
        MissingDependencyError: Apache Beam is not installed.
        BeamRunnerError: as for :func:`resolve`.
    """
    try:
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions
    except ImportError as e:
        raise MissingDependencyError("apache-beam", "beam", feature) from e
    resolved = resolve(args)
    return beam.Pipeline(runner=beam_runner(resolved), options=PipelineOptions(resolved))


def beam_cloudpickle() -> Any:
    """The cloudpickle module Beam pickles functions with: its own copy (Beam 2.72), else the package."""
    import importlib

    try:
        return importlib.import_module("apache_beam.internal.cloudpickle.cloudpickle")
    except ImportError:
        return importlib.import_module("cloudpickle")


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        raise BeamRunnerError(
            f"--dask_client_address={address}: expected tcp://HOST:PORT (the address `dask scheduler` prints)."
        )
    return host.strip("[]") or "127.0.0.1", int(port)


__all__ = [
    "CONNECT_TIMEOUT_S",
    "DASK_NAMES",
    "DASK_RUNNER_PATH",
    "DIRECT_NAMES",
    "BeamRunnerError",
    "beam_cloudpickle",
    "beam_runner",
    "check_dask_cluster",
    "close_dask_client",
    "dask_address",
    "dask_threads",
    "is_dask",
    "make_pipeline",
    "option",
    "resolve",
    "runner_flag",
    "runner_name",
    "waiting_on_cluster",
]
