"""AirflowDagRunner: the IR as an Apache Airflow DAG (Airflow 3.x and 2.10), one task per node.

Each node's task runs `<python> -m headrace task run <IR file> <node>` (see `headrace.orchestrators.node_task`)
with the interpreter of headrace's own environment: the shared launcher runs the node in the headrace run
of the Airflow run (its run id is the headrace run id) and is idempotent, so an Airflow retry of a failed
task runs a new attempt and a retry of a task that had in fact finished reuses it. A node that fails fails
its task, so Airflow's retries apply; what it prints is in the task's log. A last task,
`headrace_finish_run` (trigger rule all_done), records the run's final state in ML Metadata.

The IR's run settings become Airflow's: a node's retry policy its task's `retries`, `retry_delay`,
`retry_exponential_backoff` and `max_retry_delay`; its timeout `execution_timeout`; its cpu request
`pool_slots` (slots of the task's pool; memory and accelerators are shown in the task's docs, since only a
Kubernetes pod could honour them); runtime parameters the DAG's `params`, which a trigger's conf overrides;
the exit handler a task with trigger rule all_done after every other node.

Two ways to hand a pipeline to Airflow:

- `headrace compile --target airflow` (:func:`write_dag`): writes the compiled IR and a DAG file that
  imports only Airflow and the standard library (the code of `_airflow_dag.py` is copied into it), so
  Airflow's environment needs nothing of headrace's: the way for Airflow 3, which cannot share an
  environment with ml-metadata. The interpreter its tasks run is this process's (`sys.executable`),
  or `AirflowPipelineConfig(python=...)`.
- TFX's: a file in the dags folder defines the pipeline and ends with
  `DAG = AirflowDagRunner(config).run(pipeline)`. That file imports headrace, so it works where headrace
  and Airflow share an environment: Airflow 2.10. Its tasks are the same.

Airflow is imported only to build a DAG in this process (`run`), never by `import headrace.orchestrators`
nor by :func:`write_dag`.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import math
import os
import pprint
import re
import sys
from typing import Any, ClassVar

from headrace.compiler import PipelineIR
from headrace.compiler.ir import load
from headrace.dsl import Pipeline
from headrace.errors import DefinitionError
from headrace.orchestrators import _airflow_dag
from headrace.orchestrators.base_runner import to_ir
from headrace.orchestrators.base_target import CompileTarget
from headrace.orchestrators.node_task import headrace_run_id

FINISH_TASK_ID = "headrace_finish_run"
NEW_DATA_TASK_ID = "new_data"  # the new-data check of a DAG compiled on_new_data
NEW_DATA_POLL = "*/5 * * * *"  # how often it looks, unless airflow_dag_config gives a schedule
_UNSAFE_DAG_ID = re.compile(r"[^A-Za-z0-9_.-]")
_INSTALL_HINT = (
    "Package 'apache-airflow' must be installed in this environment to build an Airflow DAG here "
    "(AirflowDagRunner.run, the TFX-style DAG file: Airflow 2.10, pip install 'headrace[airflow]'). For "
    "Airflow 3, in its own environment, write the DAG file with `headrace compile FILE --target airflow -o DAGS`."
)


@dataclasses.dataclass
class AirflowPipelineConfig:
    """How the DAG is scheduled (TFX's `AirflowPipelineConfig`), and which interpreter runs its tasks.

    Args:
        airflow_dag_config: Keyword arguments of `airflow.DAG` (`schedule`, `start_date`, `catchup`,
            `default_args`, `tags`, `dag_id`, ...), plus task settings at the top level for
            convenience (`retries`, `retry_delay`, ... see `_airflow_dag.TASK_KEYS`), which go into
            `default_args`; a node's own `with_retry`/`with_timeout` wins over them. Defaults: dag_id =
            the pipeline name, schedule None (runs are triggered), start_date 2024-01-01 UTC, catchup False.
        python: The Python interpreter of headrace's environment on Airflow's workers, which each task
            runs (`python -m headrace task run ...`). Default: the interpreter compiling the pipeline
            (`sys.executable`), right when Airflow's workers run on this machine.
        on_new_data: Run when the pipeline's input files change (what `headrace schedule --on-new-data`
            watches): the DAG's first task, `new_data`, checks at each scheduled DAG run whether the
            files changed since the last run started by new data, and skips the whole DAG run if not.
            The DAG's schedule is then how often it looks (default every 5 minutes), one DAG run at a
            time (`max_active_runs` 1).
        new_data_debounce_s: How long the files must have been still before a run starts on them.
    """

    airflow_dag_config: dict[str, Any] | None = None
    python: str | None = None
    on_new_data: bool = False
    new_data_debounce_s: float = 1.0


class AirflowDagRunner(CompileTarget):
    """Builds an Airflow DAG from a pipeline (TFX's `AirflowDagRunner`); as a compile target, writes the
    DAG file and the IR it loads into a dags folder (:func:`write_dag`).

    Args:
        config: An :class:`AirflowPipelineConfig`, or its `airflow_dag_config` dict.
    """

    writes_folder: ClassVar[bool] = True

    def __init__(self, config: AirflowPipelineConfig | dict[str, Any] | None = None):
        if config is None:
            config = AirflowPipelineConfig()
        elif isinstance(config, dict):
            config = AirflowPipelineConfig(airflow_dag_config=config)
        elif not isinstance(config, AirflowPipelineConfig):
            raise DefinitionError(
                f"AirflowDagRunner takes an AirflowPipelineConfig or a dict, got {type(config).__name__}."
            )
        if config.python is not None and (not isinstance(config.python, str) or not os.path.isabs(config.python)):
            raise DefinitionError(
                f"AirflowPipelineConfig(python=...) takes the absolute path of headrace's Python interpreter on "
                f"Airflow's workers, e.g. /opt/headrace/.venv/bin/python; got {config.python!r}."
            )
        if not isinstance(config.new_data_debounce_s, (int, float)) or config.new_data_debounce_s < 0:
            raise DefinitionError(
                "AirflowPipelineConfig(new_data_debounce_s=...) takes seconds >= 0, "
                f"got {config.new_data_debounce_s!r}."
            )
        self.config = config

    @classmethod
    def from_options(cls, image: str | None = None, on_new_data: bool = False) -> AirflowDagRunner:
        """The target of `headrace compile --target airflow [--on-new-data]`."""
        return cls(AirflowPipelineConfig(on_new_data=on_new_data))

    @property
    def python(self) -> str:
        """The interpreter the tasks run."""
        return self.config.python or sys.executable

    def to_ir(self, pipeline: Pipeline | PipelineIR) -> PipelineIR:
        """The IR with an absolute pipeline root: the tasks run in Airflow's workers, elsewhere."""
        return to_ir(pipeline)

    def run(self, pipeline: Pipeline | PipelineIR) -> Any:
        """Returns the `airflow.DAG` of the pipeline (nothing runs now: Airflow runs it). Needs Airflow in
        this environment (Airflow 2.10: Airflow 3 cannot share one with headrace's ml-metadata).

        Put the result in a module-level variable of a file in Airflow's dags folder. The compiled IR
        the tasks read is written to `<pipeline root>/.system/airflow/<name>.ir.json` (when it changed).
        """
        try:
            import airflow  # noqa: F401
        except ImportError as e:
            raise ImportError(_INSTALL_HINT) from e
        ir = self.to_ir(pipeline)
        path = os.path.join(ir.pipeline_root, ".system", "airflow", _ir_file(ir))
        _write_if_changed(path, ir.dump())
        return _airflow_dag.build_dag(self._spec(ir, path), self.config.airflow_dag_config)

    def render(self, ir: PipelineIR, output: str | None = None) -> str:
        """The DAG file's source: Airflow and the standard library only; its tasks read
        `<pipeline name>.ir.json` next to it."""
        from headrace.version import __version__

        config = _py_literal(self.config.airflow_dag_config or {}, "airflow_dag_config")
        spec = pprint.pformat(self._spec(ir, _ir_file(ir)), width=110, sort_dicts=False)  # plain values
        header = DAG_FILE_HEADER.format(name=ir.pipeline_name, version=__version__, ir_file=_ir_file(ir))
        return f"{header}\n{_builder_code()}\n\n{DAG_FILE_TAIL.format(spec=spec, config=config)}"

    def _spec(self, ir: PipelineIR, ir_file: str) -> dict[str, Any]:
        return dag_spec(
            ir,
            self.python,
            ir_file,
            new_data_debounce_s=self.config.new_data_debounce_s if self.config.on_new_data else None,
        )

    def write(self, ir: PipelineIR, output: str) -> list[str]:
        """Writes `<output>/<pipeline_name>.ir.json` and `<output>/<pipeline_name>_dag.py`; returns both paths."""
        text = self.render(ir, output)
        os.makedirs(output, exist_ok=True)
        ir_path = os.path.join(output, _ir_file(ir))
        with open(ir_path, "w", encoding="utf-8") as f:
            f.write(ir.dump())
        dag_path = os.path.join(output, f"{safe_id(ir.pipeline_name)}_dag.py")
        with open(dag_path, "w", encoding="utf-8") as f:
            f.write(text)
        return [dag_path, ir_path]


def task_ids_of(ir: PipelineIR) -> dict[str, str]:
    """Node id -> Airflow task id (the node id, with characters Airflow refuses replaced by '_')."""
    ids = {n.id: safe_id(n.id) for n in ir.nodes}
    seen: dict[str, str] = {}
    for node_id, task_id in ids.items():
        if task_id == FINISH_TASK_ID or task_id in seen:
            other = f"node '{seen[task_id]}'" if task_id in seen else "the run's final task"
            raise DefinitionError(
                f"Node '{node_id}' would be Airflow task '{task_id}', as {other} is: give it another id "
                "(component.with_id(...))."
            )
        seen[task_id] = node_id
    return ids


def safe_id(text: str) -> str:
    """`text` as an Airflow DAG id (and file name): characters outside [A-Za-z0-9_.-] become '_'."""
    return _UNSAFE_DAG_ID.sub("_", text) or "_"


def dag_spec(ir: PipelineIR, python: str, ir_file: str, new_data_debounce_s: float | None = None) -> dict[str, Any]:
    """What `_airflow_dag.build_dag` builds the DAG from: plain values only (it is written into the DAG file).
    With `new_data_debounce_s`, the DAG runs on new data (see `AirflowPipelineConfig.on_new_data`)."""
    task_ids = task_ids_of(ir)
    kept = ("ptype", "default")
    params = {name: {k: v for k, v in d.items() if k in kept} for name, d in ir.runtime_parameters.items()}
    spec: dict[str, Any] = {
        "python": python,
        "ir_file": ir_file,
        "finish_task_id": FINISH_TASK_ID,
        "dag": {
            "dag_id": safe_id(ir.pipeline_name),
            "description": f"headrace pipeline '{ir.pipeline_name}'",
            "catchup": False,
            "tags": ["headrace"],
        },
        "params": params,
        "tasks": [_task_spec(n, task_ids) for n in ir.nodes],
    }
    if new_data_debounce_s is not None:
        if not any(n.file_inputs for n in ir.nodes):
            raise DefinitionError(
                f"Pipeline '{ir.pipeline_name}' reads no input files (no ExampleGen input_base): on_new_data has "
                "nothing to watch. Give the DAG a schedule instead (airflow_dag_config={'schedule': ...})."
            )
        if NEW_DATA_TASK_ID in task_ids.values():
            raise DefinitionError(
                f"A node would be Airflow task '{NEW_DATA_TASK_ID}', the new-data check's: give it another id."
            )
        spec["dag"].update(schedule=NEW_DATA_POLL, max_active_runs=1)
        spec["new_data"] = {"task_id": NEW_DATA_TASK_ID, "debounce_s": float(new_data_debounce_s)}
    return spec


def _task_spec(node: Any, task_ids: dict[str, str]) -> dict[str, Any]:
    doc = f"headrace node `{node.id}` ({node.component_type})"
    if node.resources:
        doc += "; resources: " + ", ".join(f"{k}={v}" for k, v in sorted(node.resources.items()))
    spec: dict[str, Any] = {
        "task_id": task_ids[node.id],
        "node_id": node.id,
        "upstream": [task_ids[u] for u in node.upstream if u in task_ids],
        "doc": doc,
    }
    if node.exit_handler:
        spec["trigger_rule"] = "all_done"
    if node.retry:
        spec["retry"] = dict(node.retry)
    if node.timeout_seconds is not None:
        spec["timeout_seconds"] = node.timeout_seconds
    if "cpu" in node.resources:
        spec["pool_slots"] = _cores(node.resources["cpu"])
    return spec


def _cores(cpu: str) -> int:
    """A Kubernetes CPU quantity ('2', '0.5', '500m') as whole pool slots, at least 1."""
    cores = float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    return max(1, math.ceil(cores))


def _builder_code() -> str:
    """The code of `_airflow_dag.py` without its docstring: what the DAG file builds the DAG with."""
    path = _airflow_dag.__file__
    with open(path, encoding="utf-8") as f:
        source = f.read()
    first = ast.parse(source).body[0]
    lines = source.splitlines()[first.end_lineno or 0 :]
    return "\n".join(lines).strip() + "\n"


def _write_if_changed(path: str, text: str) -> None:
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)  # a parse in another process reads the old file or the new one, never half


