"""The `headrace` command line."""

from __future__ import annotations

import datetime
import json
import os
import sys
from typing import Any

import click

from headrace.cli.loader import UserError, load_pipeline
from headrace.errors import HeadraceError

_METADATA_HELP = "ML Metadata store: a SQLite path or mysql://user:password@host:port/db (env HEADRACE_METADATA)."


class _Group(click.Group):
    """Turns headrace's own errors into a message and a non-zero exit, never a stack trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeadraceError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=_Group)
@click.version_option(package_name="headrace")
def main() -> None:
    """headrace: author, compile, run and inspect ML pipelines."""


def _metadata(metadata: str | None, pipeline_file: str | None) -> Any:
    """The store to read, opened."""
    from headrace.metadata import Metadata

    return Metadata(_metadata_config(metadata, pipeline_file, must_exist=True))


def _metadata_config(metadata: str | None, pipeline_file: str | None, must_exist: bool) -> Any:
    """The store named by --metadata, HEADRACE_METADATA or a pipeline file. Commands that only
    read (and resume) need it to exist: a mistyped SQLite path is an error, not a new empty store."""
    from headrace.metadata import connection_config_from_uri
    from headrace.metadata.config import connection_config_from_dict

    uri = metadata or os.environ.get("HEADRACE_METADATA")
    config = None
    if uri:
        config = connection_config_from_uri(uri)
    elif pipeline_file:
        from headrace.compiler import compile_pipeline

        ir = compile_pipeline(load_pipeline(pipeline_file))
        config = connection_config_from_dict(ir.metadata_connection, os.path.abspath(ir.pipeline_root))
    if config is not None:
        path = config.sqlite.filename_uri if config.WhichOneof("config") == "sqlite" else None
        if must_exist and path and not os.path.exists(path):
            raise UserError(f"No metadata store at {path}: check the path (or run a pipeline first).")
        return config
    raise UserError(
        "Which metadata store? Pass --metadata PATH (printed at the end of every run), --pipeline FILE, "
        "or set HEADRACE_METADATA."
    )


@main.command()
@click.argument("pipeline_file", required=False)
@click.option("--resume", "resume", metavar="RUN_ID", help="Resume a failed run: reuse what completed, rerun the rest.")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached results in this run.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--run-id", help="Id for the new run (default: generated).")
@click.option("--max-workers", type=click.IntRange(min=1), help="Nodes that may execute at once.")
@click.option("--in-process", is_flag=True, help="Run executors in this process (for debugging).")
@click.option(
    "--runner",
    type=click.Choice(["local", "beam"]),
    default="local",
    show_default=True,
    help="local: LocalDagRunner; beam: BeamDagRunner (Beam's DirectRunner, or what --beam-arg selects).",
)
@click.option("--beam-arg", "beam_args", multiple=True, metavar="ARG", help="beam: a Beam pipeline argument.")
def run(
    pipeline_file: str | None,
    resume: str | None,
    no_cache: bool,
    quiet: bool,
    metadata: str | None,
    run_id: str | None,
    max_workers: int | None,
    in_process: bool,
    runner: str,
    beam_args: tuple[str, ...],
) -> None:
    """Run PIPELINE_FILE (a .py pipeline file, or the .json IR `headrace compile` wrote) on this
    machine (LocalDagRunner), or resume a run."""
    from headrace.orchestrators import LocalDagRunner

    if pipeline_file is None and resume is None:
        raise UserError("Give a PIPELINE_FILE to run, or --resume RUN_ID.")
    if resume and run_id:
        raise UserError("--run-id and --resume cannot be combined: a resumed run keeps its id.")
    md_config = None
    if metadata or os.environ.get("HEADRACE_METADATA"):
        md_config = _metadata_config(metadata, None, must_exist=bool(resume))
    if pipeline_file is None and md_config is None:
        raise UserError("To resume without the pipeline file, say where its store is: --metadata PATH.")
    target = _load_target(pipeline_file) if pipeline_file else None
    if runner == "beam":
        if resume or target is None:
            raise UserError("--resume runs under the local runner; drop --runner beam.")
        from headrace.orchestrators import BeamDagRunner

        beam = BeamDagRunner(
            beam_pipeline_args=list(beam_args),
            metadata_connection_config=md_config,
            quiet=quiet,
            raise_on_failure=False,
        )
        result = beam.run(target, run_id=run_id, enable_cache=False if no_cache else None)
    else:
        local = LocalDagRunner(
            max_workers=max_workers,
            executor_mode="inprocess" if in_process else "process",
            quiet=quiet,
            metadata_connection_config=md_config,
            raise_on_failure=False,  # the summary already says what failed; exit 1 below
        )
        result = local.run(target, run_id=run_id, resume=resume, enable_cache=False if no_cache else None)
    if quiet:
        click.echo(result.run_id)
        _quiet_failure(result)
    if not result.succeeded:
        sys.exit(1)


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


@main.command(name="compile")
@click.argument("pipeline_file")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the result ('-' for stdout).")
@click.option(
    "--target",
    type=click.Choice(["ir", "kubeflow", "airflow"]),
    default="ir",
    show_default=True,
    help="ir: headrace's IR (JSON); kubeflow: a Kubeflow Pipelines v2 package (YAML, JSON if -o ends in .json); "
    "airflow: a DAG file and the IR it loads, written into the -o folder (Airflow's dags folder).",
)
@click.option(
    "--image",
    default=None,
    help="kubeflow: the image of nodes that name none (default headrace-runtime:latest).",
)
def compile_command(pipeline_file: str, output: str, target: str, image: str | None) -> None:
    """Compile PIPELINE_FILE to the IR (JSON), or to a Kubeflow Pipelines v2 package."""
    from headrace.compiler import compile_pipeline

    ir = compile_pipeline(load_pipeline(pipeline_file))
    if target == "airflow":
        if output == "-":
            raise UserError("--target airflow writes two files: give the dags folder with -o DIR.")
        from headrace.orchestrators.airflow_dag_runner import write_dag

        click.echo(f"wrote {write_dag(ir, output)}", err=True)
        return
    if target == "kubeflow":
        from headrace.orchestrators.kubeflow_v2_dag_runner import (
            KubeflowV2DagRunnerConfig,
            build_pipeline_spec,
            spec_text,
        )

        fmt = "json" if output.endswith(".json") else "yaml"
        text = spec_text(build_pipeline_spec(ir, KubeflowV2DagRunnerConfig(default_image=image)), fmt)
    else:
        text = ir.dump() + "\n"
    if output == "-":
        click.echo(text, nl=False)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w") as f:
            f.write(text)
        click.echo(f"wrote {output}", err=True)


@main.command(name="submit")
@click.argument("package_file")
@click.option("--endpoint", required=True, help="The Kubeflow Pipelines API, e.g. http://localhost:8888.")
@click.option("--experiment", default=None, help="The experiment to create the run in (created if missing).")
@click.option("--run-name", default=None, help="The run's name (default: the pipeline name and a timestamp).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A pipeline parameter (JSON value).")
def submit_command(
    package_file: str, endpoint: str, experiment: str | None, run_name: str | None, params: tuple[str, ...]
) -> None:
    """Create a run of PACKAGE_FILE (from `headrace compile --target kubeflow`) on Kubeflow Pipelines."""
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
    click.echo(submit(package_file, endpoint, experiment=experiment, run_name=run_name, params=values))


@main.group()
def runs() -> None:
    """List and inspect runs."""


@runs.command(name="list")
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
@click.option("--name", help="Only runs of this pipeline name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def runs_list(metadata: str | None, pipeline_file: str | None, name: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    from headrace.metadata import MetadataReader

    found = MetadataReader(_metadata(metadata, pipeline_file)).runs(name)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in found], indent=2))
        return
    if not found:
        click.echo("no runs")
        return
    click.echo(f"{'RUN ID':<22} {'PIPELINE':<20} {'STATE':<9} {'STARTED':<19} DURATION")
    for r in found:
        click.echo(
            f"{r.run_id:<22} {r.pipeline_name:<20} {r.state:<9} {_time(r.started_ms):<19} "
            + (f"{r.seconds:.2f}s" if r.seconds is not None else "-")
        )


@runs.command(name="compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="json: for scripts.")
@click.option("--diff", "only_differences", is_flag=True, help="Only the rows that differ.")
def runs_compare(
    run_ids: tuple[str, ...], metadata: str | None, pipeline_file: str | None, fmt: str, only_differences: bool
) -> None:
    """Compare runs side by side: parameters, code, states, metrics (differences marked)."""
    from headrace.cli.compare import compare, render

    if len(run_ids) < 2:
        raise UserError("Give at least two run ids to compare (headrace runs list shows them).")
    table = compare(_metadata(metadata, pipeline_file), list(run_ids))
    click.echo(json.dumps(table, indent=2, default=str) if fmt == "json" else render(table, only_differences))


@runs.command(name="show")
@click.argument("run_id")
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def runs_show(run_id: str, metadata: str | None, pipeline_file: str | None, as_json: bool) -> None:
    """Show a run: its executions with states, times, inputs and outputs."""
    import dataclasses

    from headrace.launcher import load_run_ir
    from headrace.metadata import MetadataReader

    reader = MetadataReader(_metadata(metadata, pipeline_file))
    info = reader.run(run_id)
    execs = reader.executions(run_id)
    if as_json:
        click.echo(json.dumps({"run": info.__dict__, "executions": [dataclasses.asdict(e) for e in execs]}, indent=2))
        return
    click.echo(
        f"run {info.run_id} of '{info.pipeline_name}': {info.state}, started {_time(info.started_ms)}, "
        f"took {f'{info.seconds:.2f}s' if info.seconds is not None else '-'}"
    )
    for e in execs:
        click.echo(f"  #{e.id:<5} {e.node_id:<24} {e.state:<9} {_duration(e.create_time_ms, e.update_time_ms):>8}")
        for side, arts in (("in ", e.inputs), ("out", e.outputs)):
            for key, items in arts.items():
                for a in items:
                    value = a.custom_properties.get("value")
                    shown = f" value={value!r}" if value is not None else ""
                    click.echo(f"         {side} {key}: {a.type_name} #{a.id} {a.state} {a.uri}{shown}")
        if e.error:
            click.echo("         error: " + e.error.strip().splitlines()[0])
        if e.properties.get("skipped"):
            click.echo(f"         skipped: {e.properties['skipped']}")
        if e.properties.get("log"):
            click.echo(f"         log: {e.properties['log']}")
    ran = {e.node_id for e in execs}
    not_run = [n.id for n in load_run_ir(reader.md, run_id).nodes if n.id not in ran]
    if not_run:
        click.echo(f"  not run (an upstream node failed, or the run stopped): {', '.join(not_run)}")


class _ArtifactId(click.ParamType):
    """An artifact id, as `runs show` prints it (#11) or bare (11)."""

    name = "ARTIFACT_ID"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        text = str(value).strip().lstrip("#")
        if not text.isdigit():
            self.fail(f"{value!r} is not an artifact id (a number such as 11 or #11, as `runs show` prints).")
        return int(text)


@main.command()
@click.argument("artifact_id", type=_ArtifactId())
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
def lineage(artifact_id: int, metadata: str | None, pipeline_file: str | None) -> None:
    """Show the upstream lineage of an artifact."""
    from headrace.metadata import LineageNode, MetadataReader

    tree = MetadataReader(_metadata(metadata, pipeline_file)).lineage(artifact_id)

    def show(node: LineageNode, indent: int) -> None:
        a = node.artifact
        pad = "  " * indent
        click.echo(f"{pad}{a.type_name} #{a.id} [{a.state}] {a.uri}")
        if node.producer is not None:
            p = node.producer
            click.echo(f"{pad}  <- {p.node_id} (execution #{p.id}, {p.state}, run {p.properties.get('run_id', '?')})")
            for child in node.inputs:
                show(child, indent + 2)

    show(tree, 0)


_REPORT = "report.html"  # where components write an artifact's HTML report (headrace.components.report)
_LISTED_FILES = 20


@main.command(name="show")
@click.argument("artifact_id", type=_ArtifactId())
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
@click.option("--open", "open_report", is_flag=True, help="Open the artifact's HTML report in a web browser.")
def show_command(artifact_id: int, metadata: str | None, pipeline_file: str | None, open_report: bool) -> None:
    """Show an artifact: type, URI, state, properties, and its HTML report if it has one."""
    from headrace.metadata import MetadataReader

    a = MetadataReader(_metadata(metadata, pipeline_file)).artifact(artifact_id)
    click.echo(f"{a.type_name} #{a.id} [{a.state}]")
    click.echo(f"  uri: {a.uri}")
    for label, props in (("properties", a.properties), ("custom properties", a.custom_properties)):
        if props:
            click.echo(f"  {label}:")
            for key in sorted(props):
                click.echo(f"    {key}: {_shown(props[key])}")
    report = os.path.join(a.uri, _REPORT)
    if os.path.isfile(report):
        url = _file_url(report)
        click.echo(f"  report: {url}")
        if open_report:
            import webbrowser

            if not webbrowser.open(url):
                raise UserError(f"No web browser found to open the report: open {url} yourself.")
        return
    if not os.path.isdir(a.uri):
        click.echo(f"  no report: {a.uri} is not a directory on this machine")
    else:
        files = _files_under(a.uri)
        click.echo(f"  no report ({_REPORT}) in its directory; " + ("its files:" if files else "it is empty"))
        for path in files[:_LISTED_FILES]:
            click.echo(f"    {path}")
        if len(files) > _LISTED_FILES:
            click.echo(f"    ... and {len(files) - _LISTED_FILES} more")
    if open_report:
        raise UserError(f"Artifact #{a.id} has no report to open (no {_REPORT} in {a.uri}).")


@main.group()
def models() -> None:
    """Pushed models: their versions, and rolling back to an earlier one."""


@models.command(name="list")
@click.argument("name", required=False)
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_list(name: str | None, metadata: str | None, pipeline_file: str | None, as_json: bool) -> None:
    """List the pushed versions of each model (or of model NAME), oldest first; '*' marks the
    version TensorFlow Serving serves (the highest on disk)."""
    import dataclasses

    from headrace.model_registry import pushed_versions

    found = pushed_versions(_metadata(metadata, pipeline_file), name)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(p) for p in found], indent=2))
        return
    if not found:
        click.echo(f"no pushes of model '{name}'" if name else "no pushed models")
        return
    click.echo(f"  {'MODEL':<16} {'VERSION':>10} {'PUSHED AT':<19} {'BLESSED':<14} {'RUN':<22} DESTINATION")
    for p in found:
        blessed = f"rollback of {p.rollback_of}" if p.rollback_of is not None else _verdict(p.blessed)
        mark = "*" if p.serving else " "
        gone = "" if p.on_disk else "  (removed)"
        click.echo(
            f"{mark} {p.model_name:<16} {p.version:>10} {_time(p.pushed_ms):<19} {blessed:<14} {p.run_id or '-':<22} "
            f"{p.destination}{gone}"
        )


