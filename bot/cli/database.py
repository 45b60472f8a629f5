"""The database: `refbot db upgrade`, `refbot backup`."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.base import Context, cli, pass_ctx
from bot.db import backup, safe_url, upgrade_database


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


@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def backup_command(ctx: Context, file: Path) -> None:
    """Write a consistent copy of the SQLite database to FILE, also while refbot runs."""
    referrals = backup(ctx.config, file)
    click.echo(f"Copied {safe_url(ctx.config.database_url)} to {file} ({referrals} referrals); "
               "restore it by stopping refbot and putting it in the database's place.")
