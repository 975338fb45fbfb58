"""`headrace run`, `compile` and `submit`: a pipeline run here, or written for another orchestrator."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from headrace.cli.common import METADATA_HELP, metadata_config
from headrace.cli.loader import UserError, load_pipeline
from headrace.errors import DefinitionError
from headrace.orchestrators import RUNNERS, TARGETS


def _choices(table: dict[str, tuple[str, str, str]]) -> str:
    return "; ".join(f"{name}: {text}" for name, (_module, _cls, text) in table.items())


@click.command()
@click.argument("pipeline_file", required=False)
@click.option("--resume", "resume", metavar="RUN_ID", help="Resume a failed run: reuse what completed, rerun the rest.")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached results in this run.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Also show what the steps' libraries print (each step's log has it)."
)
@click.option("--metadata", help=METADATA_HELP)
@click.option("--run-id", help="Id for the new run (default: generated).")
@click.option("--max-workers", type=click.IntRange(min=1), help="local: nodes that may execute at once.")
@click.option("--in-process", is_flag=True, help="local: run executors in this process (for debugging).")
@click.option("--runner", type=click.Choice(list(RUNNERS)), default="local", show_default=True, help=_choices(RUNNERS))
@click.option("--beam-arg", "beam_args", multiple=True, metavar="ARG", help="beam: a Beam pipeline argument.")
@click.option("--trigger", default="", help="Why this run starts, recorded on the run (headrace schedule sets it).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A runtime parameter's value for this run (repeatable); the others take their defaults.",
)
def run(
    pipeline_file: str | None,
    resume: str | None,
    no_cache: bool,
    quiet: bool,
    verbose: bool,
    metadata: str | None,
    run_id: str | None,
    max_workers: int | None,
    in_process: bool,
    runner: str,
    beam_args: tuple[str, ...],
    params: tuple[str, ...],
    trigger: str,
) -> None:
    """Run PIPELINE_FILE (a .py pipeline file, or the .json IR `headrace compile` wrote) on this
    machine, or resume a run."""
    from headrace.orchestrators import RunOptions, runner_class

    if pipeline_file is None and resume is None:
        raise UserError("Give a PIPELINE_FILE to run, or --resume RUN_ID.")
    if resume and run_id:
        raise UserError("--run-id and --resume cannot be combined: a resumed run keeps its id.")
    if quiet and verbose:
        raise UserError("-q and -v cannot be combined.")
    md_config = None
    if metadata or os.environ.get("HEADRACE_METADATA"):
        md_config = metadata_config(metadata, None, must_exist=bool(resume))
    if pipeline_file is None and md_config is None:
        raise UserError("To resume without the pipeline file, say where its store is: --metadata PATH.")
    if verbose:
        os.environ["HEADRACE_VERBOSE"] = "1"  # read where a step's output is captured (its workers inherit it)
    target = _load_target(pipeline_file) if pipeline_file else None
    options = RunOptions(md_config, quiet, max_workers, in_process, beam_args)
    chosen = runner_class(runner).from_options(options)  # raise_on_failure=False: the summary says what failed
    result = chosen.run(
        target,
        run_id=run_id,
        resume=resume,
        enable_cache=False if no_cache else None,
        parameters=parse_params(params),
        trigger=trigger,
    )
    if quiet:
        click.echo(result.run_id)
        _quiet_failure(result)
    if not result.succeeded:
        sys.exit(1)


def parse_params(params: tuple[str, ...]) -> dict[str, str]:
    """`--param NAME=VALUE` options as a dict (the values stay text: the run parses them by type)."""
    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--param takes NAME=VALUE, got {item!r}.")
        if name.strip() in values:
            raise UserError(f"--param {name.strip()} is given twice.")
        values[name.strip()] = value
    return values


def _quiet_failure(result: Any) -> None:
    """Under -q the summary is not printed: a run that did not complete still says why, on stderr
    (each failed node's error, without its traceback, which the step's log and `runs show` keep)."""
    if result.succeeded:
        return
    lines = [f"Error: run {result.run_id} {result.state}"]
    lines += [f"  node '{e.node_id}' failed: {e.error_type}: {e.message}" for e in result.errors]
    click.echo("\n".join(lines), err=True)


def _load_target(path: str) -> Any:
    """A pipeline file (.py), or an IR that `headrace compile` wrote (.json)."""
    if path.endswith(".json"):
        from headrace.compiler import load

        if not os.path.isfile(path):
            raise UserError(f"IR file not found: {path}")
        with open(path, encoding="utf-8") as f:
            return load(f.read())
    return load_pipeline(path)


@click.command(name="compile")
@click.argument("pipeline_file")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the result ('-' for stdout).")
@click.option("--target", type=click.Choice(list(TARGETS)), default="ir", show_default=True, help=_choices(TARGETS))
@click.option(
    "--image", default=None, help="kubeflow: the image of nodes that name none (default headrace-runtime:latest)."
)
@click.option(
    "--on-new-data",
    is_flag=True,
    help="airflow: the DAG runs when the pipeline's input files change (checked every 5 minutes).",
)
def compile_command(pipeline_file: str, output: str, target: str, image: str | None, on_new_data: bool) -> None:
    """Compile PIPELINE_FILE to the IR (JSON), or for another orchestrator (--target)."""
    from headrace.orchestrators import target_class

    if on_new_data and target != "airflow":
        raise UserError(
            f"--on-new-data compiles only for --target airflow; for {target}, run "
            "`headrace schedule FILE --on-new-data`."
        )
    chosen = target_class(target).from_options(image=image, **({"on_new_data": True} if on_new_data else {}))
    ir = chosen.to_ir(load_pipeline(pipeline_file))
    if chosen.writes_folder:
        if output == "-":
            raise UserError(f"--target {target} writes several files: give the folder with -o DIR.")
        click.echo(f"wrote {chosen.write(ir, output)[0]}", err=True)
    elif output == "-":
        click.echo(chosen.render(ir), nl=False)
    else:
        click.echo(f"wrote {chosen.write(ir, output)[0]}", err=True)


@click.command(name="submit")
@click.argument("package_file")
@click.option("--endpoint", required=True, help="The Kubeflow Pipelines API, e.g. http://localhost:8888.")
@click.option("--experiment", default=None, help="The experiment to create the run in (created if missing).")
@click.option("--run-name", default=None, help="The run's name (default: the pipeline name and a timestamp).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A pipeline parameter (JSON value).")
@click.option("--cron", default=None, help="A recurring run on this cron schedule ('0 3 * * *', '@daily').")
def submit_command(
    package_file: str,
    endpoint: str,
    experiment: str | None,
    run_name: str | None,
    params: tuple[str, ...],
    cron: str | None,
) -> None:
    """Create a run of PACKAGE_FILE (from `headrace compile --target kubeflow`) on Kubeflow Pipelines, or
    with --cron a recurring run (one at a time, no catch-up); prints its id."""
    from headrace.orchestrators.kubeflow_v2_dag_runner import submit

    values: dict[str, Any] = {}
    for item in params:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--param takes KEY=VALUE, got {item!r}.")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    try:
        click.echo(submit(package_file, endpoint, experiment=experiment, run_name=run_name, params=values, cron=cron))
    except DefinitionError as e:  # a bad cron expression
        raise UserError(str(e)) from None


COMMANDS = [run, compile_command, submit_command]