_INTERNAL = {"node_id", "run_id", "pipeline_name", "log", "attempt", "error", "cache_key"}


@models.command(name="show")
@click.argument("name")
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_show(name: str, metadata: str | None, pipeline_file: str | None, as_json: bool) -> None:
    """Show model NAME: each pushed version with its blessings and evaluation, the run and the
    data it came from (lineage), and which version serves now."""
    import dataclasses

    from headrace.metadata import MetadataReader
    from headrace.model_registry import pushed_versions, serving_version

    md = _metadata(metadata, pipeline_file)
    found = pushed_versions(md, name)
    if not found:
        known = sorted({p.model_name for p in pushed_versions(md)})
        raise UserError(
            f"No pushes of model '{name}' in {md.describe()}."
            + (f" Models pushed: {', '.join(known)}." if known else "")
        )
    reader = MetadataReader(md)
    trees = [reader.lineage(p.artifact_id, max_depth=4) for p in found]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {**dataclasses.asdict(p), "lineage": dataclasses.asdict(t)}
                    for p, t in zip(found, trees, strict=True)
                ],
                indent=2,
            )
        )
        return
    for model_dir in dict.fromkeys(p.model_dir for p in found):
        served = serving_version(model_dir)
        shown = f"version {served} (the highest there)" if served is not None else "nothing (no version on disk)"
        click.echo(f"model '{name}' in {model_dir}: TensorFlow Serving serves {shown}")
    for p, tree in zip(found, trees, strict=True):
        mark = "*" if p.serving else " "
        gone = "" if p.on_disk else " (removed from disk)"
        click.echo(f"{mark} version {p.version}{gone}: pushed {_time(p.pushed_ms)} to {p.destination}")
        producer = tree.producer
        if p.rollback_of is not None:
            props = producer.properties if producer is not None else {}
            by = f" by {props['user']}" if props.get("user") else ""
            why = f": {props['reason']}" if props.get("reason") else ""
            execution = f"execution #{producer.id}" if producer is not None else "no execution recorded"
            click.echo(f"    rollback to version {p.rollback_of}{by} ({execution}){why}")
            continue
        click.echo(f"    run {p.run_id or '-'}, {_verdict(p.blessed)}")
        for child in tree.inputs:
            _show_input(child, 4, producer)


