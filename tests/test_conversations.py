"""Whole conversations through real mail: a partner answers refbot's emails from their mail
client, the daemon reads them from Dovecot by IDLE and answers through aiosmtpd."""

from __future__ import annotations


def test_a_german_partner_takes_a_referral_to_won(referral_in_negotiating):
    contoso = referral_in_negotiating.partner
    contoso.replies("GEWONNEN 27.500 €", client="outlook-de")
    contoso.expect(subject="Glückwunsch", body_contains=["27.500,00"])


def test_a_state_refusal_quotes_the_line_and_names_the_command(referral_in_new):
    """WON while new: the answer names WON and says why, never "no command"."""
    contoso = referral_in_new.partner
    contoso.replies("GEWONNEN 30.000 EUR", client="outlook-de")
    answer = contoso.expect(subject="nicht übernommen", body_lacks=["keinen Befehl"])
    assert "„GEWONNEN 30.000 EUR“" in answer.text and "Befehl: GEWONNEN" in answer.text
    assert "im Status „neu“" in answer.text


def test_a_reply_without_a_command_says_it_found_none(referral_in_new):
    contoso = referral_in_new.partner
    contoso.replies("Können Sie mir mehr zum Projekt sagen?", client="outlook-de")
    answer = contoso.expect(subject="nicht übernommen", body_contains=["keinen Befehl"])
    assert "„Können Sie mir mehr zum Projekt sagen?“" in answer.text and "Befehl: " not in answer.text



def test_a_command_that_does_not_apply_now_is_refused_for_that_whatever_its_arguments(referral_in_new):
    contoso = referral_in_new.partner
    contoso.replies("ANNEHMEN 25.000 EUR 03/04/2027", client="outlook-de")
    answer = contoso.expect(subject="nicht übernommen", body_contains=["ANNEHMEN ist im Status „neu“ nicht möglich"])
    assert "03.04.2027" not in answer.text
