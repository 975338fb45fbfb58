"""`headrace schedule`: a pipeline's runs started by a schedule or by new data (see
headrace.orchestrators.scheduler)."""

from __future__ import annotations

import signal
from typing import Any

import click

from headrace.cli.common import METADATA_HELP
from headrace.cli.loader import UserError, load_pipeline
from headrace.errors import DefinitionError


@click.command(name="schedule")
@click.argument("pipeline_file")
@click.option(
    "--cron", help="A cron expression in local time: five fields ('0 3 * * *', '0 9 * * MON-FRI') or @daily, @hourly."
)
@click.option("--every", help="An interval: 90, 30s, 5m, 2h, 1d.")
@click.option("--on-new-data", is_flag=True, help="Start a run when the files the pipeline reads change.")
@click.option("--metadata", help=METADATA_HELP)
@click.option("--debounce", type=click.FloatRange(0), default=1.0, show_default=True, help="Seconds files stay still.")
def schedule(
    pipeline_file: str, cron: str | None, every: str | None, on_new_data: bool, metadata: str | None, debounce: float
) -> None:
    """Run PIPELINE_FILE by a schedule (--cron or --every) or when its input data changes (--on-new-data),
    in the foreground, one run at a time; each run records why it started. Stop with Ctrl-C or SIGTERM:
    a run in progress goes on, and the next start waits for it or resumes it."""
    from headrace.compiler import compile_pipeline
    from headrace.orchestrators.scheduler import Cron, Scheduler, Trigger, parse_every

    if sum(x is not None and x is not False for x in (cron, every, on_new_data or None)) != 1:
        raise UserError("Give one of --cron EXPR, --every DURATION or --on-new-data.")
    try:
        if cron is not None:
            trigger = Trigger("cron", cron=Cron(cron))
        elif every is not None:
            trigger = Trigger("every", every_s=parse_every(every))
        else:
            trigger = Trigger("on-new-data")
    except DefinitionError as e:
        raise UserError(str(e)) from None
    ir = compile_pipeline(load_pipeline(pipeline_file))
    if trigger.kind == "on-new-data" and not any(n.file_inputs for n in ir.nodes):
        raise UserError(
            f"Pipeline '{ir.pipeline_name}' reads no files from outside the store (no ExampleGen input_base): "
            "--on-new-data has nothing to watch. Use --cron or --every."
        )
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    what = f"cron '{cron}'" if cron else f"every {every}" if every else "new data"
    click.echo(f"headrace schedule: {ir.pipeline_name} on {what}; Ctrl-C stops", err=True)
    Scheduler(pipeline_file, ir, trigger, metadata, debounce_s=debounce, say=lambda m: click.echo(m, err=True)).serve(
        lambda: bool(stopping)
    )
    click.echo("headrace schedule: stopped", err=True)


COMMANDS = [schedule]