def _show_input(node: Any, indent: int, consumer: Any) -> None:
    """An input artifact of a push and, upstream, what made it (the model's trainer and data)."""
    a, pad = node.artifact, " " * indent
    keys = [k for k, arts in consumer.inputs.items() if any(x.id == a.id for x in arts)] if consumer else []
    label = f"{keys[0]}: " if keys else ""
    props = {k: v for k, v in a.custom_properties.items() if k not in ("state", "name", "producer_component")}
    extra = "".join(f" {k}={_shown(v)}" for k, v in sorted(props.items()))[:300]
    click.echo(f"{pad}{label}{a.type_name} #{a.id} {a.uri}{extra}")
    p = node.producer
    if p is None:
        return
    params = {k: v for k, v in p.properties.items() if k not in _INTERNAL}
    shown = "".join(f" {k}={_shown(v)}" for k, v in sorted(params.items()))[:300]
    click.echo(f"{pad}  <- {p.node_id} (execution #{p.id}, run {p.properties.get('run_id', '?')}){shown}")
    for key, arts in p.outputs.items():
        for out in arts:
            if out.id != a.id and out.type_name == "ModelEvaluation":
                metrics = "".join(f" {k}={_shown(v)}" for k, v in sorted(out.custom_properties.items()))[:300]
                click.echo(f"{pad}     {key}: ModelEvaluation #{out.id} {out.uri}{metrics}")
    for child in node.inputs:
        _show_input(child, indent + 4, p)


