"""`refbot preview TEMPLATE --locale L [--out FILE]` (SPEC §7): one email with sample data."""

from __future__ import annotations

import email
from email.policy import default as default_policy


def test_preview_prints_the_subject_and_text_in_the_readers_language(refbot):
    code, out, err = refbot("preview", "partner/new_referral", "--locale", "de")
    assert code == 0, err
    assert out.startswith("Subject: [Referral R-7K3Q9] Neue Empfehlung in Berlin, DE")
    assert "Unternehmensgröße: mittel" in out and "Erika" not in out  # no customer before INTERESTED
    assert not (refbot.config.parent / "var").exists()  # a preview needs no database


def test_preview_writes_a_whole_email_or_its_html(refbot):
    eml, html = refbot.config.parent / "redirect.eml", refbot.config.parent / "redirect.html"
    assert refbot("preview", "customer/redirect", "--locale", "fr", "--out", str(eml))[0] == 0
    message = email.message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert message["To"] == "erika@example.org" and message["Auto-Submitted"] == "auto-generated"
    assert str(message["Subject"]).startswith("Votre demande RFI-2026-0001")  # a customer's, without the tag
    assert b"\nSubject: Votre demande" in eml.read_bytes()  # one line, not folded before its first word
    assert "choisir" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)).get_content().lstrip().startswith("<!DOCTYPE html>")
    assert refbot("preview", "customer/redirect", "--out", str(html))[0] == 0
    assert "https://example.com/find-a-partner" in html.read_text()


def test_preview_refuses_what_it_cannot_do(refbot):
    code, _, err = refbot("preview", "partner/nope")
    assert code == 2 and "'partner/nope' is not one of 'partner/new_referral'" in err
    code, _, err = refbot("preview", "partner/help", "--out", "help.txt")
    assert code == 2 and ".eml" in err and ".html" in err
    code, _, err = refbot("preview", "partner/help", "--locale", "xx")
    assert code == 2 and "'xx' is not one of 'de', 'en', 'fr'" in err
