"""The database: `refbot db upgrade`."""

from __future__ import annotations

import click

from bot.cli.base import Context, cli, pass_ctx
from bot.db import upgrade_database


@cli.group("db")
def db_group() -> None:
    """The database."""


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Bring the database schema up to date (back it up first)."""
    before, after = upgrade_database(ctx.config)
    if before == after:
        click.echo(f"The database schema is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database schema from revision {before or '(empty)'} to {after}.")
