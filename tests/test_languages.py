"""Partners write in English, German or French (SPEC §3), through real mail: the daemon reads
their replies from Dovecot and answers through aiosmtpd, in the profile's language.

The three partners of the test config: Fabrikam's desk writes English, Contoso's German and
Northwind's French."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conversation import Mailroom

# Per language: who answers, the RFI that reaches them, and what they read and write.
PARTNERS = {
    "en": dict(address="sales@fabrikam.example", rfi=dict(rfi_id="RFI-EN", partners=["fabrikam"]),
               client="gmail", new="New referral", refused="not applied", won="WON 30000",
               read='What we read: "WON 30000"', understood="The command we understood: WON",
               why="WON is not possible while the referral is new.", nothing="We found no command in it",
               question="Can you tell me more about the project?"),
    "de": dict(address="leads-de@contoso.example", rfi=dict(rfi_id="RFI-DE", partners=["contoso"]),
               client="outlook-de", new="Neue Empfehlung", refused="nicht übernommen", won="GEWONNEN 30.000 EUR",
               read="Gelesen haben wir: „GEWONNEN 30.000 EUR“", understood="Verstanden haben wir den Befehl: GEWONNEN",
               why="GEWONNEN ist im Status „neu“ nicht möglich.", nothing="keinen Befehl",
               question="Können Sie mir mehr zum Projekt sagen?"),
    "fr": dict(address="contact@northwind.example", rfi=dict(rfi_id="RFI-FR", partners=["northwind"], region="FR",
                                                             location="Paris"),
               client="apple-fr", new="Nouvelle recommandation", refused="pas été prise en compte", won="GAGNÉ 30 000 EUR",
               read="Ce que nous avons lu : « GAGNÉ 30 000 EUR »", understood="Commande comprise : GAGNÉ",
               why="La commande GAGNÉ n'est pas disponible tant que la recommandation est au statut « nouvelle ».",
               nothing="aucune commande", question="Pouvez-vous m'en dire plus sur le projet ?"),
}


def plain(text: str) -> str:
    """French puts no-break spaces before colons and inside guillemets; compare words, not spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def first_email(mail: Mailroom, language: str):
    partner = PARTNERS[language]
    referral = mail.submit(**partner["rfi"])
    person = mail.person(partner["address"])
    person.expect(subject=partner["new"], about=referral)
    return referral, person, partner


@pytest.mark.parametrize("language", PARTNERS)
def test_a_state_refusal_quotes_the_line_and_names_the_command_it_understood(mail, language):
    referral, person, partner = first_email(mail, language)
    person.replies(partner["won"], client=partner["client"])
    text = plain(person.expect(subject=partner["refused"], about=referral).text)
    for words in (partner["read"], partner["understood"], partner["why"]):
        assert words in text, text
    assert partner["nothing"] not in text
    assert mail.referral(referral)["status"] == "new"


@pytest.mark.parametrize("language", PARTNERS)
def test_an_unreadable_reply_is_told_no_command_was_found(mail, language):
    referral, person, partner = first_email(mail, language)
    person.replies(partner["question"], client=partner["client"])
    text = plain(person.expect(subject=partner["refused"], about=referral).text)
    assert partner["nothing"] in text and partner["question"] in text
    assert partner["understood"].rsplit(" ", 1)[0] not in text  # no command named


@pytest.mark.parametrize("written", ["Intéressé", "INTERESSE"])
def test_a_french_partner_is_interested_with_or_without_accents(mail, written):
    referral, northwind, _ = first_email(mail, "fr")
    northwind.replies(written, client="apple-fr")
    details = northwind.expect(subject="Coordonnées du client", body_contains=["Erika Mustermann", "Bonjour"])
    assert "ACCEPTER" in details.text  # what to answer next, in French
    assert mail.referral(referral)["status"] == "evaluating"


def test_a_french_partner_accepts_in_french_number_and_date_formats(mail):
    referral, northwind, _ = first_email(mail, "fr")
    northwind.replies("Oui, nous sommes très intéressés !", client="outlook-fr")
    northwind.expect(subject="Coordonnées du client")
    northwind.replies("ACCEPTER 25 000,50 EUR 31/12/2027", client="outlook-fr")
    confirmation = northwind.expect(subject="Recommandation acceptée")
    assert "25 000,50 €" in plain(confirmation.text) and "31 déc. 2027" in confirmation.text
    shown = mail.referral(referral)
    assert shown["status"] == "negotiating"
    assert (Decimal(shown["deal_value"]), shown["currency"], shown["closing_date"]) == (Decimal("25000.50"), "EUR",
                                                                                       "2027-12-31")


def test_a_french_slashed_date_that_could_be_either_is_refused_as_ambiguous(mail):
    referral, northwind, _ = first_email(mail, "fr")
    northwind.replies("INTERESSE", client="apple-fr")
    northwind.expect(subject="Coordonnées du client")
    northwind.replies("ACCEPTER 25 000 EUR 03/04/2027", client="apple-fr")
    text = plain(northwind.expect(subject="pas été prise en compte").text)
    assert "« 03/04/2027 » peut désigner le 3 avr. 2027 ou le 4 mars 2027" in text
    assert "AAAA-MM-JJ" in text and "2027-04-03" in text
    assert mail.referral(referral)["status"] == "evaluating"
