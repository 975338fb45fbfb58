"""Builds the Airflow DAG of a compiled headrace pipeline: one task per node, and a last task that records
the run's final state.

Each task is a BashOperator that runs `<headrace's python> -m headrace task run <IR file> <node>`: the node
goes through headrace's launcher in headrace's own environment, as a child process of the task. What the
node prints is the task's log; a node that fails exits non-zero, so the task fails and Airflow's retries
apply. What changes per run reaches the command as environment variables that Airflow's templates render,
never as text pasted into the shell line: the run id, the try number, and the run's runtime parameter
values (the DAG's params, which the trigger's conf overrides) as JSON.

This module imports only the standard library, and Airflow inside `build_dag`: `headrace compile --target
airflow` copies its code into the DAG file it writes, so Airflow's environment needs nothing of headrace's
(Airflow 3 cannot share an environment with ml-metadata). `AirflowDagRunner(config).run(pipeline)`, the
TFX-style DAG file that imports headrace, calls it directly. It builds the same DAG on Airflow 2.10 and 3.x.
"""

from __future__ import annotations

import datetime
import difflib
import inspect
import json
import os
import shlex
from typing import Any

# Top-level keys of the DAG config that are task settings: they go into the DAG's default_args (every task).
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
# Airflow's execution_timeout is headrace's timeout plus this: headrace's own stops the step first and records
# it FAILED with nothing published; Airflow's kills the task only if that did not happen.
TIMEOUT_GRACE_S = 60.0
_PARAM_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


def build_dag(spec: dict[str, Any], config: dict[str, Any] | None = None, dag_file: str | None = None) -> Any:
    """The Airflow DAG of `spec`, what headrace compiled (`airflow_dag_runner.dag_spec`).

    Args:
        spec: The interpreter that runs headrace, the IR file, the DAG's defaults and params, and one
            entry per node (task id, upstream task ids, trigger rule, retry, timeout, pool slots).
        config: The DAG's settings (`AirflowPipelineConfig.airflow_dag_config`): arguments of
            `airflow.DAG`, and task settings (TASK_KEYS) at the top level, which go into default_args.
        dag_file: The DAG file; a relative `spec["ir_file"]` is next to it.
    """
    bash_operator, dag_class, param_class, major = _airflow()
    ir_file = spec["ir_file"]
    if dag_file is not None and not os.path.isabs(ir_file):
        ir_file = os.path.join(os.path.dirname(os.path.abspath(dag_file)), ir_file)
    kwargs = _dag_kwargs(spec, dict(config or {}), dag_class)
    params = {
        name: param_class(**({"default": p["default"]} if "default" in p else {}), type=_PARAM_TYPES[p["ptype"]])
        for name, p in spec["params"].items()
    }
    kwargs["params"] = {**(kwargs.get("params") or {}), **params}
    env = _task_env(list(params))
    with dag_class(**kwargs) as dag:
        tasks = {
            t["task_id"]: bash_operator(
                task_id=t["task_id"],
                bash_command=_command(spec["python"], "run", ir_file, t["node_id"]),
                env=env,
                append_env=True,
                doc_md=t["doc"],
                **_task_settings(t, major),
            )
            for t in spec["tasks"]
        }
        for t in spec["tasks"]:
            for up in t["upstream"]:
                tasks[up] >> tasks[t["task_id"]]
        finish = bash_operator(
            task_id=spec["finish_task_id"],
            bash_command=_command(spec["python"], "finish", ir_file),
            env=env,
            append_env=True,
            trigger_rule="all_done",
            retries=0,
            doc_md="Records the headrace run's final state in ML Metadata; fails if a node did not succeed.",
        )
        list(tasks.values()) >> finish
        if spec.get("new_data"):
            gate = _short_circuit(major)(
                task_id=spec["new_data"]["task_id"],
                python_callable=_check_new_data,
                op_kwargs={
                    "python": spec["python"],
                    "ir_file": ir_file,
                    "debounce_s": spec["new_data"]["debounce_s"],
                    "param_names": list(params),
                },
                ignore_downstream_trigger_rules=True,  # no new data: every task is skipped, exit handlers too
                doc_md="Runs `headrace task new-data`: starts the headrace run if the pipeline's input files "
                "changed since its last run started by new data; otherwise skips the whole DAG run.",
            )
            for t in spec["tasks"]:
                if not t["upstream"]:
                    gate >> tasks[t["task_id"]]
            gate >> finish
    return dag


