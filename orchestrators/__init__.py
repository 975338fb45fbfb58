"""Orchestrators: each reads the IR and runs nodes through the shared node launcher.

Two kinds of adapter, each with one base: runners execute a pipeline (:class:`BaseRunner`: LocalDagRunner,
BeamDagRunner) and compile targets write it for another orchestrator to run (:class:`CompileTarget`:
Kubeflow Pipelines, Airflow, headrace's IR). `RUNNERS` and `TARGETS` below are the one table of them:
`headrace run --runner` and `headrace compile --target` offer what they list, so adding an orchestrator
is its own module plus a line here.

Adapters load on first use, so `import headrace.orchestrators` imports none of Beam, kfp or Airflow.
"""

from __future__ import annotations

import importlib
from typing import Any

from headrace.orchestrators.base_runner import BaseRunner, RunOptions, RunSession
from headrace.orchestrators.base_target import CompileTarget, IRTarget
from headrace.orchestrators.interactive import ExecutionResult, InteractiveContext
from headrace.orchestrators.result import RunResult

# name -> (module under headrace.orchestrators, class, what the CLI's help says of it)
RUNNERS: dict[str, tuple[str, str, str]] = {
    "local": ("local_dag_runner", "LocalDagRunner", "LocalDagRunner, this machine"),
    "beam": ("beam_dag_runner", "BeamDagRunner", "BeamDagRunner, Beam's DirectRunner or what --beam-arg selects"),
}
TARGETS: dict[str, tuple[str, str, str]] = {
    "ir": ("base_target", "IRTarget", "headrace's IR (JSON)"),
    "kubeflow": (
        "kubeflow_v2_dag_runner",
        "KubeflowV2DagRunner",
        "a Kubeflow Pipelines v2 package (YAML, JSON if -o ends in .json)",
    ),
    "airflow": (
        "airflow_dag_runner",
        "AirflowDagRunner",
        "a DAG file and the IR it loads, written into the -o folder (Airflow's dags folder)",
    ),
}
# Public names of the adapters' modules besides their classes, loaded on first use too.
_MORE = {
    "KubeflowV2DagRunnerConfig": "kubeflow_v2_dag_runner",
    "AirflowPipelineConfig": "airflow_dag_runner",
}
_LAZY = {cls: module for module, cls, _help in (*RUNNERS.values(), *TARGETS.values())} | _MORE


def runner_class(name: str) -> type[BaseRunner]:
    """The runner registered as `name` in RUNNERS."""
    module, cls, _help = RUNNERS[name]
    found: type[BaseRunner] = getattr(importlib.import_module(f"headrace.orchestrators.{module}"), cls)
    return found


def target_class(name: str) -> type[CompileTarget]:
    """The compile target registered as `name` in TARGETS."""
    module, cls, _help = TARGETS[name]
    found: type[CompileTarget] = getattr(importlib.import_module(f"headrace.orchestrators.{module}"), cls)
    return found


__all__ = [
    "RUNNERS",
    "TARGETS",
    "BaseRunner",
    "CompileTarget",
    "ExecutionResult",
    "IRTarget",
    "InteractiveContext",
    "RunOptions",
    "RunResult",
    "RunSession",
    "runner_class",
    "target_class",
    *sorted(n for n in _LAZY if n != "IRTarget"),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'headrace.orchestrators' has no attribute '{name}'")
    return getattr(importlib.import_module(f"headrace.orchestrators.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
