"""Requests for information from customers: `refbot rfi submit`."""

from __future__ import annotations

import click

from bot import ranking
from bot import rfi as rfi_module
from bot.cli.base import Context, cli, emit, pass_ctx, progress_bar
from bot.clock import utcnow
from bot.errors import BadInput, RfiError


@cli.group()
def rfi() -> None:
    """Requests for information from customers."""


@rfi.command("submit")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (a list for several RFIs).")
@pass_ctx
def rfi_submit(ctx: Context, file, as_json: bool) -> None:
    """Route RFIs to partners and send their emails: FILE (or - for stdin) holds one RFI as a
    JSON object, a JSON array of them, or JSON lines. A bad RFI is reported with its line and
    the others are still taken; the exit status is 2 if any was refused."""
    name = getattr(file, "name", "-")
    source = "stdin" if name in ("-", "<stdin>") else name
    try:
        text = file.read()
    except UnicodeDecodeError:
        raise BadInput(f"{source}: not UTF-8 text") from None
    entries, several = rfi_module.read_file(text, source=source)
    if not several:
        if entries[0].error:
            raise RfiError(entries[0].error)
        app, now = ctx.app, utcnow()
        result = rfi_module.submit(app.engine, app.mailer, app.config, entries[0].rfi, now=now)
        app.send(now=now)
        emit(result.as_json(), as_json, lambda _: _print(result, with_rfi=False))
        return
    app, now = ctx.app, utcnow()
    window = ranking.Window()  # the ranking's history, read once for the whole file
    unseen = rfi_module.unseen(app.engine, [entry.rfi.rfi_id for entry in entries if entry.rfi])
    results: list[rfi_module.Submitted | dict] = []
    for entry in progress_bar("Routing RFIs")(entries):
        try:
            if entry.error:
                raise RfiError(entry.error)
            new = entry.rfi.rfi_id in unseen
            unseen.discard(entry.rfi.rfi_id)  # the same id again in the file is looked up
            results.append(rfi_module.submit(app.engine, app.mailer, app.config, entry.rfi, now=now, window=window,
                                             unseen=new))
        except RfiError as exc:
            error = str(exc) if entry.error else f"{source} line {entry.line}: {exc}"
            results.append({"line": entry.line, "rfi_id": entry.rfi_id, "error": error})
    app.send(now=now, progress=progress_bar("Sending"))
    emit([r if isinstance(r, dict) else r.as_json() for r in results], as_json,
         lambda _: [_print(r, with_rfi=True) for r in results])
    refused = sum(isinstance(r, dict) for r in results)
    if refused:
        listed = "" if as_json else ", listed above"
        raise BadInput(f"{source}: {refused} of {len(entries)} RFIs refused{listed}; the others were taken")


def _print(result: rfi_module.Submitted | dict, *, with_rfi: bool) -> None:
    if isinstance(result, dict):
        click.echo(f"refused: {result['error']}", err=True)
        return
    if not result.created:
        click.echo(f"{result.rfi_id} was submitted before; nothing new was created.")
    prefix = f"{result.rfi_id}  " if with_rfi and result.created else ""
    for r in result.referrals:
        click.echo(f"{prefix}{r.id}  {r.partner_id}  {r.contact}")
    for u in result.unrouted:
        click.echo(f"{prefix}not routed: {u.partner}: {u.reason}")
