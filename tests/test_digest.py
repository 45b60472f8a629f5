"""The weekly digest (SPEC §2), sent by the scheduler once a week per profile, also after
downtime; the partner reads it through real mail."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.digest import WEEKDAYS

GAMMA = """
[[partners]]
id = "gamma"
name = "Gamma AG"

  [[partners.profiles]]
  region = "CH"
  contact = "leads@gamma.example"
  locale = "de"
  currency = "CHF"
  digest = true
"""
NOW = datetime.now(timezone.utc)
TOMORROW = NOW.astimezone(ZoneInfo("Europe/Berlin")) + timedelta(days=1)


@pytest.fixture
def mail_config():
    # The digest falls due tomorrow at midnight, local time.
    return {"extra": GAMMA + f'\n[digest]\nweekday = "{WEEKDAYS[TOMORROW.weekday()]}"\nhour = 0\n'}


def tick(mail, at: datetime) -> dict:
    return mail.refbot.json("tick", "--now", at.isoformat())


def test_the_weekly_digest_lists_what_waits_and_what_is_overdue_once_a_week(mail):
    gamma = mail.person("leads@gamma.example")
    assert tick(mail, NOW)["digests"] == []  # last week's is due, but there is nothing to tell yet
    ids = [mail.refbot.submit(rfi_id=f"RFI-CH-{n}", region="CH", location="Zürich", partners=["gamma"])
           ["referrals"][0]["id"] for n in (1, 2, 3)]
    mails = [gamma.expect(subject="Neue Empfehlung") for _ in ids]
    today = NOW.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    for number, (referral, first) in enumerate(zip(ids[:2], mails[:2])):
        gamma.replies("INTERESSIERT", answering=first.message)
        details = gamma.expect(about=referral)
        if number == 0:  # a deal whose estimated closing day is today: past it tomorrow
            gamma.replies(f"ANNEHMEN 12.000 CHF {today}", answering=details.message)
            gamma.expect(about=referral)

    later = (NOW + timedelta(days=1, hours=1)).isoformat()
    planned = mail.refbot.json("tick", "--now", later, "--dry-run")["planned"]
    assert [p for p in planned if p["action"] == "digest"] == [
        {"referral": None, "action": "digest", "status": None, "to": None, "emails": ["partner/digest"],
         "profile": "gamma/CH/*"}]
    code, out, _ = mail.refbot("tick", "--now", later, "--dry-run")
    assert code == 0 and "digest    to gamma/CH/* emails: partner/digest" in out
    done = tick(mail, NOW + timedelta(days=1, hours=1))
    assert done["digests"] == ["gamma/CH/*"]
    got = [gamma.expect() for _ in range(len(done["reminded"]) + 1)]  # the digest, and the reminders due then
    (digest,) = [m for m in got if "Ihre Woche in Empfehlungen" in m.subject]
    assert digest.subject == "Ihre Woche in Empfehlungen: 2 offen, 1 nach dem Abschlussdatum"
    text = digest.text.replace("\u00a0", " ")
    assert f"{ids[2]} · Zürich, CH · neu · antworten bis" in text and f"{ids[1]} · Zürich, CH · in Prüfung" in text
    assert f"{ids[0]} · Zürich, CH · 12.000,00 CHF · Abschluss" in text
    assert "Sie haben 2 von 3 Empfehlungen innerhalb von 24 Stunden beantwortet (67 %)" in text
    assert "[Referral" not in digest.subject and digest.message["Reply-To"] is None

    assert tick(mail, NOW + timedelta(days=1, hours=2))["digests"] == []  # once a week
    gamma.expect_nothing(within=0.5)
    # Down for the whole of next week's digest hour: the next tick sends it.
    assert tick(mail, NOW + timedelta(days=9))["digests"] == ["gamma/CH/*"]
