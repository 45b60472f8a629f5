"""The outgoing mail queue: `refbot outbox list|flush|retry`."""

from __future__ import annotations

import click
from sqlmodel import select

from bot.cli.base import Context, cli, emit, pass_ctx, progress_bar
from bot.clock import iso, utcnow
from bot.db import transaction
from bot.errors import RefbotError
from bot.models import OutboundMessage
from bot.outbound import outbox
from bot.views import outbox_json


@cli.group("outbox")
def outbox_group() -> None:
    """The outgoing mail queue."""


@outbox_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox_list(ctx: Context, as_json: bool) -> None:
    """Every message in the outbox, newest last."""
    with transaction(ctx.reader.engine) as session:
        rows = [outbox_json(r) for r in session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()]

    def human(data: list) -> None:
        for r in data:
            error = f"  ({r['last_error']})" if r["last_error"] else ""
            held = f"  (held until {r['not_before']}: UNDO may still cancel it)" if (
                r["status"] == "queued" and r["not_before"] and r["not_before"] > iso(utcnow())) else ""
            click.echo(f"{r['id']:>5}  {r['status']:<6}  {r['attempts']} tries  {r['to']:<32} {r['subject']}{error}{held}")
        if not data:
            click.echo("The outbox is empty.")

    emit(rows, as_json, human)


def _delivery_json(delivery: outbox.Delivery) -> dict:
    return {"sent": delivery.sent, "retrying": delivery.retrying, "failed": delivery.failed}


def _delivery_human(data: dict) -> None:
    click.echo(f"sent: {len(data['sent'])}, waiting for retry: {len(data['retrying'])}, failed: {len(data['failed'])}")


@outbox_group.command("flush")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox_flush(ctx: Context, as_json: bool) -> None:
    """Try every unsent message now (failed ones too), whatever its backoff; exit 1 if any is still unsent."""
    app, now = ctx.existing, utcnow()
    with transaction(app.engine) as session:
        outbox.requeue_failed(session, now=now)
    delivery = app.send(now=now, force=True, progress=progress_bar("Sending"))
    emit(_delivery_json(delivery), as_json, _delivery_human)
    with transaction(app.engine) as session:
        unsent = outbox.unsent(session)
    if unsent:
        raise RefbotError(f"{len(unsent)} message{'s are' if len(unsent) > 1 else ' is'} still unsent "
                          f"(see `refbot outbox list`): {', '.join(str(i) for i in unsent[:10])}"
                          + (" ..." if len(unsent) > 10 else ""))


@outbox_group.command("retry")
@click.argument("message_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox_retry(ctx: Context, message_id: int, as_json: bool) -> None:
    """Send one waiting or failed message again now."""
    now = utcnow()
    with transaction(ctx.existing.engine) as session:
        outbox.requeue(session, message_id, now=now)
    delivery = ctx.existing.send(now=now, only=message_id)
    emit(_delivery_json(delivery), as_json, _delivery_human)
