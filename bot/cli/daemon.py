"""The main job and its scheduler: `refbot run`, `refbot tick`, and `refbot demo` to watch it work."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import click

from bot import logs, scheduler
from bot.cli.base import Context, cli, emit, pass_ctx
from bot.clock import iso, local_time, utcnow
from bot.db import transaction
from bot.errors import BadInput
from bot.outbound import outbox


@cli.command()
@click.option("--once", is_flag=True, help="One pass of inbound, scheduler and outbox, then exit.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print what the pass did as JSON.")
@pass_ctx
def run(ctx: Context, once: bool, as_json: bool) -> None:
    """The main job: inbound mail, scheduler and outbox sender until SIGTERM/SIGINT."""
    from bot.runner import Runner

    if not once:
        config = ctx.config
        logs.setup(os.environ.get("REFBOT_LOG_LEVEL") or config.logging.level, fmt=config.logging.format,
                   tz=config.bot.timezone)
    runner = Runner(ctx.app, config_path=ctx.path)
    if once:
        emit(runner.once().as_json(), as_json, print_pass)
        return
    runner.run()


_LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


@cli.command()
@click.option("--now", "now_text", metavar="ISO-8601", help="Act as if it were this time (default: now; without an offset, UTC).")
@click.option("--dry-run", is_flag=True, help="List what would happen, and change nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tick(ctx: Context, now_text: str | None, dry_run: bool, as_json: bool) -> None:
    """Apply due timeouts, reminders, notices, re-offers and digests, then send what that queued."""
    now = parse_time(now_text) if now_text else utcnow()
    if dry_run:
        app = ctx.reader
        planned = scheduler.plan(app.engine, app.config, now=now)
        with transaction(app.engine) as session:
            sendable = outbox.due(session, now=now)
        data = {"now": iso(now), "dry_run": True, "would_send": len(sendable),
                "planned": [_planned_json(p) for p in planned]}
        emit(data, as_json, lambda d: print_plan(d, tz=app.config.bot.timezone))
        return
    app = ctx.app
    done = scheduler.sweep(app.engine, app.mailer, app.config, now=now)
    delivery = app.send(now=now)
    data = {"now": iso(now), "timed_out": done.timed_out, "reminded": done.reminded, "reoffered": done.reoffered,
            "digests": done.digests, "sent": len(delivery.sent), "queued": len(delivery.retrying), "failed": len(delivery.failed)}
    emit(data, as_json, lambda d: click.echo(
        f"timed out: {len(d['timed_out'])}, reminded: {len(d['reminded'])}, offered on: {len(d['reoffered'])}, "
        f"digests: {len(d['digests'])}, sent: {d['sent']}, "
        f"waiting for retry: {d['queued']}, failed: {d['failed']}"))


def _planned_json(p: scheduler.Planned) -> dict:
    data = {"referral": p.referral_id, "action": p.action, "status": p.status, "to": p.target,
            "emails": list(p.emails)}
    return data | ({"profile": p.profile} if p.profile else {})


def print_plan(data: dict, *, tz: str) -> None:
    click.echo(f"As of {local_time(parse_time(data['now']), tz)}, `refbot tick` would:")
    for p in data["planned"]:
        if p["action"] == "digest":
            what = f"to {p['profile']}"
        elif p["action"] == "offer on":
            what = f"{p['referral']}  {p['status']}: to {p['profile']}"
        else:
            what = f"{p['referral']}  {p['status'] + (' -> ' + p['to'] if p['to'] else ''):<24}"
        click.echo(f"  {p['action']:<9} {what} emails: {', '.join(p['emails'])}")
    click.echo(f"  send {data['would_send']} queued message{'s' if data['would_send'] != 1 else ''}")
    if not data["planned"]:
        click.echo("  (nothing is due: no timeout, reminder, re-offer or digest)")
    click.echo("Nothing was changed (--dry-run).")


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except ValueError:
        raise BadInput(f"--now: {text!r} is not an ISO-8601 time like 2026-12-01T09:00:00Z") from None
    except OverflowError:
        moment = datetime.max.replace(tzinfo=timezone.utc)
    if moment > _LATEST:  # deadlines and reminders are counted from it, and must fit in a date
        raise BadInput(f"--now: {text!r} is too far in the future; give a time before {_LATEST.year}")
    return moment


def print_pass(data: dict) -> None:
    for p in data["processed"]:
        click.echo(processed_line(p))
    if "timed_out" in data:
        click.echo(f"timed out: {len(data['timed_out'])}, reminded: {len(data['reminded'])}")
    click.echo(summary_line(len(data["processed"]), data["sent"]))


def summary_line(processed: int, sent: int) -> str:
    return f"processed: {processed}, sent: {sent}"


def processed_line(p: dict) -> str:
    return f"{p['outcome']:<24} {p['referral'] or '-':<8} {p['message_id']}"


@cli.command()
def demo() -> None:
    """Play a whole referral lifecycle on the embedded default in a temporary folder."""
    from bot import demo as demo_module

    demo_module.play(click.echo)
