"""The referral lifecycle end to end through the command line, with a real SMTP server
(aiosmtpd) receiving what refbot sends: what partners and customers would see."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import tokens
from tests.conftest import RFI

CONTACT = "leads-de@contoso.example"
CUSTOMER = "erika@example.org"


def secret_of(refbot) -> bytes:
    return (refbot.config.parent / "secret").read_bytes().strip()


def created_at(refbot, referral_id: str) -> datetime:
    shown = refbot.json("referrals", "show", referral_id)
    return datetime.fromisoformat(shown["created_at"].replace("Z", "+00:00"))


def at(moment: datetime) -> str:
    return moment.isoformat()


def after_the_undo_window(refbot) -> dict:
    """`refbot tick` once UNDO's 15 minutes are over: held customer notices go out."""
    return refbot.json("tick", "--now", at(datetime.now(timezone.utc) + timedelta(minutes=16)))


@pytest.fixture
def referral(refbot, smtp_server):
    """A referral for contoso in state new, with the first email received."""
    result = refbot.submit()
    smtp_server.catcher.wait_for(1)
    return result["referrals"][0]["id"]


def test_submit_sends_an_overview_without_customer_contact_data(refbot, smtp_server):
    result = refbot.submit()
    assert result["rfi_id"] == "RFI-2026-0001"
    assert result["unrouted"] == []
    (entry,) = result["referrals"]
    assert entry["partner"] == "contoso" and entry["contact"] == CONTACT
    assert re.fullmatch(r"R-[0-9A-Z]{5}", entry["id"])

    (mail,) = smtp_server.catcher.wait_for(1)
    assert mail.to == CONTACT
    message = mail.message
    assert f"[Referral {entry['id']}]" in mail.subject
    assert message["Auto-Submitted"] == "auto-generated"
    reply_to = message["Reply-To"].addresses[0].addr_spec
    token = tokens.find_in_address("referrals+{token}@example.com", reply_to)
    assert tokens.verify(secret_of(refbot), token, "contoso/DE/berlin+munich")
    assert tokens.parse(token)[0] == entry["id"]
    for secret_fact in ("Erika", "Mustermann", CUSTOMER, "1234567", "Example GmbH"):
        assert secret_fact not in mail.text and secret_fact not in mail.html
    assert "Move our on-premises SQL Server to Azure" in mail.text
    stored = refbot.json("outbox", "list")
    assert stored[0]["message_id"] == message["Message-ID"] and stored[0]["status"] == "sent"


def test_interested_reveals_the_customer_details(refbot, smtp_server, referral):
    smtp_server.catcher.clear()
    code, _, err = refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)
    assert code == 0, err
    (mail,) = smtp_server.catcher.wait_for(1)
    assert mail.to == CONTACT
    for fact in ("Erika Mustermann", CUSTOMER, "+49 30 1234567", "Example GmbH"):
        assert fact in mail.text
    assert refbot.json("referrals", "show", referral)["status"] == "evaluating"


def test_no_thanks_confirms_and_redirects_the_customer(refbot, smtp_server, referral):
    smtp_server.catcher.clear()
    assert refbot("referrals", "apply", referral, "no,", "thanks", "--as", "anna@contoso.example")[0] == 0
    (confirmation,) = smtp_server.catcher.wait_for(1)
    assert confirmation.to == "anna@contoso.example" and "Antworten Sie RÜCKGÄNGIG vor" in confirmation.text
    assert smtp_server.catcher.to(CUSTOMER) == []  # the notice waits until UNDO is no longer possible
    assert after_the_undo_window(refbot)["sent"] == 1
    notice = smtp_server.catcher.to(CUSTOMER)[0]
    assert "https://example.com/find-a-partner" in notice.text
    assert "noch bei" not in notice.text  # no other partner has this RFI
    shown = refbot.json("referrals", "show", referral)
    assert shown["status"] == "skipped" and shown["archived"] is True
    # An admin acted, for Anna: the timeline says both, and Anna got the confirmation she would have.
    assert (shown["events"][-1]["actor"], shown["events"][-1]["on_behalf_of"]) == ("admin", "anna@contoso.example")
    assert (shown["events"][-1]["from"], shown["events"][-1]["to"]) == ("new", "skipped")
    code, out, _ = refbot("referrals", "show", referral)
    assert code == 0 and "admin for anna@contoso.example" in out


