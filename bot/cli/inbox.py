"""The inbound mailbox: `refbot inbox poll`, and the mail held for an admin: `inbox review`,
`inbox release`."""

from __future__ import annotations

from datetime import datetime

import click

from bot.cli.base import Context, StreamedJson, cli, emit, pass_ctx
from bot.cli.daemon import print_pass, processed_line, summary_line
from bot.clock import iso, local_time, utcnow
from bot.db import transaction
from bot.inbound import held

REVIEW_LIMIT = 500  # the newest; the dashboard's /inbox pages through all of them


@cli.group()
def inbox() -> None:
    """The inbound mailbox."""


@inbox.command("poll")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def inbox_poll(ctx: Context, as_json: bool) -> None:
    """Process everything waiting in the inbound folder once, then send what that queued."""
    from bot.runner import Runner, one_json

    if ctx.app.config.inbound.transport != "imap":
        # Nothing waits anywhere: the embedded server hands each reply over as it arrives.
        click.echo("refbot: inbound.transport is \"smtp\": `refbot run` processes replies as they arrive; "
                   "nothing to poll", err=True)
    # Each message is printed as it is done, not kept for the end: an inbox of any size
    # polls in the same memory. The output is what `emit` would print of the whole list.
    streamed = StreamedJson("processed") if as_json else None
    count = 0

    def each(p) -> None:
        nonlocal count
        count += 1
        if streamed:
            streamed.item(one_json(p))
        else:
            click.echo(processed_line(one_json(p)))

    runner = Runner(ctx.app)
    try:
        runner.poll_inbox(each)
    finally:
        runner.close()
    sent = runner.send()
    if streamed:
        streamed.end({"sent": sent})
    else:
        click.echo(summary_line(count, sent))


@inbox.command("review")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def inbox_review(ctx: Context, as_json: bool) -> None:
    """Mail held for an admin (failed authentication, refused senders and forged tokens, uncorrelated,
    unreadable), newest first."""
    app = ctx.reader
    with transaction(app.engine) as session:
        rows = [{"id": r.id, "received_at": iso(r.received_at), "sender": r.sender, "subject": held.subject(r),
                 "outcome": r.outcome, "detail": r.detail, "message_id": r.message_id, "source": r.source,
                 "releasable": r.raw is not None} for r in held.held(session, limit=REVIEW_LIMIT)]
    tz = app.config.bot.timezone

    def human(data: list) -> None:
        for r in data:
            when = local_time(datetime.fromisoformat(r["received_at"]), tz)
            click.echo(f"{r['id']:>6}  {when}  {r['outcome']:<15} {r['sender'] or '(no sender)'}")
            click.echo(f"        {r['subject'] or '(no subject)'}")
            click.echo(f"        {r['detail']}" + ("" if r["releasable"] else "  [not kept: cannot be released]"))
        click.echo(f"{len(data)} held" + (" (`refbot inbox release ID` processes one again)" if data else ""))

    emit(rows, as_json, human)


@inbox.command("release")
@click.argument("row_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def inbox_release(ctx: Context, row_id: int, as_json: bool) -> None:
    """Process held message ID as if it had just arrived (you vouch for its sender), then send
    what that queued."""
    from bot.runner import processed_json

    app = ctx.existing
    now = utcnow()
    done = held.release(app, row_id, now=now)
    sent = len(app.send(now=now).sent)
    emit({"processed": processed_json([done]), "sent": sent}, as_json, print_pass)
