"""The refbot command line: parse, call, print. Exit 0 on success, 1 on a runtime failure,
2 on bad input, with a one-line reason on stderr; ``--json`` prints one document on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from sqlmodel import select

from bot import actions, config as config_module, logs, rfi as rfi_module, scheduler, starter
from bot.app import App
from bot.db import open_database, transaction
from bot.errors import BadInput, NotAllowed, NotFound, RefbotError
from bot.models import ACTIVE_STATES, ARCHIVED_STATES, STATES, OutboundMessage, Referral
from bot.outbound import outbox

log = logging.getLogger("bot.cli")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def emit(data, as_json: bool, human) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        human(data)


class Context:
    """The config path, loaded lazily: `init` must work before a config exists."""

    def __init__(self, path: str | None) -> None:
        self.path = config_module.resolve_path(path)
        self._app: App | None = None

    @property
    def config(self) -> config_module.Config:
        return self.app.config if self._app else config_module.load(self.path)

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App.open(config_module.load(self.path))
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", help="Config file (default: $REFBOT_CONFIG or ./config.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """refbot: an email-first referral bot."""
    ctx.obj = Context(config_path)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Write a starter config.toml into DIRECTORY and create the database."""
    path = directory / "config.toml"
    if path.exists():
        raise BadInput(f"{path} exists already; edit it, or choose another directory")
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(starter.CONFIG, encoding="utf-8")
    config = config_module.load(path)
    open_database(config).dispose()
    click.echo(f"Wrote {path} and created the database {config.database_url}.")
    click.echo("Next: edit the partners in it, then `refbot --config " + str(path) + " config check`.")


# -- RFIs --------------------------------------------------------------------------------


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
    now = now_utc()
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


# -- the scheduler -----------------------------------------------------------------------


