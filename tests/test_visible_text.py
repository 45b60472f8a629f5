"""What counts as the partner's own words (SPEC §3): the text above the quoted original,
without the signature and a client's copy of the original."""

from __future__ import annotations

import pytest

from bot.inbound.reply_text import own_text, visible_text, without_our_words


def test_quoted_instructions_are_not_the_partners_words():
    assert own_text("> reply INTERESTED or NO THANKS\n> INTERESTED\n>> NO THANKS") == ""


def test_quoted_lines_are_skipped_but_own_text_counts():
    text = "> INTERESTED – to see the customer's details\n\nNO THANKS\n> reply INTERESTED or NO THANKS"
    assert own_text(text) == "NO THANKS"


@pytest.mark.parametrize("marker", [
    "-----Original Message-----",
    "-----Ursprüngliche Nachricht-----",
    "From: Contoso Referrals <referrals@example.com>",
    "Von: Contoso Referrals <referrals@example.com>",
    "On Mon, 4 May 2026 at 10:00, Contoso Referrals <referrals@example.com> wrote:",
    "Am 04.05.2026 um 10:00 schrieb Contoso Referrals <referrals@example.com>:",
    "________________________________",
    "--",
])
def test_an_unquoted_original_or_signature_ends_the_partners_words(marker):
    text = f"Thanks, we will look at it\n{marker}\nINTERESTED – to see the customer's details\nNO THANKS"
    assert own_text(text) == "Thanks, we will look at it"


def test_the_reply_parser_and_the_own_text_rule_together():
    body = ("Interessiert!\n\nViele Grüße\nAnna\n\nAm 24.11.2026 um 09:00 schrieb Contoso Referrals "
            "<referrals@example.com>:\n> Antworten Sie mit NEIN DANKE\n")
    assert visible_text(body).splitlines()[0] == "Interessiert!"
    assert "NEIN DANKE" not in visible_text(body)


@pytest.mark.parametrize("signature", [
    "Sent from my iPhone",
    "Sent from Outlook for Android",
    "Von meinem iPhone gesendet",
    "Gesendet mit der WEB.DE Mail App",
    "Envoyé de mon iPhone",
    "Envoyé depuis mon appareil Galaxy",
])
def test_a_phone_signature_is_not_part_of_the_reason(signature):
    assert visible_text(f"DECLINE no budget this year\n\n{signature}") == "DECLINE no budget this year"


def test_a_line_that_only_starts_like_a_signature_is_the_partners():
    text = "LOST\nSent from my desk phone the figures we discussed were far over the customer's budget"
    assert own_text(text) == text


def test_a_copy_of_a_button_link_is_not_the_partners_words():
    """Clients that turn our HTML into text write a button as "INTERESTED ›<mailto:...>"."""
    ours = ["Hello,\nINTERESTED \u203a"]
    reply = ("Let me check with the team first.\n"
             "INTERESTED \u203a<mailto:referrals+r-7k3q9-abc@example.com?subject=Re%3A%20x&body=INTERESTED>\n"
             "INTERESTED \u203a")
    kept = without_our_words(reply, ours, addresses=["referrals+r-7k3q9-abc@example.com"])
    assert kept == "Let me check with the team first."
    assert without_our_words("INTERESTED", ours, addresses=["referrals+r-7k3q9-abc@example.com"]) == "INTERESTED"
