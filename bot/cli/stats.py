"""The program's numbers: `refbot stats`."""

from __future__ import annotations

import click

from bot import stats as stats_module
from bot.cli.base import Context, cli, emit, parse_since, pass_ctx
from bot.clock import utcnow
from bot.db import transaction
from bot.outbound.render import format_money


@cli.command()
@click.option("--partner", help="Only this partner's referrals.")
@click.option("--region", help="Only this region's referrals.")
@click.option("--since", metavar="DATE", help="Only referrals created on or after this day (YYYY-MM-DD, local time).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def stats(ctx: Context, partner: str | None, region: str | None, since: str | None, as_json: bool) -> None:
    """Referrals per state, first-response time, acceptance and win rates, pipeline and won
    value per currency, and decline and loss reasons."""
    app = ctx.reader
    scope = stats_module.Scope(partner=partner, region=region, since=parse_since(since, app.config.bot.timezone))
    with transaction(app.engine) as session:
        found = stats_module.compute(session, scope, now=utcnow())
    emit(found.as_json(), as_json, lambda _: print_stats(found, scope=scope, since=since))


def print_stats(found: stats_module.Stats, *, scope: stats_module.Scope, since: str | None) -> None:
    which = ", ".join(f for f in (f"partner {scope.partner}" if scope.partner else "",
                                  f"region {scope.region.upper()}" if scope.region else "",
                                  f"created since {since}" if since else "") if f)
    click.echo(f"Referrals: {found.total}" + (f" ({which})" if which else ""))
    for state, count in found.states.items():
        click.echo(f"  {state:<24}{count:>8}")
    hours = "-" if found.median_hours is None else f"{found.median_hours:g} hours"
    click.echo(f"First response, median    {hours}")
    click.echo(f"Answered within 24 hours  {percent(found.within_24h)}")
    click.echo(f"Acceptance rate           {percent(found.acceptance_rate)}")
    click.echo(f"Win rate                  {percent(found.win_rate)}")
    for label, totals in (("Pipeline (negotiating)", found.pipeline), ("Won", found.won)):
        money = "; ".join(format_money(v, c, "en") for c, v in totals.items()) or "-"
        click.echo(f"{label:<26}{money}")
    click.echo("Decline and loss reasons")
    for code, count in found.reasons.items():
        click.echo(f"  {code:<24}{count:>8}")


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"
