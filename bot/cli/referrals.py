"""Looking at referrals, and acting for a partner."""

from __future__ import annotations

import csv
import sys
from datetime import datetime

import click
from sqlmodel import select

from bot import lifecycle
from bot.cli.base import Context, cli, emit, parse_since, pass_ctx
from bot.clock import local_time, utcnow
from bot.db import transaction
from bot.errors import BadInput, NotFound
from bot.models import Referral, Rfi
from bot.views import CSV_COLUMNS, referral_json


@cli.group()
def referrals() -> None:
    """Look at referrals and act for a partner."""


@referrals.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(lifecycle.NAMES), help="Repeat for several.")
@click.option("--partner")
@click.option("--region")
@click.option("--active", is_flag=True, help="Only new, evaluating and negotiating.")
@click.option("--archived", is_flag=True, help="Only archived referrals.")
@click.option("--since", metavar="DATE", help="Only referrals created on or after this day (YYYY-MM-DD, local time).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row (times in UTC), for a spreadsheet.")
@pass_ctx
def referrals_list(ctx: Context, statuses, partner, region, active, archived, since, as_json, as_csv) -> None:
    """Referrals, oldest first."""
    from bot import stats

    if active and archived:
        raise BadInput("--active and --archived exclude each other; give one")
    if as_json and as_csv:
        raise BadInput("--json and --csv exclude each other; give one")
    app = ctx.reader
    tz = app.config.bot.timezone
    scope = stats.Scope(partner=partner, region=region, since=parse_since(since, tz))
    query = scope.where(select(Referral, Rfi).join(Rfi, Rfi.id == Referral.rfi_id)
                        .order_by(Referral.created_at, Referral.id))
    if statuses:
        query = query.where(Referral.status.in_(statuses))
    if active or archived:
        query = query.where(Referral.status.in_(lifecycle.ACTIVE if active else lifecycle.ARCHIVED))
    with transaction(app.engine) as session:
        rows = [referral_json(session, r, with_events=False, rfi=rfi) for r, rfi in session.exec(query)]
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return

    def human(data: list) -> None:
        for r in data:
            deadline = local_time(datetime.fromisoformat(r["deadline_at"]), tz) if r["deadline_at"] else "-"
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
    with transaction(ctx.reader.engine) as session:
        referral = session.get(Referral, referral_id.upper())
        if referral is None:
            raise NotFound(f"referral {referral_id}: no such referral (see `refbot referrals list`)")
        data = referral_json(session, referral, with_events=True)
    tz = ctx.reader.config.bot.timezone

    def local(value: str | None) -> str:
        return local_time(datetime.fromisoformat(value), tz) if value else "-"

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
            actor = e["actor"] + (f" for {e['on_behalf_of']}" if e.get("on_behalf_of") else "")
            click.echo(f"  {local(e['at'])}  {e['from'] or '-':>11} -> {e['to']:<11} {actor}{detail}")
            for key in ("reason", "reason_code", "note"):
                if e.get(key):
                    click.echo(f"  {'':>17}  {key}: " + e[key].replace("\n", "\n" + " " * (25 + len(key))))

    emit(data, as_json, human)


@referrals.command("apply", context_settings={"ignore_unknown_options": True})
@click.argument("referral_id", metavar="ID")
@click.argument("command", nargs=-1, required=True)
@click.option("--as", "sender", required=True, metavar="EMAIL", help="The partner address the command comes from.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def referrals_apply(ctx: Context, referral_id: str, command: tuple[str, ...], sender: str, as_json: bool) -> None:
    """Apply a reply command as if SENDER had replied with it (same rules and emails)."""
    from bot import access
    from bot.inbound.pipeline import handle_command
    from bot.inbound.stops import Refused

    app = ctx.existing
    now = utcnow()
    referral_id, sender = referral_id.upper(), sender.strip().lower()
    with transaction(app.engine) as session:
        referral = session.get(Referral, referral_id)
        if referral is None:
            raise NotFound(f"referral {referral_id}: no such referral (see `refbot referrals list`)")
        if not access.may_act(session, referral, sender):  # told here, not by email
            raise BadInput(f"{referral_id}: {sender} is neither the contact nor in the team of its profile; "
                           "nothing changed")
        done = handle_command(app, session, referral_id, sender=sender, text=" ".join(command), now=now)
        status = referral.status
    app.send(now=now)
    refused = done.stop.refusal if isinstance(done.stop, Refused) else None
    applied = None if done.stop else done.outcome.removeprefix("applied:")
    data = {"id": referral_id, "status": status, "applied": applied,
            "refused": refused.code if refused else None, "reason": done.detail if refused else None}
    emit(data, as_json, lambda d: click.echo(f"{d['id']}: {d['applied']} applied; now {d['status']}.")
         if d["applied"] else None)
    if refused:
        # The partner got the explanation by email; the admin gets it here.
        raise BadInput(f"{referral_id}: not applied: {done.detail}")