def _verdict(blessed: bool | None) -> str:
    return "no blessing" if blessed is None else "blessed" if blessed else "NOT blessed"


@models.command(name="rollback")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=0))
@click.option(
    "--base-directory",
    help="The Pusher's push destination (default: where the model's latest recorded push went).",
)
@click.option("--reason", default="", help="Why (kept in ML Metadata with the rollback).")
@click.option("--metadata", help=_METADATA_HELP)
@click.option("--pipeline", "pipeline_file", help="Use this pipeline file's store.")
def models_rollback(
    name: str,
    version: int,
    base_directory: str | None,
    reason: str,
    metadata: str | None,
    pipeline_file: str | None,
) -> None:
    """Serve VERSION of model NAME again: copies it to a new highest version (TensorFlow Serving
    serves the highest) and records the rollback in ML Metadata."""
    from headrace.model_registry import rollback

    done = rollback(base_directory, name, version, metadata=_metadata(metadata, pipeline_file), reason=reason)
    click.echo(
        f"model '{done.model_name}': version {done.version} is a copy of version {done.rollback_of} and is now served "
        f"(was version {done.previous_version}): {done.destination}"
    )


def _shown(value: Any) -> str:
    """A property as one line: strings as they are, the rest as JSON (as close to what was stored)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _file_url(path: str) -> str:
    import pathlib

    return pathlib.Path(os.path.abspath(path)).as_uri()


def _files_under(top: str) -> list[str]:
    """Files under `top`, relative to it, sorted (directories as 'name/' when empty)."""
    found = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        rel = os.path.relpath(root, top)
        found += [os.path.normpath(os.path.join(rel, f)) for f in sorted(files)]
        if not dirs and not files and rel != ".":
            found.append(rel + "/")
    return found


def _time(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


def _duration(start_ms: int, end_ms: int) -> str:
    return f"{(end_ms - start_ms) / 1000:.2f}s" if start_ms and end_ms and end_ms >= start_ms else "-"


if __name__ == "__main__":
    main()
