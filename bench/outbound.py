"""outbound: queued emails flushed to the sink by `refbot outbox flush`, against smtplib sending
the same rendered messages over one connection."""

from __future__ import annotations

import json

from sqlmodel import select

from bench import seed
from bench.report import Figure, rate
from bench.site import Site
from bot.clock import utcnow
from bot.db import transaction
from bot.models import Referral, Rfi

TARGET = 0.8


def queue(site: Site, count: int) -> None:
    """One new-referral email per referral, rendered and queued by refbot's own mailer."""
    now = utcnow()
    seed.referrals(site, count, now=now)
    app = site.app()
    try:
        with transaction(app.engine) as session:
            for referral, rfi in session.exec(select(Referral, Rfi).where(Referral.rfi_id == Rfi.id)).all():
                app.mailer.queue(session, "partner/new_referral", referral=referral, rfi=rfi, now=now)
    finally:
        app.close()


def run(size: int) -> list[Figure]:
    with Site("outbound") as site:
        queue(site, size)
        floor, _ = site.floor("outbound", database=site.sqlite_path, smtp_port=site.sink.port)
        site.sink.counter.reset()
        seconds, out = site.refbot("outbox", "flush", "--json")
        sent = len(json.loads(out)["sent"])
        if sent != size or site.sink.counter.messages != size:
            raise RuntimeError(f"outbox flush sent {sent} of {size}; the sink got {site.sink.counter.messages}")
    ratio = floor / seconds
    return [Figure("outbound", f"outbox flush, {size} emails", rate(size, seconds), rate(size, floor), ratio,
                   f">= {TARGET:.2f}", ratio >= TARGET)]
