"""Referrals made by bulk inserts (refbot's own code would take minutes for 100,000), and the
partner replies that answer them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

from bench.site import CONTACT, PROFILE_KEY, SECRET, Site
from bot import tokens

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as bot.models.new_referral_id
CHUNK = 50_000


def referral_id(n: int) -> str:
    digits = []
    for _ in range(5):
        n, digit = divmod(n, 32)
        digits.append(ALPHABET[digit])
    return "R-" + "".join(reversed(digits))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class Seeded:
    id: str
    status: str
    token: str


def referrals(site: Site, count: int, *, now: datetime, status=lambda n: "new", due=lambda n: False,
              start: int = 0) -> list[Seeded]:
    """``count`` referrals for the one profile, in the state ``status(n)`` says; a new or
    evaluating one whose ``due(n)`` is true has its deadline an hour ago, the others in days."""
    site.app().close()  # the schema, at the newest revision, and the profiles from the config
    made: list[Seeded] = []
    with sqlite3.connect(site.sqlite_path) as db:
        for first in range(start, start + count, CHUNK):
            rfis, rows, events = [], [], []
            for n in range(first, min(start + count, first + CHUNK)):
                rid, state = referral_id(n), status(n)
                created = now - timedelta(hours=2, seconds=n)  # one a second, as a program's come in
                rfi = f"RFI-BENCH-{n:07d}"
                rfis.append((rfi, json.dumps({"name": f"Customer {n}", "email": f"c{n}@example.org",
                                              "company": f"Firm {n}"}), "UK", "A need", "[]", "[]", "[]", 1,
                             stamp(created)))
                deadline = None
                if state in ("new", "evaluating"):
                    deadline = stamp(now - timedelta(hours=1) if due(n) else now + timedelta(days=3))
                reminder = stamp(now + timedelta(days=2)) if state in ("new", "evaluating") else None
                rows.append((rid, rfi, "contoso", PROFILE_KEY, "UK", CONTACT, "en", "EUR", state, stamp(created),
                             stamp(created), deadline, reminder))
                events.append((rid, stamp(created), None, "new", "system", "RFI"))
                if state != "new":
                    events.append((rid, stamp(created + timedelta(minutes=5)), "new", state, CONTACT, "INTERESTED"))
                made.append(Seeded(rid, state, tokens.sign(SECRET.encode(), rid, PROFILE_KEY)))
            db.executemany("INSERT INTO rfi (id, customer, region, need, products, keywords, partners, "
                           "consent_to_share_contact, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rfis)
            db.executemany("INSERT INTO referral (id, rfi_id, partner_id, profile_key, region, contact, locale, "
                           "currency, status, status_since, created_at, deadline_at, next_reminder_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO event (referral_id, at, from_status, to_status, actor, command) "
                           "VALUES (?, ?, ?, ?, ?, ?)", events)
    return made


MIXED = ("INTERESTED", "NO THANKS", "ACCEPT 25000 EUR 2030-12-31")


def mixed_status(n: int) -> str:
    """The state a referral needs for the n-th command of MIXED."""
    return "evaluating" if n % len(MIXED) == 2 else "new"


def reply(referral: Seeded, text: str, *, n: int) -> tuple[str, bytes]:
    """A partner's reply to ``referral``'s email, as Gmail writes it: its Message-ID and bytes."""
    message = EmailMessage()
    message["From"] = CONTACT
    message["To"] = f"referrals+{referral.token}@example.com"
    message["Subject"] = f"Re: [Referral {referral.id}] New referral"
    message["Date"] = "Tue, 24 Nov 2026 10:00:00 +0100"
    message_id = f"<bench-{n}-{referral.id}@contoso.example>"
    message["Message-ID"] = message_id
    message.set_content(f"{text}\n\nThanks,\nAnna\n\nOn Tue, 24 Nov 2026 at 09:00, Contoso Referrals wrote:\n"
                        f"> A new referral for you: {referral.id}\n> Reply INTERESTED or NO THANKS.\n")
    return message_id, message.as_bytes(policy=SMTP)


def append(site: Site, folder: str, messages: list[bytes]) -> None:
    """Put ``messages`` in the IMAP ``folder`` over one connection."""
    with site.dovecot.client(timeout=60) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in messages:
            client.append(folder, raw)


def count(site: Site, folder: str) -> int:
    with site.dovecot.client(timeout=60) as client:
        if not client.folder_exists(folder):
            return 0
        return client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]
