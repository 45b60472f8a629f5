"""RFIs, the scheduler, the outbox, the daemon and the inbox."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import click
from sqlmodel import select

from bot import actions, logs, scheduler
from bot import rfi as rfi_module
from bot.cli.base import Context, cli, emit, pass_ctx
from bot.db import transaction
from bot.errors import BadInput
from bot.models import OutboundMessage, utcnow
from bot.outbound import outbox


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


@cli.command()
@click.option("--now", "now_text", metavar="ISO-8601", help="Act as if it were this time (default: now; without an offset, UTC).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tick(ctx: Context, now_text: str | None, as_json: bool) -> None:
    """Apply due timeouts, reminders and notices, then send what that queued."""
    now = parse_time(now_text) if now_text else utcnow()
    app = ctx.app
    done = scheduler.sweep(app.engine, app.mailer, app.config, now=now)
    delivery = app.send(now=now)
    data = {"now": actions.iso(now), "timed_out": done.timed_out, "reminded": done.reminded,
            "sent": len(delivery.sent), "queued": len(delivery.retrying), "failed": len(delivery.failed)}
    emit(data, as_json, lambda d: click.echo(
        f"timed out: {len(d['timed_out'])}, reminded: {len(d['reminded'])}, sent: {d['sent']}, "
        f"waiting for retry: {d['queued']}, failed: {d['failed']}"))


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--now: {text!r} is not an ISO-8601 time like 2026-12-01T09:00:00Z") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@cli.group("outbox")
def outbox_group() -> None:
    """The outgoing mail queue."""


def _outbox_json(row: OutboundMessage) -> dict:
    return {"id": row.id, "message_id": row.message_id, "referral": row.referral_id, "kind": row.kind,
            "to": row.recipient, "subject": row.subject, "status": row.status, "attempts": row.attempts,
            "created_at": actions.iso(row.created_at), "next_attempt_at": actions.iso(row.next_attempt_at),
            "sent_at": actions.iso(row.sent_at), "last_error": row.last_error}


@outbox_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox_list(ctx: Context, as_json: bool) -> None:
    """Every message in the outbox, newest last."""
    with transaction(ctx.app.engine) as session:
        rows = [_outbox_json(r) for r in session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()]

    def human(data: list) -> None:
        for r in data:
            error = f"  ({r['last_error']})" if r["last_error"] else ""
            click.echo(f"{r['id']:>5}  {r['status']:<6}  {r['attempts']} tries  {r['to']:<32} {r['subject']}{error}")
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
    """Try every unsent message now, whatever its backoff."""
    delivery = ctx.app.send(now=utcnow(), force=True)
    emit(_delivery_json(delivery), as_json, _delivery_human)


@outbox_group.command("retry")
@click.argument("message_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox_retry(ctx: Context, message_id: int, as_json: bool) -> None:
    """Send one waiting or failed message again now."""
    now = utcnow()
    with transaction(ctx.app.engine) as session:
        outbox.requeue(session, message_id, now=now)
    delivery = ctx.app.send(now=now, only=message_id)
    emit(_delivery_json(delivery), as_json, _delivery_human)


@cli.command()
@click.option("--once", is_flag=True, help="One pass of inbound, scheduler and outbox, then exit.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print what the pass did as JSON.")
@pass_ctx
def run(ctx: Context, once: bool, as_json: bool) -> None:
    """The main job: inbound mail, scheduler and outbox sender until SIGTERM/SIGINT."""
    from bot.runner import Runner

    if not once:
        logs.setup(os.environ.get("REFBOT_LOG_LEVEL", "INFO"))
    runner = Runner(ctx.app, config_path=ctx.path)
    if once:
        emit(runner.once().as_json(), as_json, _pass_human)
        return
    runner.run()


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
    emit(data, as_json, _pass_human)


def _pass_human(data: dict) -> None:
    for p in data["processed"]:
        click.echo(f"{p['outcome']:<24} {p['referral'] or '-':<8} {p['message_id']}")
    if "timed_out" in data:
        click.echo(f"timed out: {len(data['timed_out'])}, reminded: {len(data['reminded'])}")
    click.echo(f"processed: {len(data['processed'])}, sent: {data['sent']}")


@cli.command()
def demo() -> None:
    """Play a whole referral lifecycle on the embedded default in a temporary folder."""
    from bot import demo as demo_module

    demo_module.play(click.echo)
