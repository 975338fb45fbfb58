"""`headrace task run`, `headrace task new-data` and `headrace task finish`: one node of a compiled IR,
run as a task of an outside scheduler (each task of the Airflow DAG file `headrace compile --target
airflow` writes runs these, in headrace's own environment), the check for new data of a DAG compiled
with `--on-new-data`, and the run's end. The options can also come from environment variables, which is how the DAG
file passes what Airflow renders per task instance."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from headrace.cli.loader import UserError


def _ir(path: str) -> Any:
    from headrace.compiler import load

    if not os.path.isfile(path):
        raise UserError(f"IR file not found: {path} (write it with `headrace compile FILE --target ir|airflow`).")
    with open(path, encoding="utf-8") as f:
        return load(f.read())


def _json_object(text: str | None, option: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as e:
        raise UserError(f"{option} must be a JSON object, got {text!r:.200}: {e}") from None
    if not isinstance(value, dict):
        raise UserError(f"{option} must be a JSON object, got {text!r:.200}.")
    return value


_RUN_ID = click.option(
    "--run-id", envvar="HEADRACE_RUN_ID", required=True, help="The scheduler's run id (env HEADRACE_RUN_ID)."
)
_LABELS = click.option(
    "--labels",
    envvar="HEADRACE_LABELS",
    metavar="JSON",
    help="A JSON object recorded on the run, e.g. the scheduler's ids (env HEADRACE_LABELS).",
)


_PARAMS = click.option(
    "--params",
    envvar="HEADRACE_PARAMETERS",
    metavar="JSON",
    help="The run's runtime parameter values as a JSON object (env HEADRACE_PARAMETERS).",
)


@click.group(name="task")
def task() -> None:
    """Run one node of a compiled IR as an outside scheduler's task, and finish the run."""


@task.command(name="run")
@click.argument("ir_file")
@click.argument("node_id")
@_RUN_ID
@click.option(
    "--try-number",
    envvar="HEADRACE_TRY_NUMBER",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="The scheduler's try of this task; from 2 on, an attempt left RUNNING is dead (env HEADRACE_TRY_NUMBER).",
)
@_LABELS
@_PARAMS
def run_command(
    ir_file: str, node_id: str, run_id: str, try_number: int, labels: str | None, params: str | None
) -> None:
    """Launch NODE_ID of IR_FILE in the run RUN_ID (started if no task started it yet). Exits 0 if the
    node completed, was cached, reused or skipped by a Cond, 1 if it failed."""
    from headrace.orchestrators.node_task import headrace_run_id, run_node

    # What the step prints goes to its log and, copied, to this command's output: the task's log.
    os.environ.setdefault("HEADRACE_VERBOSE", "1")
    ir = _ir(ir_file)
    if node_id not in {n.id for n in ir.nodes}:
        raise UserError(f"The IR of '{ir.pipeline_name}' has no node '{node_id}'.")
    outcome = run_node(
        ir,
        node_id,
        run_id,
        try_number=try_number,
        labels=_json_object(labels, "--labels"),
        parameters=_json_object(params, "--params"),
    )
    click.echo(
        f"headrace: node '{node_id}' of run '{headrace_run_id(run_id)}': {outcome.state} "
        f"(execution {outcome.execution_id})"
    )
    if outcome.state in ("FAILED", "CANCELED"):
        error = outcome.error
        click.echo(f"Error: {error}" if error is not None else f"Error: node '{node_id}' {outcome.state}", err=True)
        sys.exit(1)


NO_NEW_DATA_EXIT = 99  # the DAG's check task skips the run on this exit code


@task.command(name="new-data")
@click.argument("ir_file")
@_RUN_ID
@_LABELS
@_PARAMS
@click.option("--debounce", type=click.FloatRange(0), default=1.0, show_default=True, help="Seconds files stay still.")
def new_data_command(ir_file: str, run_id: str, labels: str | None, params: str | None, debounce: float) -> None:
    """Whether the files IR_FILE's pipeline reads changed since its last run started by new data: if so,
    start the run RUN_ID with the new files as its trigger (exit 0); if not, exit 99 (the DAG then skips
    the run)."""
    from headrace.orchestrators.node_task import check_new_data

    ir = _ir(ir_file)
    start, why = check_new_data(
        ir, run_id, _json_object(labels, "--labels"), _json_object(params, "--params"), debounce_s=debounce
    )
    click.echo(f"headrace: {why}")
    if not start:
        sys.exit(NO_NEW_DATA_EXIT)


@task.command(name="finish")
@click.argument("ir_file")
@_RUN_ID
@_LABELS
@_PARAMS
def finish_command(ir_file: str, run_id: str, labels: str | None, params: str | None) -> None:
    """Record the run's final state: COMPLETE if every node succeeded, FAILED (and exit 1) otherwise."""
    from headrace.orchestrators.node_task import finish_run, headrace_run_id

    ok, states = finish_run(_ir(ir_file), run_id, _json_object(labels, "--labels"), _json_object(params, "--params"))
    shown = ", ".join(f"{n}: {s}" for n, s in states.items())
    click.echo(f"headrace: run '{headrace_run_id(run_id)}' {'COMPLETE' if ok else 'FAILED'} ({shown})")
    if not ok:
        sys.exit(1)


COMMANDS = [task]
