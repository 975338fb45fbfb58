"""`headrace runs`: list, show and compare runs."""

from __future__ import annotations

import json

import click

from headrace.cli.common import duration, metadata_store, store_options, when
from headrace.cli.loader import UserError


@click.group()
def runs() -> None:
    """List and inspect runs."""


@runs.command(name="list")
@store_options
@click.option("--name", help="Only runs of this pipeline name.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output: a list of runs, each with the fields of headrace.metadata.RunInfo.",
)
def runs_list(metadata: str | None, pipeline_file: str | None, name: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    from headrace.metadata import MetadataReader

    found = MetadataReader(metadata_store(metadata, pipeline_file)).runs(name)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in found], indent=2))
        return
    if not found:
        click.echo("no runs")
        return
    click.echo(f"{'RUN ID':<22} {'PIPELINE':<20} {'STATE':<9} {'STARTED':<19} DURATION")
    for r in found:
        click.echo(
            f"{r.run_id:<22} {r.pipeline_name:<20} {r.state:<9} {when(r.started_ms):<19} "
            + (f"{r.seconds:.2f}s" if r.seconds is not None else "-")
        )


@runs.command(name="compare")
@click.argument("run_ids", nargs=-1)
@store_options
@click.option("--name", "pipeline_name", help="Compare the latest runs of this pipeline (with --last) instead.")
@click.option("--last", type=click.IntRange(2, 500), default=10, show_default=True, help="With --name: how many.")
@click.option("--plot", is_flag=True, help="Also plot each output number over the runs, oldest first.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="json: for scripts.")
@click.option("--diff", "only_differences", is_flag=True, help="Only the rows that differ.")
def runs_compare(
    run_ids: tuple[str, ...],
    metadata: str | None,
    pipeline_file: str | None,
    pipeline_name: str | None,
    last: int,
    plot: bool,
    fmt: str,
    only_differences: bool,
) -> None:
    """Compare runs side by side: parameters, code, states, metrics (differences marked); --plot draws
    each metric over the runs (with --name P: the experiment-tracking view of P's latest runs)."""
    from headrace.cli.compare import compare, render
    from headrace.cli.compare import plot as plot_table
    from headrace.metadata import MetadataReader

    md = metadata_store(metadata, pipeline_file)
    reader = MetadataReader(md)
    if pipeline_name is not None:
        if run_ids:
            raise UserError("Give run ids, or --name PIPELINE for its latest runs, not both.")
        found, _more = reader.runs_page(pipeline_name, None, limit=last)
        if len(found) < 2:
            raise UserError(
                f"Pipeline '{pipeline_name}' has {len(found)} run(s) in {md.describe()}: nothing to compare."
            )
        run_ids = tuple(r.run_id for r in reversed(found))  # oldest first
    if len(run_ids) < 2:
        raise UserError("Give at least two run ids to compare (headrace runs list shows them), or --name PIPELINE.")
    if plot:  # oldest first, so the plot reads left to right
        run_ids = tuple(sorted(run_ids, key=lambda r: (reader.run(r).started_ms, reader.run(r).context_id)))
    table = compare(md, list(run_ids))
    if fmt == "json":
        click.echo(json.dumps(table, indent=2, default=str))
        return
    click.echo(render(table, only_differences))
    if plot:
        click.echo(plot_table(table))


@runs.command(name="show")
@click.argument("run_id")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def runs_show(run_id: str, metadata: str | None, pipeline_file: str | None, as_json: bool) -> None:
    """Show a run: its executions with states, times, inputs and outputs."""
    import dataclasses

    from headrace.launcher import load_run_ir
    from headrace.metadata import MetadataReader

    reader = MetadataReader(metadata_store(metadata, pipeline_file))
    info = reader.run(run_id)
    execs = reader.executions(run_id)
    if as_json:
        click.echo(json.dumps({"run": info.__dict__, "executions": [dataclasses.asdict(e) for e in execs]}, indent=2))
        return
    click.echo(
        f"run {info.run_id} of '{info.pipeline_name}': {info.state}, started {when(info.started_ms)}, "
        f"took {f'{info.seconds:.2f}s' if info.seconds is not None else '-'}"
    )
    if info.trigger:
        click.echo(f"  why: {info.trigger_text}")
    if info.parameters:
        click.echo("  parameters: " + ", ".join(f"{k}={v!r}" for k, v in sorted(info.parameters.items())))
    for e in execs:
        click.echo(f"  #{e.id:<5} {e.node_id:<24} {e.state:<9} {duration(e.create_time_ms, e.update_time_ms):>8}")
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


COMMANDS = [runs]
