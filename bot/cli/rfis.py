"""Requests for information from customers: `refbot rfi submit`."""

from __future__ import annotations

import click

from bot import rfi as rfi_module
from bot.cli.base import Context, cli, emit, pass_ctx
from bot.clock import utcnow
from bot.errors import BadInput


@cli.group()
def rfi() -> None:
    """Requests for information from customers."""


@rfi.command("submit")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def rfi_submit(ctx: Context, file, as_json: bool) -> None:
    """Route an RFI (JSON file, or - for stdin) to partners and send their emails."""
    name = getattr(file, "name", "-")
    source = "stdin" if name in ("-", "<stdin>") else name
    try:
        text = file.read()
    except UnicodeDecodeError:
        raise BadInput(f"{source}: not UTF-8 text") from None
    parsed = rfi_module.read(text, source=source)
    app = ctx.app
    now = utcnow()
    result = rfi_module.submit(app.engine, app.mailer, app.config, parsed, now=now)
    app.send(now=now)

    def human(data: dict) -> None:
        if not result.created:
            click.echo(f"{data['rfi_id']} was submitted before; nothing new was created.")
        for r in data["referrals"]:
            click.echo(f"{r['id']}  {r['partner']}  {r['contact']}")
        for u in data["unrouted"]:
            click.echo(f"not routed: {u['partner']}: {u['reason']}")

    emit(result.as_json(), as_json, human)
