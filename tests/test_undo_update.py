"""UNDO, UPDATE, notes and reasons (SPEC §2, §3), through real mail: the daemon reads replies
from Dovecot and answers through aiosmtpd."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.test_languages import first_email, plain

CUSTOMER = "erika@example.org"


def later(mail, minutes: int) -> dict:
    return mail.refbot.json("tick", "--now", (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat())


def test_undo_inside_the_window_restores_the_referral_and_the_customer_never_hears(referral_in_evaluating, mail):
    scene = referral_in_evaluating
    before = mail.referral(scene.referral)
    scene.partner.replies("ABLEHNEN Budget eingefroren bis Q3\nGerne wieder danach, melden Sie sich im Juli.",
                          client="outlook-de")
    confirmation = scene.partner.expect(subject="abgelehnt", about=scene.referral,
                                        body_contains=["Verstanden haben wir: Budget", "Antworten Sie RÜCKGÄNGIG vor"])
    event = mail.referral(scene.referral)["events"][-1]
    assert (event["reason"], event["reason_code"]) == ("Budget eingefroren bis Q3", "budget")
    assert event["note"] == "Gerne wieder danach, melden Sie sich im Juli."
    scene.customer.expect_nothing(within=0.5)  # the notice waits out the UNDO window

    scene.partner.replies("RÜCKGÄNGIG", answering=confirmation.message)
    scene.partner.expect(subject="Zurückgenommen: ABLEHNEN", body_contains=["wieder im Status „in Prüfung“"])
    after = mail.referral(scene.referral)
    assert after["status"] == "evaluating" and after["deadline_at"] == before["deadline_at"]
    assert after["status_since"] == before["status_since"]
    assert after["events"][-1]["command"] == "UNDO" and after["events"][-1]["from"] == "declined"

    later(mail, 20)  # long after the window: the notice of the undone DECLINE is never sent
    scene.customer.expect_nothing(within=0.5)
    (held,) = [m for m in mail.refbot.json("outbox", "list") if m["to"] == CUSTOMER]
    assert held["status"] == "cancelled"
    code, _, err = mail.refbot("outbox", "retry", str(held["id"]))
    assert code == 2 and "cancelled by UNDO" in err


class TestAfterTheWindow:
    @pytest.fixture
    def mail_config(self):
        return {"extra": "[timeouts]\nundo_minutes = 0\n"}  # the window closes as the change is made

    def test_undo_after_the_window_is_refused_with_the_time_it_closed(self, mail):
        referral, person, partner = first_email(mail, "en")
        person.replies("NO THANKS")
        confirmation = person.expect(subject="passed on", body_lacks=["Reply UNDO before"])
        notice = mail.person(CUSTOMER).expect(subject="RFI-EN")  # nothing to wait for: sent at once
        assert "[Referral" not in notice.subject
        person.replies("UNDO", answering=confirmation.message)
        text = person.expect(subject="not applied").text
        assert "NO THANKS could be taken back until" in text and "that time has passed" in text
        assert mail.referral(referral)["status"] == "skipped"

    def test_once_the_window_has_closed_no_email_offers_undo(self, mail):
        referral, person, partner = first_email(mail, "en")
        person.replies("NO THANKS")
        assert "body=UNDO" not in person.expect(subject="passed on").html
        person.replies("HELP")
        help_ = person.expect(body_contains=["STATUS", "HELP"], body_lacks=["UNDO"])
        assert "body=UNDO" not in help_.html  # no button for a command that would be refused


def test_inside_the_window_help_offers_undo(mail):
    referral, person, partner = first_email(mail, "en")
    person.replies("NO THANKS")
    person.expect(subject="passed on")
    person.replies("HELP")
    help_ = person.expect(body_contains=["UNDO"])
    assert "body=UNDO" in help_.html


UPDATES = {
    "en": ("INTERESTED", "ACCEPT 25000 2030-12-31", "UPDATE 30000 2031-06-30", "Estimate updated",
           ["€25,000.00 → €30,000.00", "31 Dec 2030 → 30 Jun 2031"],
           "LOST customer went with a competitor\nThey chose the incumbent.", "other_vendor",
           "We understood it as: the customer chose another vendor"),
    "de": ("INTERESSIERT", "ANNEHMEN 25.000 31.12.2030", "ÄNDERN 30.06.2031", "Schätzung geändert",
           ["25.000,00 € → 25.000,00 €", "31.12.2030 → 30.06.2031"],
           "VERLOREN Kunde reagiert nicht mehr\nZwei Anrufe, keine Rückmeldung.", "customer_unresponsive",
           "Verstanden haben wir: der Kunde hat nicht geantwortet"),
    "fr": ("INTÉRESSÉ", "ACCEPTER 25 000 31/12/2030", "MODIFIER 30 000", "Estimation modifiée",
           ["25 000,00 € → 30 000,00 €", "31 déc. 2030 → 31 déc. 2030"],
           "PERDU projet reporté à l'an prochain\nÀ relancer en janvier.", "timeline",
           "Nous l'avons compris ainsi : calendrier"),
}


@pytest.mark.parametrize("language", UPDATES)
def test_update_shows_old_and_new_and_lost_keeps_reason_and_note(mail, language):
    interested, accept, update, updated, changes, lost, code, understood = UPDATES[language]
    referral, person, partner = first_email(mail, language)
    for text in (interested, accept):
        person.replies(text, client=partner["client"])
        person.expect(about=referral)
    person.replies(update, client=partner["client"])
    confirmation = plain(person.expect(subject=updated, about=referral).text)
    for change in changes:
        assert plain(change) in confirmation, confirmation
    shown = mail.referral(referral)
    assert shown["status"] == "negotiating" and shown["events"][-1]["command"] == "UPDATE"
    person.replies(lost, client=partner["client"])
    assert plain(understood) in plain(person.expect(about=referral).text)
    event = mail.referral(referral)["events"][-1]
    assert event["reason_code"] == code and event["note"] == lost.split("\n")[1]