def test_full_path_to_won(refbot, smtp_server, referral):
    for words in (["INTERESTED"], ["ACCEPT", "25.000,50", "EUR", "31.12.2030"], ["WON", "27.000"]):
        assert refbot("referrals", "apply", referral, *words, "--as", CONTACT)[0] == 0
    shown = refbot.json("referrals", "show", referral)
    assert shown["status"] == "won"
    assert shown["deal_value"] == "27000"
    assert shown["closing_date"] == "2030-12-31"
    assert [(e["from"], e["to"]) for e in shown["events"]] == [
        (None, "new"), ("new", "evaluating"), ("evaluating", "negotiating"), ("negotiating", "won")]
    assert smtp_server.catcher.to(CUSTOMER) == []  # no customer notice on the way to won


def test_decline_redirects_the_customer(refbot, smtp_server, referral):
    refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)
    smtp_server.catcher.clear()
    assert refbot("referrals", "apply", referral, "DECLINE", "too", "small", "for", "us", "--as", CONTACT)[0] == 0
    assert len(smtp_server.catcher.wait_for(1)) == 1
    after_the_undo_window(refbot)
    assert len(smtp_server.catcher.to(CUSTOMER)) == 1
    shown = refbot.json("referrals", "show", referral)
    assert shown["status"] == "declined" and shown["events"][-1]["reason"] == "too small for us"


def test_lost_is_confirmed(refbot, smtp_server, referral):
    refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)
    refbot("referrals", "apply", referral, "ACCEPT", "2030-06-30", "10k", "--as", CONTACT)
    smtp_server.catcher.clear()
    assert refbot("referrals", "apply", referral, "LOST", "budget", "cut", "--as", CONTACT)[0] == 0
    (mail,) = smtp_server.catcher.wait_for(1)
    assert mail.to == CONTACT and f"[Referral {referral}]" in mail.subject
    assert refbot.json("referrals", "show", referral)["status"] == "lost"


def test_no_reply_in_72_hours_is_missed_once(refbot, smtp_server, referral):
    start = created_at(refbot, referral)
    smtp_server.catcher.clear()
    planned = refbot.json("tick", "--now", at(start + timedelta(hours=73)), "--dry-run")
    assert planned["planned"] == [{"referral": referral, "action": "time out", "status": "new", "to": "missed",
                                   "emails": ["partner/missed", "customer/redirect"]}]
    code, out, _ = refbot("tick", "--now", at(start + timedelta(hours=73)), "--dry-run")
    assert code == 0 and f"time out  {referral}  new -> missed" in out and "Nothing was changed" in out
    assert refbot.json("referrals", "show", referral)["status"] == "new" and smtp_server.catcher.received == []
    first = refbot.json("tick", "--now", at(start + timedelta(hours=73)))
    assert first["timed_out"] == [referral]
    mails = smtp_server.catcher.wait_for(2)
    assert sorted(m.to for m in mails) == sorted([CONTACT, CUSTOMER])
    assert refbot.json("referrals", "show", referral)["status"] == "missed"
    second = refbot.json("tick", "--now", at(start + timedelta(hours=74)))
    assert second["timed_out"] == [] and second["sent"] == 0
    assert len(smtp_server.catcher.received) == 2  # nothing sent twice


