"""Which partner profiles an RFI would go to: `refbot partners search`."""

from __future__ import annotations

from types import SimpleNamespace

import click

from bot import ranking
from bot.cli.base import Context, cli, emit, pass_ctx
from bot.clock import utcnow
from bot.config import COMPANY_SIZES
from bot.db import transaction
from bot.routing import ranked


@cli.group()
def partners() -> None:
    """Partner profiles and how RFIs are routed to them."""


@partners.command("search")
@click.option("--region", required=True, help="The RFI's region, e.g. DE.")
@click.option("--location", help="The RFI's location, e.g. Berlin.")
@click.option("--keywords", default="", metavar="K,...", help="The RFI's keywords and products, comma-separated.")
@click.option("--size", type=click.Choice(COMPANY_SIZES), help="The customer's company size.")
@click.option("--all", "show_all", is_flag=True, help="Every profile that serves the region, not only the best "
                                                       "matching.max_partners.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def partners_search(ctx: Context, region: str, location: str | None, keywords: str, size: str | None,
                    show_all: bool, as_json: bool) -> None:
    """The profiles an RFI with these facts would be routed to, best first, with their scores and why."""
    app = ctx.app
    facts = SimpleNamespace(region=region, location=location, partners=[], company_size=size, products=[],
                            keywords=[k.strip() for k in keywords.split(",") if k.strip()])
    with transaction(app.engine) as session:
        found = ranked(facts, app.config, history=ranking.history(session, app.config, facts, now=utcnow()))
    if not show_all:
        found = found[: app.config.matching.max_partners]
    rows = [{"partner": r.partner.id, "region": r.profile.region, "contact": r.profile.contact, "score": r.score,
             "reasons": r.reasons} for r in found]

    def human(data: list) -> None:
        for number, row in enumerate(data, 1):
            click.echo(f"{number}. {row['partner']} ({row['region']}, {row['contact']})  score {row['score']:g}")
            for reason in row["reasons"]:
                click.echo(f"     - {reason}")
        if not data:
            where = region + (f"/{location}" if location else "")
            click.echo(f"No profile serves {where}.")

    emit(rows, as_json, human)