# -- the DAG file ------------------------------------------------------------------------------------
DAG_FILE_HEADER = '''"""Airflow DAG of the headrace pipeline {name!r}, generated by headrace {version}.

It imports only Airflow and the standard library (Airflow 3.x or 2.10): each task runs one node through
headrace in headrace's own environment, the interpreter HEADRACE["python"] names, reading the compiled IR
next to this file ({ir_file}). Parsing runs no pipeline code. Recompile the pipeline to change the steps
(`headrace compile FILE --target airflow -o DAGS`); edit AIRFLOW_DAG_CONFIG at the end to change the
schedule. Neither file holds a password: with a MySQL/MariaDB metadata store, each task reads the password
from the environment variable MYSQL_PWD of the Airflow worker (set it there, e.g. from your secrets
backend); a Secret(...) parameter's variable must be set there too.
"""
'''
DAG_FILE_TAIL = """# -- what headrace compiled: recompile the pipeline to change it ------------------------------------
HEADRACE = {spec}

# -- the DAG's settings: edit them here -----------------------------------------------------------------
AIRFLOW_DAG_CONFIG = {config}

dag = build_dag(HEADRACE, AIRFLOW_DAG_CONFIG, __file__)
"""


def build_dag(ir: PipelineIR, airflow_dag_config: dict[str, Any] | None = None) -> Any:
    """The DAG of an IR, built in this process (needs Airflow here): `AirflowDagRunner(config).run(ir)`."""
    return AirflowDagRunner(airflow_dag_config).run(ir)


