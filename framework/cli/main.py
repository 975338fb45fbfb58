"""The `headrace` command line: the group, and its commands from one module per command group."""

from __future__ import annotations

from typing import Any

import click

from headrace.cli import artifacts, models, run, runs, schedule, task, ui
from headrace.errors import HeadraceError


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


for _module in (run, runs, artifacts, models, schedule, task, ui):
    for _command in _module.COMMANDS:
        main.add_command(_command)


if __name__ == "__main__":
    main()
