"""The inbound mailbox: `refbot inbox poll`."""

from __future__ import annotations

import click

from bot.cli.base import Context, cli, emit, pass_ctx
from bot.cli.daemon import print_pass


@cli.group()
def inbox() -> None:
    """The inbound mailbox."""


@inbox.command("poll")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def inbox_poll(ctx: Context, as_json: bool) -> None:
    """Process everything waiting in the inbound folder once, then send what that queued."""
    from bot.runner import Runner, processed_json

    if ctx.app.config.inbound.transport != "imap":
        # Nothing waits anywhere: the embedded server hands each reply over as it arrives.
        click.echo("refbot: inbound.transport is \"smtp\": `refbot run` processes replies as they arrive; "
                   "nothing to poll", err=True)
    runner = Runner(ctx.app)
    try:
        done = runner.poll_inbox()
    finally:
        runner.close()
    sent = runner.send()
    data = {"processed": processed_json(done), "sent": sent}
    emit(data, as_json, print_pass)
