"""The main job and its scheduler: `refbot run`, `refbot tick`, and `refbot demo` to watch it work."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import click

from bot import logs, scheduler
from bot.cli.base import Context, cli, emit, pass_ctx
from bot.clock import iso, utcnow
from bot.errors import BadInput


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
        emit(runner.once().as_json(), as_json, print_pass)
        return
    runner.run()


@cli.command()
@click.option("--now", "now_text", metavar="ISO-8601", help="Act as if it were this time (default: now; without an offset, UTC).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tick(ctx: Context, now_text: str | None, as_json: bool) -> None:
    """Apply due timeouts, reminders, notices, re-offers and digests, then send what that queued."""
    now = parse_time(now_text) if now_text else utcnow()
    app = ctx.app
    done = scheduler.sweep(app.engine, app.mailer, app.config, now=now)
    delivery = app.send(now=now)
    data = {"now": iso(now), "timed_out": done.timed_out, "reminded": done.reminded, "reoffered": done.reoffered,
            "digests": done.digests, "sent": len(delivery.sent), "queued": len(delivery.retrying), "failed": len(delivery.failed)}
    emit(data, as_json, lambda d: click.echo(
        f"timed out: {len(d['timed_out'])}, reminded: {len(d['reminded'])}, offered on: {len(d['reoffered'])}, "
        f"digests: {len(d['digests'])}, sent: {d['sent']}, "
        f"waiting for retry: {d['queued']}, failed: {d['failed']}"))


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--now: {text!r} is not an ISO-8601 time like 2026-12-01T09:00:00Z") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def print_pass(data: dict) -> None:
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
