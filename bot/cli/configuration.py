"""The config: `refbot init` writes a starter one, `refbot config check` checks one."""

from __future__ import annotations

from pathlib import Path

import click

from bot import config as config_module
from bot import default_config
from bot.cli.base import Context, cli, pass_ctx
from bot.db import open_database
from bot.errors import BadInput
from bot.outbound.render import Renderer


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Write a starter config.toml into DIRECTORY and create the database."""
    path = directory / "config.toml"
    if path.exists():
        raise BadInput(f"{path} exists already; edit it, or choose another directory")
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(default_config.CONFIG, encoding="utf-8")
    config = config_module.load(path)
    open_database(config).dispose()
    click.echo(f"Wrote {path} and created the database {config.database_url}.")
    click.echo("Next: edit the partners in it, then `refbot --config " + str(path) + " config check`.")


@cli.group("config")
def config_group() -> None:
    """The config file."""


@config_group.command("check")
@pass_ctx
def config_check(ctx: Context) -> None:
    """Validate the config and every template, and print the routing table."""
    config = ctx.config
    problems = Renderer.for_config(config).check()
    if problems:
        raise BadInput(f"templates: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    click.echo(f"{ctx.path}: OK ({len(config.partners)} partners)")
    for partner in config.partners:
        for profile in partner.profiles:
            where = ", ".join(profile.locations) or "every location"
            team = f" team {', '.join(profile.team)}" if profile.team else ""
            click.echo(f"  {profile.region:<4} {where:<28} -> {partner.id} <{profile.contact}>{team} "
                       f"[{profile.locale}, {profile.currency}]")
