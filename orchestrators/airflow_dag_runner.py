"""AirflowDagRunner: the IR as an Apache Airflow (2.10) DAG, one task per node.

Each node task calls the shared launcher on its own (`headrace.launcher.single`): `ensure_run` for
the Airflow run (its run id is the headrace run id), then `launch_node`, which is idempotent, so an
Airflow retry of a failed task runs a new attempt and a retry of a task that had in fact finished
reuses it. A node that fails makes its task fail, so Airflow's retries apply. A last task,
`headrace_finish_run` (trigger rule all_done), records the run's final state in ML Metadata.

Two ways to hand a pipeline to Airflow:

- TFX's: a file in the dags folder defines the pipeline and ends with
  `DAG = AirflowDagRunner(config).run(pipeline)`; Airflow runs that file on every parse.
- :func:`write_dag` (`headrace compile --target airflow`): writes the compiled IR and a small DAG
  file that builds the DAG from it. Parsing it runs no pipeline-definition code: it reads JSON.

Airflow is imported only to build a DAG (never by `import headrace.orchestrators`, nor by
:func:`write_dag`).
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import logging
import os
import re
from typing import Any, ClassVar

from headrace.compiler import PipelineIR
from headrace.compiler.ir import load
from headrace.dsl import Pipeline
from headrace.errors import DefinitionError
from headrace.orchestrators.base_runner import open_store, to_ir
from headrace.orchestrators.base_target import CompileTarget

log = logging.getLogger(__name__)

FINISH_TASK_ID = "headrace_finish_run"
# Top-level config keys that are task settings: they go into the DAG's default_args (every task).
TASK_KEYS = (
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "execution_timeout",
    "owner",
    "pool",
    "queue",
)
_DEFAULT_START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_UNSAFE_RUN_ID = re.compile(r"[^A-Za-z0-9_.:+-]")
_UNSAFE_DAG_ID = re.compile(r"[^A-Za-z0-9_.-]")
_INSTALL_HINT = (
    "Package 'apache-airflow' must be installed to build an Airflow DAG (AirflowDagRunner). "
    "Install it with: pip install 'apache-airflow==2.10.3' (and its constraints file)."
)


@dataclasses.dataclass
class AirflowPipelineConfig:
    """How the DAG is scheduled (TFX's `AirflowPipelineConfig`).

    Args:
        airflow_dag_config: Keyword arguments of `airflow.DAG` (`schedule`, `start_date`, `catchup`,
            `default_args`, `tags`, `dag_id`, ...), plus task settings at the top level for
            convenience (`retries`, `retry_delay`, ... see `TASK_KEYS`), which go into
            `default_args`. Defaults: dag_id = the pipeline name, schedule None (runs are
            triggered), start_date 2024-01-01 UTC, catchup False.
    """

    airflow_dag_config: dict[str, Any] | None = None


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
        self.config = config

    def to_ir(self, pipeline: Pipeline | PipelineIR) -> PipelineIR:
        """The IR with an absolute pipeline root: the tasks run in Airflow's workers, elsewhere."""
        return to_ir(pipeline)

    def run(self, pipeline: Pipeline | PipelineIR) -> Any:
        """Returns the `airflow.DAG` of the pipeline (nothing runs now: Airflow runs it).

        Put the result in a module-level variable of a file in Airflow's dags folder.
        """
        return build_dag(self.to_ir(pipeline), self.config.airflow_dag_config)

    def render(self, ir: PipelineIR, output: str | None = None) -> str:
        """The DAG file's source: it builds the DAG from `<pipeline name>.ir.json` next to it."""
        from headrace.version import __version__

        literal = _py_literal(self.config.airflow_dag_config or {}, "airflow_dag_config")
        return DAG_FILE_TEMPLATE.format(
            name=ir.pipeline_name, version=__version__, ir_file=_ir_file(ir), config=literal
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


def build_dag(ir: PipelineIR, airflow_dag_config: dict[str, Any] | None = None) -> Any:
    """The DAG of the IR: one PythonOperator per node, the IR's `upstream` as dependencies, and the
    final `headrace_finish_run` task after all of them."""
    try:
        from airflow import DAG
        from airflow.operators.python import PythonOperator
    except ImportError as e:
        raise ImportError(_INSTALL_HINT) from e
    dag_kwargs = _dag_kwargs(ir, airflow_dag_config or {}, DAG)
    task_ids = task_ids_of(ir)
    dag = DAG(**dag_kwargs)
    with dag:
        tasks = {
            n.id: PythonOperator(
                task_id=task_ids[n.id],
                python_callable=functools.partial(run_node_task, ir),
                op_kwargs={"node_id": n.id},
                doc_md=f"headrace node `{n.id}` ({n.component_type})",
            )
            for n in ir.nodes
        }
        for n in ir.nodes:
            for up in n.upstream:
                tasks[up] >> tasks[n.id]
        finish = PythonOperator(
            task_id=FINISH_TASK_ID,
            python_callable=functools.partial(finish_run_task, ir),
            trigger_rule="all_done",
            retries=0,
            doc_md="Records the headrace run's final state in ML Metadata.",
        )
        list(tasks.values()) >> finish
    return dag


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


def _dag_kwargs(ir: PipelineIR, config: dict[str, Any], dag_class: type) -> dict[str, Any]:
    import inspect

    allowed = set(inspect.signature(dag_class).parameters)
    default_args = dict(config.get("default_args") or {})
    kwargs: dict[str, Any] = {
        "dag_id": safe_id(ir.pipeline_name),
        "start_date": _DEFAULT_START,
        "catchup": False,
        "description": f"headrace pipeline '{ir.pipeline_name}'",
        "tags": ["headrace"],
    }
    if "schedule_interval" not in config and "timetable" not in config:
        kwargs["schedule"] = None
    for key, value in config.items():
        if key == "default_args":
            continue
        if key in TASK_KEYS:
            default_args[key] = value
        elif key in allowed:
            kwargs[key] = value
        else:
            near = difflib.get_close_matches(key, sorted(allowed | set(TASK_KEYS)), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise DefinitionError(
                f"airflow_dag_config has an unknown key {key!r}: it is neither an argument of airflow.DAG "
                f"nor a task setting ({', '.join(TASK_KEYS)}).{hint}"
            )
    kwargs["default_args"] = default_args
    return kwargs


def safe_id(text: str) -> str:
    """`text` as an Airflow DAG id (and file name): characters outside [A-Za-z0-9_.-] become '_'."""
    return _UNSAFE_DAG_ID.sub("_", text) or "_"


def headrace_run_id(airflow_run_id: str) -> str:
    """The headrace run id of an Airflow run: the Airflow run id itself, with characters other than
    [A-Za-z0-9_.:+-] (a '/' in a hand-made run id, say) replaced by '_'."""
    return _UNSAFE_RUN_ID.sub("_", airflow_run_id) or "_"


# -- what the tasks run (in the Airflow worker) ----------------------------------------------------
def run_node_task(ir: PipelineIR, node_id: str, **context: Any) -> dict[str, Any]:
    """An Airflow node task: launches `node_id` in the headrace run of this Airflow run.

    Raises:
        ExecutorError: the node failed (the task fails; Airflow retries it if it has retries left).
        DuplicateLaunchError: another live task instance is running this node of this run.
    """
    from headrace.launcher.single import ensure_run, launch_node

    md = open_store(ir)
    handle = ensure_run(md, ir, headrace_run_id(context["run_id"]))
    _record_airflow_ids(md, handle, context)
    # Airflow starts another try of a task only once the earlier try ended or was declared a zombie, so
    # on a retry an attempt still RUNNING in ML Metadata is dead even if its launcher was on another host
    # (the pid check covers this host).
    ti = context.get("ti")
    retry = ti is not None and int(getattr(ti, "try_number", 1) or 1) > 1
    outcome = launch_node(md, handle, node_id, stale_after_s=0.0 if retry else None)
    log.info("headrace run %s, node %s: %s (execution %s)", handle.run_id, node_id, outcome.state, outcome.execution_id)
    if outcome.state in ("FAILED", "CANCELED"):
        if outcome.error is not None:
            raise outcome.error
        raise RuntimeError(f"node '{node_id}' ended {outcome.state} in run '{handle.run_id}'.")
    return {"state": outcome.state, "execution_id": outcome.execution_id, "outputs": outcome.outputs}


def _record_airflow_ids(md: Any, handle: Any, context: dict[str, Any]) -> None:
    """Records the Airflow DAG id and run id on the run context (once, by the first task)."""
    from headrace.metadata.values import set_value

    props = handle.run_context.custom_properties
    if "airflow_run_id" in props:
        return
    dag = context.get("dag")
    set_value(props["airflow_run_id"], str(context["run_id"]))
    set_value(props["airflow_dag_id"], str(getattr(dag, "dag_id", "")))
    md.call(md.store.put_contexts, [handle.run_context])


def finish_run_task(ir: PipelineIR, **context: Any) -> dict[str, str]:
    """The final Airflow task: records COMPLETE on the run if every node completed, was cached or
    was skipped by a Cond, FAILED otherwise; and fails (so the Airflow run fails too) if FAILED."""
    from headrace.launcher.outcomes import COMPLETE, FAILED, node_outcomes
    from headrace.launcher.runs import set_run_state
    from headrace.launcher.single import ensure_run

    md = open_store(ir)
    handle = ensure_run(md, ir, headrace_run_id(context["run_id"]))
    _record_airflow_ids(md, handle, context)
    # NOT_RUN: no execution, Airflow left the task upstream_failed, so it never called the launcher.
    outcomes = node_outcomes(md, handle)
    states = {n: o.state if o is not None else "NOT_RUN" for n, o in outcomes.items()}
    bad = {n: states[n] for n, o in outcomes.items() if o is None or not o.succeeded}
    ok = not bad
    set_run_state(md, handle, COMPLETE if ok else FAILED)
    log.info("headrace run %s: %s %s", handle.run_id, COMPLETE if ok else FAILED, states)
    if not ok:
        raise RuntimeError(f"headrace run '{handle.run_id}' of '{ir.pipeline_name}' FAILED: {bad}")
    return states


# -- a DAG file that loads the compiled IR ---------------------------------------------------------
DAG_FILE_TEMPLATE = '''"""Airflow DAG of the headrace pipeline {name!r}, generated by headrace {version}.

It builds the DAG from the compiled IR next to it ({ir_file}); parsing runs no pipeline code.
Recompile the pipeline to change the steps; edit AIRFLOW_DAG_CONFIG here to change the schedule.
Neither file holds a password: with a MySQL/MariaDB metadata store, each task reads the password from
the environment variable MYSQL_PWD of the Airflow worker (set it there, e.g. from an Airflow
connection or your secrets backend); a Secret(...) parameter's variable must be set there too.
"""

import datetime
import os

from headrace.orchestrators.airflow_dag_runner import dag_from_ir_file

AIRFLOW_DAG_CONFIG = {config}

dag = dag_from_ir_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), {ir_file!r}), AIRFLOW_DAG_CONFIG)
'''


def dag_from_ir_file(path: str, airflow_dag_config: dict[str, Any] | None = None) -> Any:
    """The DAG of a compiled IR file (what a file written by :func:`write_dag` calls)."""
    with open(path, encoding="utf-8") as f:
        ir = load(f.read())
    return build_dag(ir, airflow_dag_config)


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
