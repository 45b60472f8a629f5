"""The config: `refbot init` writes a starter one, `refbot config check` checks one."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot import checks, connections, default_config
from bot import config as config_module
from bot.cli.base import Context, cli, pass_ctx
from bot.db import open_database
from bot.errors import BadInput, ConfigError, RefbotError
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


class ConnectionProblems(RefbotError):
    """`config check --connect` found that a server refuses what the config asks of it."""


@config_group.command("check")
@click.option("--connect", is_flag=True, help="Also log in to the IMAP and SMTP servers and check the folders.")
@pass_ctx
def config_check(ctx: Context, connect: bool) -> None:
    """Validate the config and every template, warn about what will fail at run time, and
    print the routing table; with --connect, also log in to the mail servers and report the
    folders and capabilities refbot will use there (exit 1 on any problem)."""
    try:
        config = ctx.config
    except ConfigError as exc:
        if len(exc.problems) == 1:
            raise
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise BadInput(f"{ctx.path}: {len(exc.problems)} problems, listed above") from None
    templates = Renderer.for_config(config).check()
    if templates:
        for problem in templates:
            click.echo(f"templates: {problem}", err=True)
        raise BadInput(f"templates: {len(templates)} problem{'s' if len(templates) > 1 else ''}, listed above")
    found = checks.warnings(config, os.environ)
    for warning in found:
        click.echo(f"warning: {warning}", err=True)
    verdict = f"valid, with {len(found)} warning{'s' if len(found) > 1 else ''}" if found else "OK"
    count = len(config.partners)
    click.echo(f"{ctx.path}: {verdict} ({count} partner{'s' if count != 1 else ''})")
    for partner in config.partners:
        for profile in partner.profiles:
            where = ", ".join(profile.locations) or "every location"
            team = f" team {', '.join(profile.team)}" if profile.team else ""
            click.echo(f"  {profile.region:<4} {where:<28} -> {partner.id} <{profile.contact}>{team} "
                       f"[{profile.locale}, {profile.currency}]")
    if connect:
        report = connections.check(config)
        for line in report.lines:
            click.echo(line)
        for problem in report.problems:
            click.echo(f"problem: {problem}", err=True)
        if report.problems:
            count = len(report.problems)
            raise ConnectionProblems(f"--connect: {count} problem{'s' if count > 1 else ''}, listed above")
        click.echo("connect: OK")
