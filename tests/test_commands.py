"""Reply commands (SPEC §3): keywords, arguments, values, dates, and the facts each refusal
carries (the words that explain them are tested with the templates, in test_refusals.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.commands import NAMES, SPECS, Command, parse_reply
from bot.errors import BadDate, BadValue, CommandError, MissingArgument, NoCommand
from bot.values import parse_date, parse_value

TODAY = date(2026, 5, 4)


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
    ("Intéressé", "INTERESTED"),
    ("INTERESSE", "INTERESTED"),
    ("intéressée !", "INTERESTED"),
    ("Oui, nous sommes très intéressés", "INTERESTED"),
    ("« INTÉRESSÉ »", "INTERESTED"),
    ("NON MERCI", "NO THANKS"),
    ("Non, merci.", "NO THANKS"),
    ("REFUSER", "DECLINE"),
    ("Gagné !", "WON"),
    ("GAGNE", "WON"),
    ("perdu", "LOST"),
    ("STATUT", "STATUS"),
    ("Aide", "HELP"),
])
def test_keywords_and_aliases(text, name):
    command = reply(text)
    assert command.name == name
    assert command.line == text


@pytest.mark.parametrize("text", [
    "ACCEPT 25000 2026-12-31", "accept 25000 2026-12-31", "Annehmen 25000 2026-12-31",
    "ANNEHMEN: 25000 2026-12-31", "ACCEPTER 25000 2026-12-31", "Accepter : 25000 2026-12-31",
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
    "Pas intéressé, désolé",
    "Gagnerons-nous ?",
    "Aidez-moi",
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


def test_no_command_quotes_the_first_line_and_names_no_command():
    with pytest.raises(NoCommand) as caught:
        reply("Hi team,\nplease call me back.")
    error = caught.value
    assert (error.code, error.kind, error.line, error.command) == ("no_command", "no_command", "Hi team,", None)


@pytest.mark.parametrize("text", ["Not interested, sorry.", "We are not really interested", "Kein Interesse.",
                                  "Hallo,\nnicht interessiert"])
def test_not_interested_is_told_apart(text):
    with pytest.raises(NoCommand) as caught:
        reply(text)
    assert caught.value.kind == "no_command_not_interested"
    assert caught.value.line == text.splitlines()[0]


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


def test_won_value_errors_name_the_line_and_the_command():
    with pytest.raises(BadValue) as caught:
        reply("WON 0")
    assert (caught.value.kind, caught.value.line, caught.value.command) == ("bad_value_not_positive", "WON 0", "WON")
    with pytest.raises(BadValue) as caught:
        reply("WON 30000 or 35000")
    assert caught.value.kind == "bad_value_several" and caught.value.facts["found"] == ["30000", "35000"]


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
    ("ACCEPTER 25 000,50 EUR 31/12/2027", "fr", "25000.50", "EUR", date(2027, 12, 31)),
    ("ACCEPTER 25\u202f000 € le 1er mars 2027", "fr", "25000", "EUR", date(2027, 3, 1)),
    ("accepter 1,5 M€ 31 décembre 2027", "fr", "1500000", "EUR", date(2027, 12, 31)),
])
def test_accept(text, locale, value, currency, closing):
    command = reply(text, locale=locale)
    assert command == Command("ACCEPT", text, value=Decimal(value), currency=currency, closing_date=closing)


def test_accept_currency_defaults_to_the_profile_currency():
    assert reply("ACCEPT 25000 2026-12-31", currency="CHF").currency == "CHF"


@pytest.mark.parametrize("text, missing", [
    ("ACCEPT", "both"),
    ("ACCEPT 25000", "date"),
    ("ACCEPT 25000 EUR next quarter", "date"),
    ("ACCEPT 2026-12-31", "value"),
    ("ANNEHMEN 31.12.2026", "value"),
])
def test_accept_missing_arguments_say_which(text, missing):
    with pytest.raises(MissingArgument) as caught:
        reply(text)
    error = caught.value
    assert (error.code, error.why, error.line, error.command) == ("missing_argument", missing, text, "ACCEPT")


def test_accept_two_dates_or_two_values_are_refused():
    with pytest.raises(BadDate) as caught:
        reply("ACCEPT 25000 2026-12-31 or 2027-01-31")
    assert caught.value.kind == "bad_date_several" and caught.value.facts["found"] == ["2026-12-31", "2027-01-31"]
    with pytest.raises(BadValue) as caught:
        reply("ACCEPT 25000 30000 2026-12-31")
    assert caught.value.kind == "bad_value_several" and caught.value.facts["found"] == ["25000", "30000"]


@pytest.mark.parametrize("text, kind", [
    ("ACCEPT 0 2026-12-31", "bad_value_not_positive"),
    ("ACCEPT -5000 2026-12-31", "bad_value_not_positive"),
    ("ACCEPT 25000 2025-12-31", "bad_date_past"),
    ("ACCEPT 25000 03/04/2026", "bad_date_ambiguous"),
    ("ACCEPT 25000 2026-02-30", "bad_date_not_in_calendar"),
])
def test_accept_errors_quote_the_line_and_name_the_command(text, kind):
    with pytest.raises(CommandError) as caught:
        reply(f"Hi,\n{text}\nINTERESTED")
    assert (caught.value.kind, caught.value.line, caught.value.command) == (kind, text, "ACCEPT")


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
    ("25 000,50", "fr", "25000.50", "EUR"),
    ("25\u202f000,50 €", "fr", "25000.50", "EUR"),
    ("25000,50", "fr", "25000.50", "EUR"),
    ("1,5 M", "fr", "1500000", "EUR"),
])
def test_parse_value(text, locale, expected, currency):
    value, code = parse_value(text, locale=locale, currency="EUR")
    assert isinstance(value, Decimal)
    assert (value, str(value), code) == (Decimal(expected), expected, currency)


def test_parse_value_defaults_to_the_given_currency():
    assert parse_value("25000", locale="en", currency="GBP") == (Decimal("25000"), "GBP")
    assert parse_value("€25000", locale="en", currency="GBP") == (Decimal("25000"), "EUR")


@pytest.mark.parametrize("text, locale, why", [
    ("0", "en", "not_positive"),
    ("0,00", "de", "not_positive"),
    ("-5000", "en", "not_positive"),
    ("−5000", "en", "not_positive"),
    ("€0k", "en", "not_positive"),
    ("25.000", "en", "too_many_decimals"),   # 25 or 25000? we ask
    ("25,000", "de", "too_many_decimals"),
    ("1.2.3", "en", "number_format"),
    ("12,34,567", "en", "number_format"),
    ("lots", "en", "unreadable"),
    ("25000 XYZ", "en", "unreadable"),
    ("25000 all", "en", "unreadable"),            # ALL is a currency only in capitals
    ("€25000 USD", "en", "two_currencies"),
    ("1.234567k", "en", "not_whole_cents"),
    ("1" + "0" * 20, "en", "too_large"),
])
def test_parse_value_errors(text, locale, why):
    with pytest.raises(BadValue) as caught:
        parse_value(text, locale=locale, currency="EUR")
    assert (caught.value.code, caught.value.why) == ("bad_value", why)
    assert caught.value.facts["text"] in text


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
    ("31 décembre 2026", date(2026, 12, 31)),
    ("31 decembre 2026", date(2026, 12, 31)),
    ("1er févr. 2027", date(2027, 2, 1)),
    ("3 fév 2027", date(2027, 2, 3)),
    ("14 juillet 2026", date(2026, 7, 14)),
    ("15 août 2026", date(2026, 8, 15)),
])
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text, why", [
    ("03/04/2026", "ambiguous"),
    ("2026-02-30", "not_in_calendar"),
    ("31.02.2027", "not_in_calendar"),
    ("30 Feb 2027", "not_in_calendar"),
    ("31/31/2026", "not_in_calendar"),
    ("2026-13-01", "not_in_calendar"),
    ("2026-05-03", "past"),
    ("31.12.2025", "past"),
    ("Dec 31, 2025", "past"),
    ("31.12.26", "unreadable"),
    ("next quarter", "unreadable"),
    ("December 2026", "unreadable"),
])
def test_parse_date_errors(text, why):
    with pytest.raises(BadDate) as caught:
        parse_date(text, today=TODAY)
    assert (caught.value.code, caught.value.why, caught.value.facts["text"]) == ("bad_date", why, text)


def test_a_past_date_carries_the_date_and_today():
    with pytest.raises(BadDate) as caught:
        parse_date("2026-05-03", today=TODAY)
    assert caught.value.facts == {"text": "2026-05-03", "date": date(2026, 5, 3), "today": TODAY}


def test_an_ambiguous_date_carries_both_readings():
    with pytest.raises(BadDate) as caught:
        parse_date("03/04/2026", today=date(2026, 1, 1))
    assert caught.value.facts["day_first"] == date(2026, 4, 3)
    assert caught.value.facts["month_first"] == date(2026, 3, 4)


# -- the registry --------------------------------------------------------------------------


def test_every_command_has_keywords_in_every_language_it_names():
    from bot import words

    for name in NAMES:
        assert SPECS[name].name == name
        assert words.keyword_pattern(name) is not None
        assert words.keyword(name, "en") == name  # English shows the canonical name


def test_every_refusal_here_is_a_command_error():
    for error in (NoCommand, MissingArgument, BadValue, BadDate):
        assert issubclass(error, CommandError)