def test_a_late_tick_names_the_deadline_not_the_hour_it_ran(refbot, smtp_server, referral):
    # The daemon was down for a day: the notice must still say when the answer was due.
    start = created_at(refbot, referral)
    smtp_server.catcher.clear()
    assert refbot.json("tick", "--now", at(start + timedelta(hours=97)))["timed_out"] == [referral]
    smtp_server.catcher.wait_for(2)
    (notice,) = smtp_server.catcher.to(CONTACT)
    berlin = ZoneInfo("Europe/Berlin")
    due, ran = ((start + timedelta(hours=h)).astimezone(berlin) for h in (72, 97))
    assert f"bis {due:%d.%m.%Y, %H:%M} MEZ" in notice.text  # the partner reads German
    assert f"{ran:%H:%M}" not in notice.text


def test_reminders_then_expiry_in_evaluating(refbot, smtp_server, referral):
    start = created_at(refbot, referral)
    refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)
    smtp_server.catcher.clear()
    planned = refbot.json("tick", "--now", at(start + timedelta(days=6, hours=1)), "--dry-run")["planned"]
    assert [(p["action"], p["emails"]) for p in planned] == [("remind", ["partner/reminder_evaluating"])]
    reminded = refbot.json("tick", "--now", at(start + timedelta(days=6, hours=1)))
    assert reminded["reminded"] == [referral]
    assert refbot.json("tick", "--now", at(start + timedelta(days=6, hours=2)))["reminded"] == []
    expired = refbot.json("tick", "--now", at(start + timedelta(days=8)))
    assert expired["timed_out"] == [referral]
    assert refbot.json("referrals", "show", referral)["status"] == "expired"
    assert len(smtp_server.catcher.to(CUSTOMER)) == 1
    assert len(smtp_server.catcher.to(CONTACT)) == 2  # the reminder and the expired notice


def test_new_referral_reminded_at_24_hours(refbot, smtp_server, referral):
    start = created_at(refbot, referral)
    smtp_server.catcher.clear()
    assert refbot.json("tick", "--now", at(start + timedelta(hours=23)))["reminded"] == []
    assert refbot.json("tick", "--now", at(start + timedelta(hours=25)))["reminded"] == [referral]
    assert refbot.json("tick", "--now", at(start + timedelta(hours=26)))["reminded"] == []
    assert [m.to for m in smtp_server.catcher.received] == [CONTACT]


def test_bad_command_gets_an_explanation_and_changes_nothing(refbot, smtp_server, referral):
    smtp_server.catcher.clear()
    code, _, err = refbot("referrals", "apply", referral, "ACCEPT", "25000", "2030-12-31", "--as", CONTACT)
    assert code == 2
    assert "not applied" in err and err.count("\n") == 1
    (mail,) = smtp_server.catcher.wait_for(1)
    assert mail.to == CONTACT and "INTERESSIERT" in mail.text
    assert refbot.json("referrals", "show", referral)["status"] == "new"


def test_interested_twice_is_already_in_effect(refbot, smtp_server, referral):
    refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)
    smtp_server.catcher.clear()
    code, _, err = refbot("referrals", "apply", referral, "Interested!", "--as", "anna@contoso.example")
    assert code == 2 and "already evaluating since" in err and "by an administrator" in err  # the first apply
    (mail,) = smtp_server.catcher.wait_for(1)
    assert mail.to == "anna@contoso.example"
    assert len(refbot.json("referrals", "show", referral)["events"]) == 2


def test_a_stranger_cannot_act_and_gets_no_mail(refbot, smtp_server, referral):
    smtp_server.catcher.clear()
    code, _, err = refbot("referrals", "apply", referral, "INTERESTED", "--as", "mallory@evil.example")
    assert code == 2 and "mallory@evil.example" in err
    assert smtp_server.catcher.received == []
    assert refbot.json("referrals", "show", referral)["status"] == "new"


def test_submitting_the_same_rfi_twice_creates_nothing(refbot, smtp_server, referral):
    again = refbot.submit()
    assert [r["id"] for r in again["referrals"]] == [referral]
    assert len(refbot.json("referrals", "list")) == 1
    assert len(smtp_server.catcher.received) == 1