def _check_new_data(python: str, ir_file: str, debounce_s: float, param_names: list[str], **context: Any) -> bool:
    """The new-data gate (a ShortCircuitOperator's callable, in Airflow's process): runs `headrace task
    new-data` in headrace's environment; True (go on) on exit 0, False (skip the run) on exit 99."""
    import subprocess

    run_id = str(context["run_id"])
    params = context.get("params") or {}
    env = {
        **os.environ,
        "HEADRACE_RUN_ID": run_id,
        "HEADRACE_LABELS": json.dumps({"airflow_run_id": run_id, "airflow_dag_id": context["dag"].dag_id}),
        "HEADRACE_PARAMETERS": json.dumps({n: params[n] for n in param_names if n in params}),
    }
    command = [python, "-m", "headrace", "task", "new-data", ir_file, "--debounce", str(debounce_s)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    print(done.stdout + done.stderr, end="")
    if done.returncode == 99:
        return False
    if done.returncode != 0:
        raise RuntimeError(f"headrace task new-data failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return True


def _short_circuit(major: int) -> Any:
    """Airflow's ShortCircuitOperator (3.x: the standard provider's)."""
    if major >= 3:
        from airflow.providers.standard.operators.python import ShortCircuitOperator
    else:
        from airflow.operators.python import ShortCircuitOperator
    return ShortCircuitOperator


def _airflow() -> tuple[Any, Any, Any, int]:
    """BashOperator, DAG and Param of the Airflow installed here (3.x: the task SDK and the standard
    provider; 2.10: the classic paths), and Airflow's major version."""
    import airflow

    major = int(airflow.__version__.split(".")[0])
    if major >= 3:
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG, Param
    else:
        from airflow import DAG
        from airflow.models.param import Param
        from airflow.operators.bash import BashOperator
    return BashOperator, DAG, Param, major


def _command(python: str, action: str, *args: str) -> str:
    """The task's shell line: exec, so that Airflow's SIGTERM (a timeout, a kill) reaches headrace itself.
    A trailing space keeps Airflow from reading a line ending in '.sh' as a template file's name."""
    return " ".join(["exec", *(shlex.quote(a) for a in (python, "-m", "headrace", "task", action, *args))]) + " "


def _task_env(param_names: list[str]) -> dict[str, str]:
    """The environment variables `headrace task` reads, as Airflow templates (rendered per task instance)."""
    values = ", ".join(f"{json.dumps(n)}: {{{{ params[{json.dumps(n)}] | tojson }}}}" for n in param_names)
    return {
        "HEADRACE_RUN_ID": "{{ run_id }}",
        "HEADRACE_TRY_NUMBER": "{{ ti.try_number }}",
        "HEADRACE_LABELS": '{"airflow_run_id": {{ run_id | tojson }}, "airflow_dag_id": {{ dag.dag_id | tojson }}}',
        "HEADRACE_PARAMETERS": "{" + values + "}",
    }


def _task_settings(task: dict[str, Any], major: int) -> dict[str, Any]:
    """A node's retry policy, timeout and resources as BaseOperator arguments (the DAG's default_args
    apply to what the node does not set)."""
    out: dict[str, Any] = {}
    if task.get("trigger_rule"):
        out["trigger_rule"] = task["trigger_rule"]
    retry = task.get("retry")
    if retry:
        out["retries"] = retry["max_retries"]
        out["retry_delay"] = datetime.timedelta(seconds=retry.get("backoff_seconds", 0.0))
        factor = float(retry.get("backoff_factor", 1.0))
        # Airflow 3 multiplies the delay by this factor per try; 2.x only doubles it (True).
        out["retry_exponential_backoff"] = (factor if factor > 1 else 0.0) if major >= 3 else factor > 1
        if "max_backoff_seconds" in retry:
            out["max_retry_delay"] = datetime.timedelta(seconds=retry["max_backoff_seconds"])
    if task.get("timeout_seconds") is not None:
        out["execution_timeout"] = datetime.timedelta(seconds=task["timeout_seconds"] + TIMEOUT_GRACE_S)
    if task.get("pool_slots", 1) > 1:
        out["pool_slots"] = task["pool_slots"]
    return out


def _dag_kwargs(spec: dict[str, Any], config: dict[str, Any], dag_class: type) -> dict[str, Any]:
    """The DAG's arguments: headrace's defaults, then the config (task settings into default_args)."""
    allowed = set(inspect.signature(dag_class).parameters)
    default_args = dict(config.pop("default_args", None) or {})
    kwargs: dict[str, Any] = dict(spec["dag"])
    kwargs["start_date"] = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)  # noqa: UP017 (2.x too)
    if "schedule_interval" in config or "timetable" in config:
        kwargs.pop("schedule", None)
    else:
        kwargs.setdefault("schedule", None)  # runs are triggered (a new-data DAG polls: its spec says how often)
    for key, value in config.items():
        if key in TASK_KEYS:
            default_args[key] = value
        elif key in allowed:
            kwargs[key] = value
        else:
            near = difflib.get_close_matches(key, sorted(allowed | set(TASK_KEYS)), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise ValueError(
                f"airflow_dag_config has an unknown key {key!r}: it is neither an argument of airflow.DAG "
                f"nor a task setting ({', '.join(TASK_KEYS)}).{hint}"
            )
    kwargs["default_args"] = default_args
    return kwargs