@cli.command()
@click.option("--now", "now_text", metavar="ISO-8601", help="Act as if it were this time (default: now; without an offset, UTC).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tick(ctx: Context, now_text: str | None, as_json: bool) -> None:
    """Apply due timeouts, reminders and notices, then send what that queued."""
    now = parse_time(now_text) if now_text else now_utc()
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


# -- the outbox --------------------------------------------------------------------------


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
    delivery = ctx.app.send(now=now_utc(), force=True)
    emit(_delivery_json(delivery), as_json, _delivery_human)


@outbox_group.command("retry")
@click.argument("message_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox_retry(ctx: Context, message_id: int, as_json: bool) -> None:
    """Send one waiting or failed message again now."""
    now = now_utc()
    with transaction(ctx.app.engine) as session:
        outbox.requeue(session, message_id, now=now)
    delivery = ctx.app.send(now=now, only=message_id)
    emit(_delivery_json(delivery), as_json, _delivery_human)


# -- referrals ---------------------------------------------------------------------------


@cli.group()
def referrals() -> None:
    """Look at referrals and act for a partner."""


@referrals.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATES), help="Repeat for several.")
@click.option("--partner")
@click.option("--region")
@click.option("--active", is_flag=True, help="Only new, evaluating and negotiating.")
@click.option("--archived", is_flag=True, help="Only archived referrals.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def referrals_list(ctx: Context, statuses, partner, region, active, archived, as_json) -> None:
    """Referrals, oldest first."""
    if active and archived:
        raise BadInput("--active and --archived exclude each other; give one")
    query = select(Referral).order_by(Referral.created_at, Referral.id)
    if statuses:
        query = query.where(Referral.status.in_(statuses))
    if active or archived:
        query = query.where(Referral.status.in_(ACTIVE_STATES if active else ARCHIVED_STATES))
    if partner:
        query = query.where(Referral.partner_id == partner)
    if region:
        query = query.where(Referral.region == region.upper())
    with transaction(ctx.app.engine) as session:
        rows = [actions.referral_summary(session, r, with_events=False) for r in session.exec(query).all()]
    tz = ctx.app.config.bot.timezone

    def human(data: list) -> None:
        for r in data:
            deadline = actions.local_time(datetime.fromisoformat(r["deadline_at"]), tz) if r["deadline_at"] else "-"
            click.echo(f"{r['id']}  {r['status']:<11} {r['partner']:<16} {r['region']}/{r['location'] or '*':<12} "
                       f"{r['rfi_id']:<18} deadline {deadline}")
        if not data:
            click.echo("No referrals match.")

    emit(rows, as_json, human)


@referrals.command("show")
@click.argument("referral_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def referrals_show(ctx: Context, referral_id: str, as_json: bool) -> None:
    """One referral with its timeline."""
    with transaction(ctx.app.engine) as session:
        referral = session.get(Referral, referral_id.upper())
        if referral is None:
            raise NotFound(f"referral {referral_id}: no such referral (see `refbot referrals list`)")
        data = actions.referral_summary(session, referral, with_events=True)
    tz = ctx.app.config.bot.timezone

    def local(value: str | None) -> str:
        return actions.local_time(datetime.fromisoformat(value), tz) if value else "-"

    def human(d: dict) -> None:
        click.echo(f"{d['id']}  {d['status']}{' (archived)' if d['archived'] else ''}  RFI {d['rfi_id']}")
        click.echo(f"partner:   {d['partner']} <{d['contact']}>  {d['region']}/{d['location'] or '*'}")
        click.echo(f"customer:  {d['customer'].get('name')} ({d['customer'].get('company') or '-'})")
        if d["deal_value"]:
            click.echo(f"deal:      {d['deal_value']} {d['currency']}, closing {d['closing_date'] or '-'}")
        click.echo(f"created:   {local(d['created_at'])}   deadline: {local(d['deadline_at'])}")
        if d["bounce"]:
            click.echo(f"bounce:    {d['bounce']}")
        click.echo("timeline:")
        for e in d["events"]:
            detail = f"  ({e['detail']})" if e["detail"] else ""
            click.echo(f"  {local(e['at'])}  {e['from'] or '-':>11} -> {e['to']:<11} {e['actor']}{detail}")

    emit(data, as_json, human)


@referrals.command("apply", context_settings={"ignore_unknown_options": True})
@click.argument("referral_id", metavar="ID")
@click.argument("command", nargs=-1, required=True)
@click.option("--as", "sender", required=True, metavar="EMAIL", help="The partner address the command comes from.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def referrals_apply(ctx: Context, referral_id: str, command: tuple[str, ...], sender: str, as_json: bool) -> None:
    """Apply a reply command as if SENDER had replied with it (same rules and emails)."""
    app = ctx.app
    now = now_utc()
    with transaction(app.engine) as session:
        outcome = actions.act_on_reply(session, app.mailer, app.config, referral_id=referral_id.upper(),
                                       text=" ".join(command), sender=sender.strip(), now=now)
    app.send(now=now)
    data = {"id": outcome.referral_id, "status": outcome.status, "applied": outcome.applied,
            "refused": outcome.refusal.code if outcome.refusal else None,
            "reason": outcome.refusal.message if outcome.refusal else None}
    emit(data, as_json, lambda d: click.echo(f"{d['id']}: {d['applied']} applied; now {d['status']}.")
         if d["applied"] else None)
    if outcome.refusal:
        # The partner got the explanation by email; the admin gets it here.
        raise BadInput(f"{outcome.referral_id}: not applied: {outcome.refusal.message}")


# -- the daemon and the inbox --------------------------------------------------------------


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
    from bot.runner import Runner

    if ctx.app.config.inbound.transport != "imap":
        raise BadInput("inbound.transport is \"smtp\": replies are delivered to `refbot run` as they come; nothing to poll")
    runner = Runner(ctx.app)
    try:
        done = runner.poll_inbox()
    finally:
        runner.close()
    sent = runner.send()
    data = {"processed": [{"message_id": p.message_id, "outcome": p.outcome, "referral": p.referral_id,
                           "detail": p.detail} for p in done], "sent": sent}
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


# -- config ------------------------------------------------------------------------------


@cli.group("config")
def config_group() -> None:
    """The config file."""


@config_group.command("check")
@pass_ctx
def config_check(ctx: Context) -> None:
    """Validate the config and every template, and print the routing table."""
    config = ctx.config
    from bot.outbound.render import Renderer

    renderer = Renderer(template_dir=config.path(config.templates.dir) if config.templates.dir else None,
                        timezone=config.bot.timezone, bot_name=config.bot.name)
    problems = renderer.check()
    if problems:
        raise BadInput(f"templates: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    click.echo(f"{ctx.path}: OK ({len(config.partners)} partners)")
    for partner in config.partners:
        for profile in partner.profiles:
            where = ", ".join(profile.locations) or "every location"
            team = f" team {', '.join(profile.team)}" if profile.team else ""
            click.echo(f"  {profile.region:<4} {where:<28} -> {partner.id} <{profile.contact}>{team} "
                       f"[{profile.locale}, {profile.currency}]")


def main(argv: list[str] | None = None) -> int:
    logs.setup(os.environ.get("REFBOT_LOG_LEVEL", "WARNING"))
    try:
        cli.main(args=argv, prog_name="refbot", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("refbot: aborted", err=True)
        return 1
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"refbot: error: {exc.format_message()}{hint}", err=True)
        return 2
    except BadInput as exc:
        click.echo(f"refbot: error: {exc}", err=True)
        return 2
    except NotAllowed as exc:
        click.echo(f"refbot: error: {exc.message}", err=True)
        return 2
    except RefbotError as exc:
        click.echo(f"refbot: failed: {exc}", err=True)
        return 1
    except Exception as exc:  # the last guard: no traceback reaches a user
        log.exception("unexpected error")
        click.echo(f"refbot: internal error: {exc.__class__.__name__}: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
