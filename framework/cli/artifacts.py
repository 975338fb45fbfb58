"""`headrace lineage` and `headrace show`: an artifact, where it came from, its report."""

from __future__ import annotations

import os

import click

from headrace.cli.common import ArtifactId, metadata_store, shown, store_options
from headrace.cli.loader import UserError


@click.command()
@click.argument("artifact_id", type=ArtifactId())
@store_options
def lineage(artifact_id: int, metadata: str | None, pipeline_file: str | None) -> None:
    """Show the upstream lineage of an artifact."""
    from headrace.metadata import LineageNode, MetadataReader

    tree = MetadataReader(metadata_store(metadata, pipeline_file)).lineage(artifact_id)

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


_REPORT = "report.html"  # where components write an artifact's HTML report (headrace.components.reports)
_LISTED_FILES = 20


@click.command(name="show")
@click.argument("artifact_id", type=ArtifactId())
@store_options
@click.option("--open", "open_report", is_flag=True, help="Open the artifact's HTML report in a web browser.")
def show_command(artifact_id: int, metadata: str | None, pipeline_file: str | None, open_report: bool) -> None:
    """Show an artifact: type, URI, state, properties, and its HTML report if it has one."""
    from headrace.metadata import MetadataReader

    a = MetadataReader(metadata_store(metadata, pipeline_file)).artifact(artifact_id)
    click.echo(f"{a.type_name} #{a.id} [{a.state}]")
    click.echo(f"  uri: {a.uri}")
    for label, props in (("properties", a.properties), ("custom properties", a.custom_properties)):
        if props:
            click.echo(f"  {label}:")
            for key in sorted(props):
                click.echo(f"    {key}: {shown(props[key])}")
    if os.path.isfile(a.uri):  # a value artifact: its URI is the value's file, as TFX lays it out
        click.echo(f"  file: {os.path.getsize(a.uri)} bytes (the value's file; no report)")
        if open_report:
            raise UserError(f"Artifact #{a.id} has no report to open ({a.uri} is a file).")
        return
    report = os.path.join(a.uri, _REPORT)
    if not os.path.isfile(report) and os.path.isdir(a.uri):
        report = _rebuilt_report(a.type_name, a.id, a.uri) or report
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


def _rebuilt_report(type_name: str, artifact_id: int, uri: str) -> str | None:
    """For a data artifact written without a report (by TFX, say): its page rebuilt from its files, in a
    temporary folder (the artifact's own folder is never written), or None."""
    import tempfile

    from headrace.components.reports import rebuild, write_report

    try:
        html = rebuild(type_name, uri)
    except Exception:  # noqa: BLE001 - missing or unreadable files: the files are listed instead
        return None
    if html is None:
        return None
    folder = os.path.join(tempfile.gettempdir(), "headrace-reports", str(artifact_id))
    click.echo("  (no report.html in its folder: rebuilt from its files)")
    return write_report(folder, html)


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


COMMANDS = [lineage, show_command]
