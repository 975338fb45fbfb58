"""`headrace models`: pushed models, their versions, and rolling back."""

from __future__ import annotations

import json
from typing import Any

import click

from headrace.cli.common import metadata_store, shown, store_options, when
from headrace.cli.loader import UserError


@click.group()
def models() -> None:
    """Pushed models: their versions, and rolling back to an earlier one."""


@models.command(name="list")
@click.argument("name", required=False)
@store_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_list(name: str | None, metadata: str | None, pipeline_file: str | None, as_json: bool) -> None:
    """List the pushed versions of each model (or of model NAME), oldest first; '*' marks the
    version TensorFlow Serving serves (the highest on disk)."""
    import dataclasses

    from headrace.components.serving.model_registry import pushed_versions

    found = pushed_versions(metadata_store(metadata, pipeline_file), name)
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
            f"{mark} {p.model_name:<16} {p.version:>10} {when(p.pushed_ms):<19} {blessed:<14} {p.run_id or '-':<22} "
            f"{p.destination}{gone}"
        )


_INTERNAL = {"node_id", "run_id", "pipeline_name", "log", "attempt", "error", "cache_key"}


@models.command(name="show")
@click.argument("name")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_show(name: str, metadata: str | None, pipeline_file: str | None, as_json: bool) -> None:
    """Show model NAME: each pushed version with its blessings and evaluation, the run and the
    data it came from (lineage), and which version serves now."""
    import dataclasses

    from headrace.components.serving.model_registry import pushed_versions, serving_version
    from headrace.metadata import MetadataReader

    md = metadata_store(metadata, pipeline_file)
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
        from headrace.metadata.model_aliases import current_aliases

        now = current_aliases(md, name)
        click.echo(
            json.dumps(
                [
                    {
                        **dataclasses.asdict(p),
                        "aliases": sorted(a for a, c in now.items() if c.version == p.version and p.on_disk),
                        "lineage": dataclasses.asdict(t),
                    }
                    for p, t in zip(found, trees, strict=True)
                ],
                indent=2,
            )
        )
        return
    for model_dir in dict.fromkeys(p.model_dir for p in found):
        served = serving_version(model_dir)
        serves = f"version {served} (the highest there)" if served is not None else "nothing (no version on disk)"
        click.echo(f"model '{name}' in {model_dir}: TensorFlow Serving serves {serves}")
    _show_aliases(md, name)
    for p, tree in zip(found, trees, strict=True):
        mark = "*" if p.serving else " "
        gone = "" if p.on_disk else " (removed from disk)"
        click.echo(f"{mark} version {p.version}{gone}: pushed {when(p.pushed_ms)} to {p.destination}")
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
    extra = "".join(f" {k}={shown(v)}" for k, v in sorted(props.items()))[:300]
    click.echo(f"{pad}{label}{a.type_name} #{a.id} {a.uri}{extra}")
    p = node.producer
    if p is None:
        return
    params = {k: v for k, v in p.properties.items() if k not in _INTERNAL}
    settings = "".join(f" {k}={shown(v)}" for k, v in sorted(params.items()))[:300]
    click.echo(f"{pad}  <- {p.node_id} (execution #{p.id}, run {p.properties.get('run_id', '?')}){settings}")
    for key, arts in p.outputs.items():
        for out in arts:
            if out.id != a.id and out.type_name == "ModelEvaluation":
                metrics = "".join(f" {k}={shown(v)}" for k, v in sorted(out.custom_properties.items()))[:300]
                click.echo(f"{pad}     {key}: ModelEvaluation #{out.id} {out.uri}{metrics}")
    for child in node.inputs:
        _show_input(child, indent + 4, p)


