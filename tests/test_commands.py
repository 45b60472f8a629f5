"""Reply commands (SPEC §3): keywords, arguments, values, dates and the errors' words."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from bot.commands import NAMES, SPECS, Command, parse_date, parse_reply, parse_value
from bot.errors import BadDate, BadValue, CommandError, MissingArgument, NoCommand

TODAY = date(2026, 5, 4)
EXAMPLE_ACCEPT = "ACCEPT 25000 EUR 2027-12-31"  # the example for TODAY: next year's last day


def reply(text: str, **kwargs) -> Command:
    return parse_reply(text, today=TODAY, **kwargs)


# -- keywords -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, name", [
    ("INTERESTED", "INTERESTED"),
    ("interested", "INTERESTED"),
    ("Interested!", "INTERESTED"),
    ("interested.", "INTERESTED"),
    ("I'm interested", "INTERESTED"),
    ("I’m interested!", "INTERESTED"),
    ("Im interested", "INTERESTED"),
    ("I am interested", "INTERESTED"),
    ("We're interested", "INTERESTED"),
    ("We are very interested", "INTERESTED"),
    ("Yes, interested", "INTERESTED"),
    ("Yes - I'm interested", "INTERESTED"),
    ("Interested in the details, thanks", "INTERESTED"),
    ("INTERESSIERT", "INTERESTED"),
    ("Ich bin interessiert", "INTERESTED"),
    ("Ja, wir sind sehr interessiert!", "INTERESTED"),
    ("NO THANKS", "NO THANKS"),
    ("No thanks", "NO THANKS"),
    ("no, thanks", "NO THANKS"),
    ("NO-THANKS", "NO THANKS"),
    ("NOTHANKS", "NO THANKS"),
    ("no thank you.", "NO THANKS"),
    ("No, thank you!", "NO THANKS"),
    ("NEIN DANKE", "NO THANKS"),
    ("nein, danke", "NO THANKS"),
    ("Neindanke", "NO THANKS"),
    ("DECLINE", "DECLINE"),
    ("Ablehnen", "DECLINE"),
    ("WON", "WON"),
    ("won!", "WON"),
    ("Gewonnen", "WON"),
    ("LOST", "LOST"),
    ("Verloren.", "LOST"),
    ("STATUS", "STATUS"),
    ("status?", "STATUS"),
    ("HELP", "HELP"),
    ("help!", "HELP"),
    ("Hilfe", "HELP"),
    ("?", "HELP"),
    ("??", "HELP"),
    ("*INTERESTED*", "INTERESTED"),
    ("- no thanks", "NO THANKS"),
    ('"INTERESTED"', "INTERESTED"),
])
def test_keywords_and_aliases(text, name):
    command = reply(text)
    assert command.name == name
    assert command.line == text


@pytest.mark.parametrize("text", [
    "ACCEPT 25000 2026-12-31", "accept 25000 2026-12-31", "Annehmen 25000 2026-12-31",
    "ANNEHMEN: 25000 2026-12-31",
])
def test_accept_aliases(text):
    assert reply(text).name == "ACCEPT"


@pytest.mark.parametrize("text", [
    "Not interested",
    "not interested, sorry",
    "I'm not interested",
    "Nicht interessiert",
    "I wonder whether this fits",   # WON inside a word
    "Won't work for us",            # WON before an apostrophe
    "Lostness",
    "Statusbericht folgt",
    "Helpful, thanks",
    "Accepting is hard",
    "Yes",
    "No",
    "Hello team,",
    "Thanks!",
    "Interestedly",
])
def test_lines_that_are_no_command(text):
    with pytest.raises(NoCommand):
        reply(text)


def test_keyword_followed_by_words_is_a_command():
    # SPEC §3: the first line that *starts with* a command is the command.
    assert reply("Lost my way to the deal, it went elsewhere").reason == "my way to the deal, it went elsewhere"


def test_the_first_command_line_wins():
    text = "Hi team,\n\nthanks for this one.\nNO THANKS\nINTERESTED\n"
    assert reply(text) == Command("NO THANKS", "NO THANKS")


def test_greeting_lines_are_skipped_and_line_is_stripped():
    command = reply("Hallo zusammen,\n\n   Interessiert!   \n\nViele Grüße\nAnna")
    assert command == Command("INTERESTED", "Interessiert!")


def test_quoted_instructions_never_count():
    text = "> reply INTERESTED or NO THANKS\n> INTERESTED\n>> NO THANKS"
    with pytest.raises(NoCommand) as caught:
        reply(text)
    assert caught.value.line is None


def test_quoted_lines_are_skipped_but_own_text_counts():
    text = "> INTERESTED – to see the customer's details\n\nNO THANKS\n> reply INTERESTED or NO THANKS"
    assert reply(text).name == "NO THANKS"


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
def test_an_unquoted_original_or_signature_ends_the_reply(marker):
    text = f"Thanks, we will look at it\n{marker}\nINTERESTED – to see the customer's details\nNO THANKS"
    with pytest.raises(NoCommand):
        reply(text)


def test_no_command_lists_commands_with_an_example():
    with pytest.raises(NoCommand) as caught:
        reply("Hi team,\nplease call me back.")
    error = caught.value
    assert error.line == "Hi team,"
    for spec in SPECS.values():
        assert spec.syntax in error.message
    assert EXAMPLE_ACCEPT in error.message
    assert error.code == "no_command"


def test_not_interested_gets_a_hint():
    with pytest.raises(NoCommand) as caught:
        reply("Not interested, sorry.")
    assert "NO THANKS" in caught.value.message and "DECLINE" in caught.value.message
    assert caught.value.line == "Not interested, sorry."


def test_empty_reply_is_no_command():
    with pytest.raises(NoCommand) as caught:
        reply("\n  \n")
    assert caught.value.line is None


def test_arguments_of_simple_commands_are_ignored():
    assert reply("INTERESTED, call me at 030 1234") == Command("INTERESTED", "INTERESTED, call me at 030 1234")
    assert reply("STATUS please").value is None


# -- DECLINE / LOST reasons --------------------------------------------------------------


@pytest.mark.parametrize("text, reason", [
    ("DECLINE", None),
    ("DECLINE ", None),
    ("DECLINE.", None),
    ("DECLINE: too small for us", "too small for us"),
    ("decline - no capacity this quarter", "no capacity this quarter"),
    ("Ablehnen – kein Personal frei", "kein Personal frei"),
    ("LOST", None),
    ("LOST customer chose a competitor", "customer chose a competitor"),
    ("Verloren: Preis", "Preis"),
])
def test_reasons(text, reason):
    command = reply(text)
    assert command.reason == reason
    assert command.value is None and command.closing_date is None


# -- WON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, locale, value, currency", [
    ("WON", "en", None, None),
    ("WON!!! thanks a lot", "en", None, None),
    ("WON 27500", "en", Decimal("27500"), "EUR"),
    ("WON 27,500.50 USD", "en", Decimal("27500.50"), "USD"),
    ("Gewonnen 27.500,50 €", "de", Decimal("27500.50"), "EUR"),
    ("won 30k", "en", Decimal("30000"), "EUR"),
    ("WON 30000 on 2026-06-01", "en", Decimal("30000"), "EUR"),
])
def test_won_with_optional_final_value(text, locale, value, currency):
    command = reply(text, locale=locale)
    assert (command.name, command.value, command.currency) == ("WON", value, currency)


def test_won_value_errors_show_a_won_example():
    with pytest.raises(BadValue) as caught:
        reply("WON 0")
    assert caught.value.line == "WON 0"
    assert "WON 27500 EUR" in caught.value.message
    with pytest.raises(BadValue, match="more than one amount"):
        reply("WON 30000 or 35000")


# -- ACCEPT ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, locale, value, currency, closing", [
    ("ACCEPT 25000 2026-12-31", "en", "25000", "EUR", date(2026, 12, 31)),
    ("ACCEPT 2026-12-31 25000", "en", "25000", "EUR", date(2026, 12, 31)),
    ("ACCEPT 31.12.2026 25.000,50 EUR", "de", "25000.50", "EUR", date(2026, 12, 31)),
    ("ACCEPT €25,000 Dec 31, 2026", "en", "25000", "EUR", date(2026, 12, 31)),
    ("ACCEPT $25,000.50 December 31, 2026", "en", "25000.50", "USD", date(2026, 12, 31)),
    ("ACCEPT 25 000 EUR 31. Dezember 2026", "de", "25000", "EUR", date(2026, 12, 31)),
    ("ANNEHMEN 1,5 Mio € 3. März 2027", "de", "1500000", "EUR", date(2027, 3, 3)),
    ("ACCEPT: 25000 EUR, closing 2026-12-31.", "en", "25000", "EUR", date(2026, 12, 31)),
    ("ACCEPT 12/31/2026 GBP 40k", "en", "40000", "GBP", date(2026, 12, 31)),
    ("ACCEPT 25000 2026-05-04", "en", "25000", "EUR", TODAY),  # today is not in the past
])
def test_accept(text, locale, value, currency, closing):
    command = reply(text, locale=locale)
    assert command == Command("ACCEPT", text, value=Decimal(value), currency=currency, closing_date=closing)


def test_accept_currency_defaults_to_the_profile_currency():
    assert reply("ACCEPT 25000 2026-12-31", currency="CHF").currency == "CHF"


@pytest.mark.parametrize("text, missing", [
    ("ACCEPT", "the deal value and the estimated closing date"),
    ("ACCEPT 25000", "the estimated closing date"),
    ("ACCEPT 25000 EUR next quarter", "the estimated closing date"),
    ("ACCEPT 2026-12-31", "the deal value"),
    ("ANNEHMEN 31.12.2026", "the deal value"),
])
def test_accept_missing_arguments_say_which_with_example(text, missing):
    with pytest.raises(MissingArgument) as caught:
        reply(text)
    error = caught.value
    assert f"ACCEPT needs {missing}" in error.message
    assert EXAMPLE_ACCEPT in error.message
    assert error.line == text
    assert error.code == "missing_argument"


def test_accept_two_dates_or_two_values_are_refused():
    with pytest.raises(BadDate, match="more than one date"):
        reply("ACCEPT 25000 2026-12-31 or 2027-01-31")
    with pytest.raises(BadValue, match=r"more than one amount \(25000, 30000\)"):
        reply("ACCEPT 25000 30000 2026-12-31")


@pytest.mark.parametrize("text, error", [
    ("ACCEPT 0 2026-12-31", BadValue),
    ("ACCEPT -5000 2026-12-31", BadValue),
    ("ACCEPT 25000 2025-12-31", BadDate),
    ("ACCEPT 25000 03/04/2026", BadDate),
    ("ACCEPT 25000 2026-02-30", BadDate),
])
def test_accept_errors_quote_the_line_and_show_an_example(text, error):
    with pytest.raises(error) as caught:
        reply(f"Hi,\n{text}\nINTERESTED")
    assert caught.value.line == text
    assert EXAMPLE_ACCEPT in caught.value.message


def test_first_command_line_wins_even_when_it_is_wrong():
    with pytest.raises(MissingArgument):
        reply("ACCEPT 25000\nACCEPT 25000 2026-12-31")


# -- values --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, locale, expected, currency", [
    ("25000", "en", "25000", "EUR"),
    ("25,000", "en", "25000", "EUR"),
    ("25 000", "en", "25000", "EUR"),
    ("25\u00a0000", "en", "25000", "EUR"),
    ("25000.50", "en", "25000.50", "EUR"),
    ("25,000.50", "en", "25000.50", "EUR"),
    ("€25,000", "en", "25000", "EUR"),
    ("€ 25,000", "en", "25000", "EUR"),
    ("25000 EUR", "en", "25000", "EUR"),
    ("25000EUR", "en", "25000", "EUR"),
    ("EUR 25,000", "en", "25000", "EUR"),
    ("25000 eur", "en", "25000", "EUR"),
    ("25000 Euro", "de", "25000", "EUR"),
    ("$25,000", "en", "25000", "USD"),
    ("US$25,000", "en", "25000", "USD"),
    ("£25,000", "en", "25000", "GBP"),
    ("CHF 25'000", "en", "25000", "CHF"),
    ("25000 SEK", "en", "25000", "SEK"),
    ("25k", "en", "25000", "EUR"),
    ("25K", "en", "25000", "EUR"),
    ("25 k", "en", "25000", "EUR"),
    ("1.5m", "en", "1500000", "EUR"),
    ("1.5M", "en", "1500000", "EUR"),
    ("2,5k", "en", "2500", "EUR"),  # one separator before one or two digits is the decimal mark
    ("25,00", "en", "25", "EUR"),
    ("25000", "de", "25000", "EUR"),
    ("25.000", "de", "25000", "EUR"),
    ("25 000", "de", "25000", "EUR"),
    ("25.000,50", "de", "25000.50", "EUR"),
    ("25000,50", "de", "25000.50", "EUR"),
    ("25000.50", "de", "25000.50", "EUR"),
    ("1.500.000", "de", "1500000", "EUR"),
    ("25.000,- €", "de", "25000", "EUR"),
    ("25.000 €", "de", "25000", "EUR"),
    ("1,5m", "de", "1500000", "EUR"),
    ("1.5m", "de", "1500000", "EUR"),
    ("1,5 Mio", "de", "1500000", "EUR"),
    ("25K", "de", "25000", "EUR"),
    ("0.5", "en", "0.5", "EUR"),
])
def test_parse_value(text, locale, expected, currency):
    value, code = parse_value(text, locale=locale, currency="EUR")
    assert isinstance(value, Decimal)
    assert (value, str(value), code) == (Decimal(expected), expected, currency)


def test_parse_value_defaults_to_the_given_currency():
    assert parse_value("25000", locale="en", currency="GBP") == (Decimal("25000"), "GBP")
    assert parse_value("€25000", locale="en", currency="GBP") == (Decimal("25000"), "EUR")


@pytest.mark.parametrize("text, locale, words", [
    ("0", "en", "more than zero"),
    ("0,00", "de", "more than zero"),
    ("-5000", "en", "more than zero"),
    ("−5000", "en", "more than zero"),
    ("€0k", "en", "more than zero"),
    ("25.000", "en", "more than two decimals"),   # 25 or 25000? we ask
    ("25,000", "de", "more than two decimals"),
    ("1.2.3", "en", "cannot read"),
    ("12,34,567", "en", "cannot read"),
    ("lots", "en", "cannot read"),
    ("25000 XYZ", "en", "cannot read"),
    ("25000 all", "en", "cannot read"),            # ALL is a currency only in capitals
    ("€25000 USD", "en", "two currencies"),
    ("1.234567k", "en", "whole cents"),
    ("1" + "0" * 20, "en", "too large"),
])
def test_parse_value_errors(text, locale, words):
    with pytest.raises(BadValue) as caught:
        parse_value(text, locale=locale, currency="EUR")
    assert words in caught.value.message
    assert caught.value.code == "bad_value"
    assert caught.value.message_de and caught.value.message_de != caught.value.message


@pytest.mark.parametrize("locale, sample", [("en", "25,000.50"), ("de", "25.000,50")])
def test_value_errors_show_the_locale_format(locale, sample):
    with pytest.raises(BadValue) as caught:
        parse_value("lots", locale=locale, currency="EUR")
    assert sample in caught.value.message


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-12-31", date(2026, 12, 31)),
    ("2026-6-1", date(2026, 6, 1)),
    ("31.12.2026", date(2026, 12, 31)),
    ("1.6.2026", date(2026, 6, 1)),
    ("31 December 2026", date(2026, 12, 31)),
    ("December 31, 2026", date(2026, 12, 31)),
    ("December 31 2026", date(2026, 12, 31)),
    ("Dec 31, 2026", date(2026, 12, 31)),
    ("Dec. 31st, 2026", date(2026, 12, 31)),
    ("31st of December 2026", date(2026, 12, 31)),
    ("31 Dez 2026", date(2026, 12, 31)),
    ("31 Dez. 2026", date(2026, 12, 31)),
    ("31. Dezember 2026", date(2026, 12, 31)),
    ("3. März 2027", date(2027, 3, 3)),
    ("3 Maerz 2027", date(2027, 3, 3)),
    ("3 Mrz 2027", date(2027, 3, 3)),
    ("3 MÄRZ 2027", date(2027, 3, 3)),
    ("15 Mai 2026", date(2026, 5, 15)),
    ("1. Okt 2026", date(2026, 10, 1)),
    ("1 Oktober 2026", date(2026, 10, 1)),
    ("6 Juni 2026", date(2026, 6, 6)),
    ("1 Jänner 2027", date(2027, 1, 1)),
    ("Sept 30, 2026", date(2026, 9, 30)),
    ("12/31/2026", date(2026, 12, 31)),
    ("31/12/2026", date(2026, 12, 31)),
    ("05/05/2026", date(2026, 5, 5)),   # both readings are the same day
    ("2026-05-04", TODAY),
])
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text, words", [
    ("03/04/2026", "could be 3 April or 4 March 2026"),
    ("2026-02-30", "not a day in the calendar"),
    ("31.02.2027", "not a day in the calendar"),
    ("30 Feb 2027", "not a day in the calendar"),
    ("31/31/2026", "not a day in the calendar"),
    ("2026-13-01", "not a day in the calendar"),
    ("2026-05-03", "is in the past (today is 2026-05-04)"),
    ("31.12.2025", "is in the past"),
    ("Dec 31, 2025", "is in the past"),
    ("31.12.26", "cannot read"),
    ("next quarter", "cannot read"),
    ("December 2026", "cannot read"),
])
def test_parse_date_errors(text, words):
    with pytest.raises(BadDate) as caught:
        parse_date(text, today=TODAY)
    message = caught.value.message
    assert words in message
    assert "YYYY-MM-DD" in message or "2027-12-31" in message
    assert re.search(r"\d{4}-\d{2}-\d{2}", message)  # an example to copy
    assert re.search(r"\d{2}\.\d{2}\.\d{4}\.$", caught.value.message_de)  # the same in German, German date


def test_ambiguous_date_asks_for_iso_with_both_readings():
    with pytest.raises(BadDate) as caught:
        parse_date("03/04/2026", today=date(2026, 1, 1))
    assert "YYYY-MM-DD" in caught.value.message
    assert "2026-04-03" in caught.value.message


# -- the registry --------------------------------------------------------------------------


def test_specs_cover_every_command_in_order():
    assert tuple(SPECS) == NAMES
    for name, spec in SPECS.items():
        assert spec.name == name
        assert spec.syntax.startswith(name)
        assert spec.help and spec.help_de and spec.syntax_de
        assert spec.help != spec.help_de


@pytest.mark.parametrize("name", NAMES)
def test_every_example_parses_as_its_command(name):
    spec = SPECS[name]
    assert reply(spec.example_on(TODAY)).name == name
    assert reply(spec.example_on(TODAY, "de"), locale="de").name == name


def test_examples_never_lie_in_the_past():
    accept = SPECS["ACCEPT"]
    assert accept.example_on(TODAY) == EXAMPLE_ACCEPT
    assert accept.example_on(TODAY, "de") == "ANNEHMEN 25.000 EUR 31.12.2027"
    command = reply(accept.example_on(TODAY, "de"), locale="de")
    assert (command.value, command.closing_date) == (Decimal("25000"), date(2027, 12, 31))
    assert accept.example.startswith("ACCEPT 25000 EUR ")  # today's version, whatever today is
    assert accept.example_de.startswith("ANNEHMEN 25.000 EUR 31.12.")


def test_every_refusal_here_is_a_command_error():
    for error in (NoCommand, MissingArgument, BadValue, BadDate):
        assert issubclass(error, CommandError)


# -- the same explanations in German ---------------------------------------------------------

EXAMPLE_ACCEPT_DE = "ANNEHMEN 25.000 EUR 31.12.2027"


@pytest.mark.parametrize("text, locale, error, german", [
    ("WON 1,234,56", "de", BadValue, ["25.000,50", "GEWONNEN 27.500 EUR"]),          # bad value
    ("WON 25.000", "en", BadValue, ["25.000,50", "GEWONNEN 27.500 EUR"]),            # bad value, English profile
    ("ACCEPT 0 2026-12-31", "de", BadValue, ["größer als null", EXAMPLE_ACCEPT_DE]),  # zero
    ("ACCEPT 25000 30000 2026-12-31", "en", BadValue, ["mehr als einen Betrag", EXAMPLE_ACCEPT_DE]),
    ("ACCEPT 25000 03/04/2027", "en", BadDate, ["3. April oder der 4. März 2027", "03.04.2027", EXAMPLE_ACCEPT_DE]),
    ("ACCEPT 25000 2026-01-01", "de", BadDate, ["01.01.2026", "Vergangenheit", EXAMPLE_ACCEPT_DE]),
    ("ACCEPT 25000 2026-02-30", "de", BadDate, ["kein Tag im Kalender", EXAMPLE_ACCEPT_DE]),
    ("ACCEPT 25000", "de", MissingArgument, ["ANNEHMEN benötigt das voraussichtliche Abschlussdatum",
                                             EXAMPLE_ACCEPT_DE]),
    ("ANNEHMEN 31.12.2026", "de", MissingArgument, ["ANNEHMEN benötigt den Auftragswert", EXAMPLE_ACCEPT_DE]),
    ("Hallo, bitte rufen Sie mich an.", "de", NoCommand, ["keinen Befehl", "INTERESSIERT", EXAMPLE_ACCEPT_DE]),
    ("Not interested, sorry.", "en", NoCommand, ["NEIN DANKE", "ABLEHNEN", EXAMPLE_ACCEPT_DE]),
])
def test_every_refusal_is_explained_in_german_too(text, locale, error, german):
    with pytest.raises(error) as caught:
        reply(text, locale=locale)
    refusal = caught.value
    assert refusal.message_de and refusal.message_de != refusal.message
    assert refusal.message_in("de") == refusal.message_in("de-AT") == refusal.message_de
    assert refusal.message_in("en") == refusal.message
    for words in german:
        assert words in refusal.message_de
    if "For example: " in refusal.message:  # an English example has its German counterpart
        assert "Zum Beispiel: " in refusal.message_de and "For example" not in refusal.message_de
        assert EXAMPLE_ACCEPT not in refusal.message_de and "WON 27500" not in refusal.message_de
    assert not re.search(r"\b(?:write|the|like|and)\b", refusal.message_de)  # no English left over


def test_a_refusal_without_german_text_falls_back_to_english():
    refusal = BadValue("Write 25000.")
    assert refusal.message_in("de") == refusal.message_in("en") == "Write 25000."
