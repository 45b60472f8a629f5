"""A partner program's last eight weeks, played through refbot's own code: RFIs submitted,
partners replying (as `refbot referrals apply` does), the scheduler timing out what nobody
answered, two new referrals not answered yet, a reply that names no referral held for an admin,
and an email that could not be delivered. Deterministic, so tests know every number it makes.

    seed(app, now=NOW) -> Seeded
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import update
from sqlmodel import select

from bot import scheduler
from bot.app import App
from bot.db import transaction
from bot.inbound.pipeline import handle_command, process
from bot.models import Event, InboundMessage, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import RFI

WEEKS = 8
PER_WEEK = 6
# Where each RFI goes, in turn: (partners named, region, location).
DESKS = [(["contoso"], "DE", "Berlin"), (["fabrikam"], "DE", "Hamburg"), (["northwind"], "FR", "Paris"),
         (["contoso"], "UK", "Leeds")]
HOUR = timedelta(hours=1)
# What the partner does, in turn: (hours after the offer, command) steps.
STORIES = [
    [(3, "INTERESTED"), (26, "ACCEPT 25000 EUR {closing}"), (24 * 10, "WON 27000")],
    [(30, "INTERESTED"), (60, "DECLINE budget frozen until next year")],
    [(2, "NO THANKS")],
    [],  # never answers: missed
    [(5, "INTERESTED"), (29, "ACCEPT 40000 {closing}"), (24 * 12, "LOST the customer chose another vendor")],
    [(8, "INTERESTED")],  # never decides: expired
]
FRESH = (60, 5)  # hours ago: two new referrals nobody has answered yet, the first about to be missed
CODES = {"budget": "budget", "vendor": "other_vendor"}  # as the reason classification would code them


@dataclass
class Seeded:
    referrals: list[str] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failed_outbox: list[int] = field(default_factory=list)
    bounced: list[str] = field(default_factory=list)


def seed(app: App, *, now: datetime) -> Seeded:
    """Play the weeks before ``now``; every step happens at its own time, the scheduler sweeps
    every six hours, and nothing is sent (the outbox keeps it)."""
    start = now - timedelta(weeks=WEEKS)
    plan: list[tuple[datetime, int, tuple]] = []
    for n in range(WEEKS * PER_WEEK):
        offered = start + timedelta(days=7 * (n // PER_WEEK) + n % PER_WEEK, hours=9)
        heapq.heappush(plan, (offered, n, ("submit", n)))
        for hours, command in STORIES[n % len(STORIES)]:
            heapq.heappush(plan, (offered + hours * HOUR, n, ("reply", n, command)))
    for n, hours_ago in enumerate(FRESH, start=WEEKS * PER_WEEK):  # not answered yet
        heapq.heappush(plan, (now - hours_ago * HOUR, n, ("submit", n)))
    moment = start
    while moment <= now:
        heapq.heappush(plan, (moment, -1, ("sweep",)))
        moment += 6 * HOUR
    seeded, ids = Seeded(), {}
    while plan:
        at, _, step = heapq.heappop(plan)
        if at > now:
            continue
        if step[0] == "submit":
            ids[step[1]] = _submit(app, step[1], at)
            seeded.referrals.append(ids[step[1]])
        elif step[0] == "reply":
            _reply(app, ids[step[1]], step[2].format(closing=(now + timedelta(days=60)).date().isoformat()), at)
        else:
            scheduler.sweep(app.engine, app.mailer, app.config, now=at)
    _classify_reasons(app)
    seeded.held.append(_stray_reply(app, now - 3 * HOUR))
    seeded.failed_outbox, seeded.bounced = _undeliverable(app, seeded.referrals[-1])
    return seeded


def _submit(app: App, n: int, at: datetime) -> str:
    partners, region, location = DESKS[n % len(DESKS)]
    rfi = RfiInput.model_validate({**RFI, "rfi_id": f"RFI-SEED-{n:03d}", "partners": partners, "region": region,
                                   "location": location,
                                   "customer": {**RFI["customer"], "company": f"Customer {n:03d} GmbH"}})
    return submit(app.engine, app.mailer, app.config, rfi, now=at).referrals[0].id


def _reply(app: App, referral_id: str, text: str, at: datetime) -> None:
    with transaction(app.engine) as session:
        referral = session.get(Referral, referral_id)
        if referral.archived:
            return  # the scheduler was first
        done = handle_command(app, session, referral_id, sender=referral.contact, text=text, now=at)
        assert done.outcome.startswith("applied:"), done


def _classify_reasons(app: App) -> None:
    with transaction(app.engine) as session:
        for word, code in CODES.items():
            session.execute(update(Event).where(Event.reason.contains(word)).values(reason_code=code))


def _stray_reply(app: App, at: datetime) -> int:
    """A partner writing to the bare address about nothing refbot can find: held."""
    message = EmailMessage()
    message["From"], message["To"] = "leads-de@contoso.example", app.config.smtp.from_address
    message["Subject"], message["Message-ID"] = "Question about last week's lead", "<stray-seed@contoso.example>"
    message.set_content("Hello, which customer was the referral from last Tuesday?")
    result = process(app, bytes(message), now=at, source="seed")
    assert result.failed, result
    with transaction(app.engine) as session:
        return session.exec(select(InboundMessage.id).where(InboundMessage.message_id == result.message_id)).one()


def _undeliverable(app: App, referral_id: str) -> tuple[list[int], list[str]]:
    """The partner's mail server refused the referral's first email for good."""
    with transaction(app.engine) as session:
        row = session.exec(select(OutboundMessage).where(OutboundMessage.referral_id == referral_id)
                           .order_by(OutboundMessage.id)).first()
        row.status, row.attempts, row.last_error = "failed", 1, f"550 5.1.1 <{row.recipient}>: no such user"
        referral = session.get(Referral, referral_id)
        referral.bounce = f"{row.kind} to {row.recipient}: {row.last_error}"
        return [row.id], [referral_id]