def _show_aliases(md: Any, name: str) -> None:
    """The aliases set now, and every alias change (who, when, why)."""
    from headrace.metadata.model_aliases import alias_history, current_aliases

    now = current_aliases(md, name)
    if not now:
        return
    click.echo("aliases: " + ", ".join(f"{alias} = version {c.version}" for alias, c in now.items()))
    click.echo("alias history:")
    for c in alias_history(md, name):
        moved = f"-> version {c.version}" if c.version is not None else "removed"
        was = f" (was {c.previous})" if c.previous is not None else ""
        by = f" by {c.user}" if c.user else ""
        why = f": {c.reason}" if c.reason else ""
        click.echo(f"  {when(c.at_ms)} {c.alias} {moved}{was}{by}{why}")


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
@store_options
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
    from headrace.components.serving.model_registry import rollback

    done = rollback(base_directory, name, version, metadata=metadata_store(metadata, pipeline_file), reason=reason)
    click.echo(
        f"model '{done.model_name}': version {done.version} is a copy of version {done.rollback_of} and is now served "
        f"(was version {done.previous_version}): {done.destination}"
    )


def _registry_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A registry operation; its refusals (no such version, a gate that says no) are user errors."""
    from headrace.components.serving.model_registry import ModelRegistryError

    try:
        return fn(*args, **kwargs)
    except ModelRegistryError as e:
        raise UserError(str(e)) from None


@models.command(name="alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=click.IntRange(min=0), required=False)
@click.option("--remove", is_flag=True, help="Unset ALIAS instead (no VERSION).")
@click.option("--base-directory", help="The Pusher's push destination (default: where the latest push went).")
@click.option("--reason", default="", help="Why (kept in ML Metadata with the change).")
@store_options
def models_alias(
    name: str,
    alias: str,
    version: int | None,
    remove: bool,
    base_directory: str | None,
    reason: str,
    metadata: str | None,
    pipeline_file: str | None,
) -> None:
    """Point ALIAS (champion, challenger, or any name) of model NAME at VERSION, or --remove it; the
    TF Serving config and KServe manifest in the model directory follow."""
    from headrace.components.serving import aliases

    md = metadata_store(metadata, pipeline_file)
    if remove == (version is not None):
        raise UserError("Give VERSION, or --remove without a VERSION.")
    if remove:
        _registry_call(aliases.remove_alias, md, name, alias, base_directory, reason)
        click.echo(f"model '{name}': alias '{alias}' removed")
    else:
        change = _registry_call(aliases.set_alias, md, name, alias, version, base_directory, reason)
        was = f" (was version {change.previous})" if change.previous is not None else ""
        click.echo(f"model '{name}': {alias} -> version {version}{was}")


@models.command(name="promote")
@click.argument("name")
@click.argument("version")
@click.option("--soak", default="0", help="Gate: VERSION must have been the challenger this long (3600, 30m, 2h, 1d).")
@click.option("--no-require-blessing", is_flag=True, help="Gate: promote a push that was not blessed too.")
@click.option("--base-directory", help="The Pusher's push destination (default: where the latest push went).")
@click.option("--reason", default="", help="Why (kept in ML Metadata with the change).")
@store_options
def models_promote(
    name: str,
    version: str,
    soak: str,
    no_require_blessing: bool,
    base_directory: str | None,
    reason: str,
    metadata: str | None,
    pipeline_file: str | None,
) -> None:
    """Make VERSION of model NAME the champion, through the gate: the push was blessed and, with
    --soak, it has been the challenger that long. VERSION is a number or an alias ('challenger': from
    cron, `headrace models promote NAME challenger --soak 1d` promotes the challenger once it has
    soaked). The change (who, when, why) is recorded."""
    from headrace.components.serving import aliases

    store = metadata_store(metadata, pipeline_file)
    number = int(version) if version.isdigit() else _registry_call(aliases.aliased_version, store, name, version)
    change = _registry_call(
        aliases.promote,
        store,
        name,
        number,
        base_directory,
        reason,
        require_blessing=not no_require_blessing,
        soak_seconds=_seconds(soak),
    )
    was = f" (was version {change.previous})" if change.previous is not None else ""
    click.echo(f"model '{name}': champion -> version {number}{was}; {change.reason}")


def _seconds(text: str) -> float:
    """'3600', '30m', '2h', '1d' as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(value) * units[unit]
    except ValueError:
        seconds = -1
    if not seconds >= 0:
        raise UserError(f"--soak {text!r} is not a duration: give seconds or a number with s, m, h or d (30m, 2h).")
    return seconds


COMMANDS = [models]