def dag_from_ir_file(path: str, airflow_dag_config: dict[str, Any] | None = None) -> Any:
    """The DAG of a compiled IR file, built in this process (needs Airflow here: DAG files that an
    earlier headrace wrote call this)."""
    with open(path, encoding="utf-8") as f:
        ir = load(f.read())
    return _airflow_dag.build_dag(dag_spec(ir, sys.executable, os.path.abspath(path)), airflow_dag_config)


def write_dag(
    ir_or_pipeline: Pipeline | PipelineIR,
    dags_dir: str,
    config: AirflowPipelineConfig | dict[str, Any] | None = None,
) -> str:
    """Writes `<dags_dir>/<pipeline_name>.ir.json` (the compiled IR, pipeline root made absolute)
    and `<dags_dir>/<pipeline_name>_dag.py`, which builds the DAG from it; returns the DAG file's path.

    Args:
        ir_or_pipeline: The pipeline or its IR.
        dags_dir: Airflow's dags folder (or a folder synced to it); created if missing.
        config: The DAG settings (see :class:`AirflowPipelineConfig`): written into the DAG file
            as Python, so they can hold datetimes and timedeltas besides plain values.
    """
    runner = AirflowDagRunner(config)
    return runner.compile(ir_or_pipeline, dags_dir)[0]


