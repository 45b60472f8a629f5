"""A SQLite database of 100,000 referrals made in a few seconds by bulk inserts (refbot's own
code would take minutes): two years of a program, with the timeline, outbox and inbound rows
the dashboard reads. ``STATES`` says exactly how many referrals are in each state."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot import config as config_module
from bot import tally
from bot.app import App
from bot.db import connect

REFERRALS = 100_000
# How many referrals end in each state (the rest are new).
STATES = {"evaluating": 2_000, "negotiating": 3_000, "skipped": 15_000, "missed": 20_000, "declined": 12_000,
          "expired": 8_000, "won": 22_000, "lost": 15_000}
STATES = {"new": REFERRALS - sum(STATES.values()), **STATES}
PROFILES = (("contoso", "contoso/DE/berlin+munich", "DE", "leads-de@contoso.example"),
            ("contoso", "contoso/UK/*", "UK", "leads-uk@contoso.example"),
            ("fabrikam", "fabrikam/DE/*", "DE", "sales@fabrikam.example"),
            ("northwind", "northwind/FR/*", "FR", "contact@northwind.example"))
HELD = 300


def _time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(config_path: Path, *, now: datetime) -> None:
    """Make the database the config names and fill it."""
    App.open(config_module.load(config_path)).close()  # the schema, at the newest revision
    database = config_module.load(config_path).database_url.removeprefix("sqlite:///")
    pick = random.Random(7)
    states = [state for state, count in STATES.items() for _ in range(count)]
    pick.shuffle(states)
    rfis, referrals, events, outbox, inbound = [], [], [], [], []
    for n, state in enumerate(states):
        partner, key, region, contact = PROFILES[n % len(PROFILES)]
        created = now - timedelta(days=730) * ((REFERRALS - n) / REFERRALS) - timedelta(hours=n % 7)
        if state == "new":
            created = now - timedelta(hours=1 + n % 70)
        rfi = f"RFI-BULK-{n:06d}"
        rfis.append((rfi, json.dumps({"name": f"Customer {n}", "email": f"c{n}@example.org", "company": f"Firm {n}"}),
                     region, "A need", "[]", "[]", 1, _time(created)))
        value = str(1000 + n % 90_000) if state in ("negotiating", "won", "lost") else None
        deadline = _time(created + timedelta(hours=72)) if state == "new" else None
        referral = f"R-{n:06d}"
        referrals.append((referral, rfi, partner, key, region, contact, "en", "EUR", state, _time(created), value,
                          _time(created), deadline))
        events.append((referral, _time(created), None, "new", "system", "RFI"))
        if state not in ("new", "missed"):
            answered = created + timedelta(hours=1 + n % 40)
            to = "skipped" if state == "skipped" else "evaluating"
            events.append((referral, _time(answered), "new", to, contact, "INTERESTED"))
            if state not in ("skipped", "evaluating"):
                source = "negotiating" if state in ("won", "lost") else "evaluating"
                events.append((referral, _time(answered + timedelta(days=3)), source, state, contact, state.upper()))
        if n % 10 == 0:
            status = "failed" if n % 1000 == 0 else "sent"
            outbox.append((f"<bulk-{n}@example.com>", referral, "partner/new_referral", contact, f"[Referral {referral}]",
                           b"Subject: x\r\n\r\nbody\r\n", status, 1, _time(created), _time(created)))
        if n % 5 == 0:  # the first HELD of them named no referral
            held = n < 5 * HELD
            inbound.append((f"<reply-{n}@contoso.example>", _time(created), contact,
                            "uncorrelated" if held else "applied:INTERESTED", None if held else referral))
    with sqlite3.connect(database) as connection:
        connection.executemany("INSERT INTO rfi (id, customer, region, need, products, keywords, partners, "
                               "consent_to_share_contact, submitted_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?)", rfis)
        connection.executemany("INSERT INTO referral (id, rfi_id, partner_id, profile_key, region, contact, locale, "
                               "currency, status, status_since, deal_value, created_at, deadline_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", referrals)
        connection.executemany("INSERT INTO event (referral_id, at, from_status, to_status, actor, command) "
                               "VALUES (?, ?, ?, ?, ?, ?)", events)
        connection.executemany("INSERT INTO outbox (message_id, referral_id, kind, recipient, subject, raw, status, "
                               "attempts, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outbox)
        connection.executemany("INSERT INTO inbound (message_id, received_at, sender, outcome, referral_id, replied) "
                               "VALUES (?, ?, ?, ?, ?, 0)", inbound)
    # Written behind refbot's back: its kept counts are made again from the rows, as the
    # migration that added them does.
    engine = connect(f"sqlite:///{database}")
    with engine.begin() as connection:
        tally.rebuild(connection)
    engine.dispose()