def test_unnamed_rfi_goes_to_the_best_matches(refbot, smtp_server):
    result = refbot.submit(rfi_id="RFI-2", partners=[])
    assert sorted(r["partner"] for r in result["referrals"]) == ["contoso", "fabrikam"]
    assert len(smtp_server.catcher.wait_for(2)) == 2


def test_redirect_notice_says_the_rfi_is_still_open_elsewhere(refbot, smtp_server):
    result = refbot.submit(rfi_id="RFI-3", partners=[])
    first = result["referrals"][0]
    smtp_server.catcher.clear()
    refbot("referrals", "apply", first["id"], "NO THANKS", "--as", first["contact"])
    after_the_undo_window(refbot)
    (notice,) = smtp_server.catcher.to(CUSTOMER)
    assert "https://example.com/find-a-partner" in notice.text
    assert "still open with 1 other partner," in notice.text or "noch bei 1 weiteren Partner offen" in notice.text


def test_delivery_failure_keeps_messages_queued_with_the_same_message_id(refbot, smtp_server):
    smtp_server.catcher.refuse_with = "451 4.3.0 try again later"
    code, out, err = refbot("rfi", "submit", "-", "--json", stdin=json.dumps(RFI))
    assert code == 0, err
    (queued,) = refbot.json("outbox", "list")
    assert queued["status"] == "queued" and queued["attempts"] == 1 and "451" in queued["last_error"]
    smtp_server.catcher.refuse_with = None
    flushed = refbot.json("outbox", "flush")
    assert flushed["sent"] == [queued["id"]]
    (mail,) = smtp_server.catcher.received
    assert mail.message["Message-ID"] == queued["message_id"]
    assert refbot.json("outbox", "flush")["sent"] == []
    assert len(smtp_server.catcher.received) == 1


def test_flush_exits_1_while_anything_is_unsent(refbot, smtp_server):
    smtp_server.catcher.refuse_with = "451 4.3.0 try again later"
    refbot.submit()
    code, out, err = refbot("outbox", "flush", "--json")
    assert code == 1 and json.loads(out)["retrying"] != [] and "1 message is still unsent" in err
    smtp_server.catcher.refuse_with = "550 5.1.1 no such user"
    assert refbot("outbox", "flush")[0] == 1
    assert refbot.json("outbox", "list")[0]["status"] == "failed"
    smtp_server.catcher.refuse_with = None  # the failed message is tried again too
    code, out, err = refbot("outbox", "flush")
    assert (code, out, err) == (0, "sent: 1, waiting for retry: 0, failed: 0\n", "")


def test_retry_resends_a_failed_message(refbot, smtp_server):
    smtp_server.catcher.refuse_with = "550 5.1.1 no such user"
    refbot.submit()
    (failed,) = refbot.json("outbox", "list")
    assert failed["status"] == "failed"
    referral = refbot.json("referrals", "list")[0]
    assert "550" in refbot.json("referrals", "show", referral["id"])["bounce"]
    smtp_server.catcher.refuse_with = None
    assert refbot.json("outbox", "retry", str(failed["id"]))["sent"] == [failed["id"]]
    code, _, err = refbot("outbox", "retry", str(failed["id"]))
    assert code == 2 and "already sent" in err


def test_without_consent_the_partner_never_sees_email_or_phone(refbot, smtp_server):
    referral = refbot.submit(consent_to_share_contact=False)["referrals"][0]["id"]
    refbot("referrals", "apply", referral, "INTERESTED", "--as", CONTACT)
    details = smtp_server.catcher.wait_for(2)[1]
    assert "Erika Mustermann" in details.text
    assert CUSTOMER not in details.text and "1234567" not in details.text
    assert CUSTOMER not in details.html and "1234567" not in details.html