def _ir_file(ir: PipelineIR) -> str:
    return f"{safe_id(ir.pipeline_name)}.ir.json"


def _py_literal(value: Any, where: str) -> str:
    """`value` as Python source for the DAG file."""
    if isinstance(value, dict):
        items = ", ".join(f"{_py_literal(k, where)}: {_py_literal(v, f'{where}[{k!r}]')}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        body = ", ".join(_py_literal(v, f"{where}[{i}]") for i, v in enumerate(value))
        return f"[{body}]" if isinstance(value, list) else f"({body}{',' if len(value) == 1 else ''})"
    if isinstance(value, datetime.datetime):  # pendulum's DateTime too: written as a plain datetime
        return f"datetime.datetime.fromisoformat({value.isoformat()!r})"
    if isinstance(value, datetime.timedelta):
        return f"datetime.timedelta(seconds={value.total_seconds()!r})"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise DefinitionError(
        f"write_dag cannot write {where} = {value!r} ({type(value).__name__}) into a DAG file: use plain values, "
        "datetimes and timedeltas, or build the DAG in your own file with AirflowDagRunner(config).run(pipeline)."
    )


__all__ = [
    "AirflowDagRunner",
    "AirflowPipelineConfig",
    "build_dag",
    "dag_from_ir_file",
    "headrace_run_id",
    "write_dag",
]
