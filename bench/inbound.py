"""inbound: partner replies waiting in Dovecot, each for its own referral (INTERESTED, NO THANKS,
ACCEPT in turn), all processed, moved and answered by one `refbot inbox poll`; against a plain
script doing the same work."""

from __future__ import annotations

import json

from bench import seed
from bench.report import Figure, rate
from bench.site import Site
from bot.clock import utcnow

TARGET = 0.5


def prepare(site: Site, count: int) -> list[bytes]:
    made = seed.referrals(site, count, now=utcnow(), status=seed.mixed_status)
    return [seed.reply(r, seed.MIXED[n % len(seed.MIXED)], n=n)[1] for n, r in enumerate(made)]


def poll(site: Site, count: int) -> float:
    """``refbot inbox poll`` over what waits; its wall time, after checking it did all of it."""
    site.sink.counter.reset()
    seconds, out = site.refbot("inbox", "poll", "--json")
    done = json.loads(out)
    applied = [p for p in done["processed"] if p["outcome"].startswith("applied:")]
    if len(applied) != count or seed.count(site, "INBOX") or seed.count(site, "Processed") != count:
        raise RuntimeError(f"inbox poll applied {len(applied)} of {count}: {done['processed'][:3]}")
    if site.sink.counter.messages < count:
        raise RuntimeError(f"the sink got {site.sink.counter.messages} emails for {count} replies")
    return seconds


def run(size: int) -> list[Figure]:
    with Site("inbound", imap=True) as site:
        messages = prepare(site, size)
        seed.append(site, "Floor", messages)
        dovecot = site.dovecot
        floor, _ = site.floor("inbound", host=dovecot.host, port=dovecot.port, user=dovecot.user,
                              password=dovecot.password, folder="Floor", smtp_port=site.sink.port,
                              database=str(site.folder / "floor.db"))
        seed.append(site, "INBOX", messages)
        seconds = poll(site, size)
    ratio = floor / seconds
    return [Figure("inbound", f"inbox poll, {size} replies", rate(size, seconds), rate(size, floor), ratio,
                   f">= {TARGET:.2f}", ratio >= TARGET)]
