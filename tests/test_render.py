"""The outbound emails: every template in every language, what they must never show, and
how the HTML part, local formats and template overrides behave."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import words
from bot.commands import parse_reply
from bot.errors import CommandError, NoCommand, NotValidNow
from bot.lifecycle import apply
from bot.locales import LOCALES
from bot.outbound.render import CONTEXT_KEYS, TEMPLATE_NAMES, Rendered, Renderer, RenderError
from bot.outbound.samples import SAMPLE_NOW, sample_context

ALL = [(locale, name) for locale in LOCALES for name in TEMPLATE_NAMES]
BEFORE_INTERESTED = ("partner/new_referral", "partner/reminder_new", "partner/missed", "partner/confirm_skipped",
                     "partner/refusal", "partner/not_allowed", "partner/status", "partner/help")


class SampleRenderer(Renderer):
    """Renders at the samples' time unless told otherwise."""

    def render(self, name, *, locale, now=SAMPLE_NOW, **context):
        return super().render(name, locale=locale, now=now, **context)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return SampleRenderer(timezone="Europe/Berlin", bot_name="Contoso Referrals")


def with_referral(context: dict, **changes) -> dict:
    return {**context, "referral": SimpleNamespace(**{**vars(context["referral"]), **changes})}


def write(folder, relative: str, text: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("locale,name", ALL)
def test_every_template_renders_with_its_sample(renderer, locale, name):
    rendered = renderer.render(name, locale=locale, **sample_context(name))
    assert isinstance(rendered, Rendered)
    if name.startswith("customer/"):  # the customer's own email: named after their request, no internal tag
        assert "RFI-2026-0001" in rendered.subject and "[Referral" not in rendered.subject
    elif "referral" not in CONTEXT_KEYS[name]:  # the digest is about no single referral
        assert rendered.subject and "[Referral" not in rendered.subject
    else:
        assert rendered.subject.startswith("[Referral R-7K3Q9] ") and len(rendered.subject) > len("[Referral R-7K3Q9] ")
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.text.endswith("\n") and "\n\n\n" not in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>") and f'<html lang="{locale}">' in rendered.html
    assert "Contoso Referrals" in rendered.text and "Contoso Referrals" in rendered.html


def test_check_passes_for_the_bundled_templates(renderer):
    assert renderer.check() == []


def test_sample_context_holds_exactly_the_declared_keys():
    for name in TEMPLATE_NAMES:
        assert set(sample_context(name)) == {key.rstrip("?") for key in CONTEXT_KEYS[name]}
    assert "customer" not in sample_context("partner/new_referral")


# -- what a partner must not see before INTERESTED ----------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", BEFORE_INTERESTED)
def test_customer_data_never_reaches_emails_before_interested(renderer, locale, name):
    marker = SimpleNamespace(name="Zorro-7Q1 Marker", company="Marker-Corp-7Q1", email="marker-7q1@example.org",
                             phone="+49 555 7717")
    rendered = renderer.render(name, locale=locale, customer=marker, **sample_context(name))
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "7Q1" not in part and "7717" not in part and "marker" not in part.lower()


def test_new_referral_shows_the_overview_and_what_to_reply(renderer):
    text = renderer.render("partner/new_referral", locale="en", **sample_context("partner/new_referral")).text
    for fact in ("DE", "Berlin", "medium", "Azure SQL", "migration", "Move our on-premises SQL Server to Azure",
                 "INTERESTED", "NO THANKS", "24 hours", "27 Nov 2026, 11:00 CET"):
        assert fact in text


def test_an_override_that_shows_the_customer_in_new_referral_fails(tmp_path):
    write(tmp_path, "en/partner/new_referral.txt.j2",
          "{% set subject %}New{% endset %}Customer: {{ customer.name }}\n")
    renderer = SampleRenderer(template_dir=tmp_path)
    context = sample_context("partner/new_referral")
    with pytest.raises(RenderError, match="customer"):
        renderer.render("partner/new_referral", locale="en", **context)
    # Even when a caller passes a customer along, the template never gets one.
    with pytest.raises(RenderError, match="customer"):
        renderer.render("partner/new_referral", locale="en", customer=SimpleNamespace(name="Erika"), **context)
    assert any(p.startswith("en/partner/new_referral:") and "customer" in p for p in renderer.check())


# -- details, consent, escaping -----------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_details_show_the_customer(renderer, locale):
    text = renderer.render("partner/details", locale=locale, **sample_context("partner/details")).text
    for fact in ("Erika Mustermann", "Example GmbH", "erika@example.org", "+49 30 1234567"):
        assert fact in text
    assert words.keyword("ACCEPT", locale) in text


@pytest.mark.parametrize("locale,words", [("en", "did not agree"), ("de", "nicht zugestimmt")])
def test_details_say_when_contact_data_was_not_shared(renderer, locale, words):
    context = sample_context("partner/details")
    context["customer"] = SimpleNamespace(name="Erika Mustermann", company="Example GmbH", email=None, phone=None)
    text = renderer.render("partner/details", locale=locale, **context).text
    assert words in text and "None" not in text


def test_html_escapes_customer_supplied_text(renderer):
    context = with_referral(sample_context("partner/details"), need='Fix <b>this</b> & "that"')
    context["customer"] = SimpleNamespace(name="<script>alert(1)</script>", company="A&B <i>Ltd</i>",
                                          email="x@example.org", phone=None)
    rendered = renderer.render("partner/details", locale="en", **context)
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<b>this</b>" not in rendered.html and "&lt;b&gt;this&lt;/b&gt;" in rendered.html
    assert "<i>Ltd</i>" not in rendered.html
    assert "<script>alert(1)</script>" in rendered.text  # the plain-text part is shown as text


def test_html_links_urls_and_keeps_paragraphs(renderer):
    rendered = renderer.render("customer/redirect", locale="en", **sample_context("customer/redirect"))
    assert '<a href="https://example.com/find-a-partner"' in rendered.html
    assert rendered.html.count("<p ") == len([b for b in rendered.text.split("\n\n") if b.strip()])


def test_subject_never_carries_a_line_break(renderer):
    context = sample_context("partner/details")
    context["customer"] = SimpleNamespace(name="Erika", company="Evil\r\nBcc: all@example.org\n", email=None,
                                          phone=None)
    subject = renderer.render("partner/details", locale="en", **context).subject
    assert "\r" not in subject and "\n" not in subject and "Evil Bcc: all@example.org" in subject


# -- local formats ------------------------------------------------------------------------


def test_german_numbers_dates_and_states(renderer):
    rendered = renderer.render("partner/confirm_negotiating", locale="de", **sample_context("partner/confirm_negotiating"))
    # babel joins amount and symbol with a no-break space, so the two never wrap apart
    assert "25.000,00\xa0€" in rendered.text and "31.12.2026" in rendered.text and "in Verhandlung" in rendered.text
    assert "25.000,00" in rendered.subject
    english = renderer.render("partner/confirm_negotiating", locale="en", **sample_context("partner/confirm_negotiating"))
    assert "€25,000.00" in english.text and "31 Dec 2026" in english.text


def test_times_are_shown_in_the_configured_zone():
    context = sample_context("partner/new_referral")  # deadline 27 Nov 2026 10:00 UTC
    assert "27.11.2026, 11:00 MEZ" in SampleRenderer(timezone="Europe/Berlin").render(
        "partner/new_referral", locale="de", **context).text
    assert "27 Nov 2026, 05:00 EST" in SampleRenderer(timezone="America/New_York").render(
        "partner/new_referral", locale="en", **context).text
    summer = with_referral(context, deadline_at=datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc))
    assert "01.07.2026, 12:00 MESZ" in SampleRenderer(timezone="Europe/Berlin").render(
        "partner/new_referral", locale="de", **summer).text


def test_money_is_never_a_float(renderer):
    context = with_referral(sample_context("partner/confirm_won"), deal_value=27000.5)
    with pytest.raises(RenderError, match="float"):
        renderer.render("partner/confirm_won", locale="en", **context)


def test_naive_datetimes_are_refused(renderer):
    context = with_referral(sample_context("partner/new_referral"), deadline_at=datetime(2026, 11, 27, 10, 0))
    with pytest.raises(RenderError, match="naive"):
        renderer.render("partner/new_referral", locale="en", **context)


def test_unknown_locale_falls_back_to_english(renderer):
    context = sample_context("partner/help")
    assert renderer.render("partner/help", locale="xx", **context) == renderer.render("partner/help", locale="en", **context)
    assert "Guten Tag" in renderer.render("partner/help", locale="de-AT", **context).text


# -- per-template content -----------------------------------------------------------------


@pytest.mark.parametrize("locale,still_open,alone", [("en", "2 other partners", "1 other partner,"),
                                                     ("de", "2 weiteren Partnern", "1 weiteren Partner offen")])
def test_redirect_mentions_other_open_partners_only_when_there_are_some(renderer, locale, still_open, alone):
    context = sample_context("customer/redirect")
    assert still_open in renderer.render("customer/redirect", locale=locale, **context).text
    assert alone in renderer.render("customer/redirect", locale=locale, **{**context, "other_open": 1}).text
    text = renderer.render("customer/redirect", locale=locale, **{**context, "other_open": 0}).text
    assert "https://example.com/find-a-partner" in text and "Partner," not in text and "other partner," not in text
    assert "no capacity" not in text  # never the partner's reason


@pytest.mark.parametrize("locale", LOCALES)
def test_confirmations_name_who_acted_and_the_optional_reason(renderer, locale):
    context = sample_context("partner/confirm_declined")
    text = renderer.render("partner/confirm_declined", locale=locale, **context).text
    assert "anna@contoso.example" in text and "no capacity this quarter" in text
    del context["reason"]
    text = renderer.render("partner/confirm_declined", locale=locale, **context).text
    assert "no capacity" not in text and "None" not in text


@pytest.mark.parametrize("locale,created", [("en", "created as new"), ("de", "angelegt als neu")])
def test_status_lists_the_timeline(renderer, locale, created):
    text = renderer.render("partner/status", locale=locale, **sample_context("partner/status")).text
    assert created in text and "anna@contoso.example" in text and "(25000 EUR, 2026-12-31)" in text
    assert "serves Berlin" not in text  # the system's routing notes are for admins


def test_refusal_quotes_the_line_names_the_command_and_lists_commands_with_examples(renderer):
    context = sample_context("partner/refusal")
    text = renderer.render("partner/refusal", locale="en", **context).text
    assert 'What we read: "ACCEPT 25000 EUR"' in text and "The command we understood: ACCEPT" in text
    assert "Why nothing changed: ACCEPT needs the estimated closing date." in text
    assert "Current state: evaluating, since 24 Nov 2026, 16:00 CET, by anna@contoso.example" in text
    assert re.search(r"for example: ACCEPT 25,000 EUR \d{4}-\d{2}-\d{2}", text)
    german = renderer.render("partner/refusal", locale="de", **context).text
    assert "ANNEHMEN" in german and re.search(r"ANNEHMEN 25\.000 EUR \d{2}\.\d{2}\.\d{4}", german)


def test_a_reply_without_a_command_says_so_and_no_command_is_named(renderer):
    context = {**sample_context("partner/refusal"), "refusal": NoCommand(line="Can we talk tomorrow?")}
    text = renderer.render("partner/refusal", locale="en", **context).text
    assert 'What we read: "Can we talk tomorrow?"' in text and "We found no command in it" in text
    assert "The command we understood" not in text
    nothing = {**context, "refusal": NoCommand(line=None)}
    assert "What we read: nothing above the quoted text." in renderer.render("partner/refusal", locale="en", **nothing).text


def test_a_state_refusal_names_the_command_it_read_not_no_command(renderer):
    """The old refusal said "no command" beside "WON is not possible": never again."""
    new = with_referral(sample_context("partner/refusal"), status="new")
    with pytest.raises(NotValidNow) as caught:
        apply(new["referral"], parse_reply("WON 30000", today=date(2026, 11, 24)))
    text = renderer.render("partner/refusal", locale="en", **{**new, "refusal": caught.value}).text
    assert 'What we read: "WON 30000"' in text and "The command we understood: WON" in text
    assert "Why nothing changed: WON is not possible while the referral is new." in text
    assert "no command" not in text.lower()
    german = renderer.render("partner/refusal", locale="de", **{**new, "refusal": caught.value}).text
    assert "GEWONNEN" in german and "„neu“" in german and "keinen Befehl" not in german


def test_german_refusal_of_a_real_command_explains_in_german(renderer):
    context = sample_context("partner/refusal")
    with pytest.raises(CommandError) as caught:
        parse_reply("ACCEPT 25000 2026-01-01", locale="de", today=date(2026, 11, 24))
    text = renderer.render("partner/refusal", locale="de", **{**context, "refusal": caught.value}).text
    assert "01.01.2026" in text and "Vergangenheit" in text and "is in the past" not in text


def test_example_closing_dates_lie_in_the_future():
    from bot.outbound.render import example_closing_date

    assert example_closing_date(date(2026, 11, 24)) == date(2027, 2, 28)
    assert example_closing_date(datetime(2026, 1, 31, tzinfo=timezone.utc)) == date(2026, 4, 30)
    assert example_closing_date(date(2026, 9, 1)) == date(2026, 12, 31)


# -- errors and overrides -----------------------------------------------------------------


def test_missing_context_is_a_clear_error(renderer):
    context = sample_context("customer/redirect")
    del context["find_partner_url"]
    with pytest.raises(RenderError, match="missing context find_partner_url"):
        renderer.render("customer/redirect", locale="en", **context)
    with pytest.raises(RenderError, match="no such template"):
        renderer.render("partner/nope", locale="en", **context)


def test_override_folder_wins_over_bundled_file_by_file(tmp_path):
    write(tmp_path, "en/partner/help.txt.j2", "{% set subject %}Our help{% endset %}Custom help for {{ partner.name }}.\n")
    renderer = SampleRenderer(template_dir=tmp_path)
    rendered = renderer.render("partner/help", locale="en", **sample_context("partner/help"))
    assert rendered.subject == "[Referral R-7K3Q9] Our help" and rendered.text == "Custom help for Contoso Ltd.\n"
    # The German help and every other email are still the bundled ones.
    assert "Guten Tag" in renderer.render("partner/help", locale="de", **sample_context("partner/help")).text
    assert "INTERESTED" in renderer.render("partner/new_referral", locale="en", **sample_context("partner/new_referral")).text
    assert renderer.check() == []


def test_an_override_added_or_edited_while_running_takes_effect_at_the_next_email(tmp_path):
    """What the renderer remembers (templates, the partial's buttons) never hides an admin's edit."""
    bundled = (Path(__file__).parents[1] / "templates" / "_commands.txt.j2").read_text(encoding="utf-8")
    write(tmp_path, "_commands.txt.j2", bundled)
    renderer = SampleRenderer(template_dir=tmp_path)
    context = sample_context("partner/help")
    first = renderer.render("partner/help", locale="en", reply_to="r@example.com", **context).html
    write(tmp_path, "en/partner/help.txt.j2", "{% set subject %}Our help{% endset %}Custom help.\n")
    assert renderer.render("partner/help", locale="en", **context).text == "Custom help.\n"

    def edit(relative: str, text: str) -> None:
        write(tmp_path, relative, text)
        path = tmp_path / relative
        os.utime(path, (path.stat().st_mtime + 5,) * 2)  # the loader compares modification times

    edit("_commands.txt.j2", bundled.replace("{{ name|keyword }}{{", "PLEASE {{ name|keyword }}{{"))
    edit("en/partner/help.txt.j2", "{% set subject %}Our help{% endset %}Edited help.\n")
    later = renderer.render("partner/help", locale="en", reply_to="r@example.com", **context)
    assert "body=PLEASE%20ACCEPT" not in first and "body=PLEASE%20ACCEPT" in later.html
    assert later.text == "Edited help.\n"


def test_override_layout_is_used(tmp_path):
    renderer = SampleRenderer(template_dir=tmp_path, bot_name="A<B")
    assert renderer.render("partner/help", locale="en", **sample_context("partner/help")).html.startswith("<!DOCTYPE html>")
    # Added while refbot runs: used from the next email on.
    write(tmp_path, "layout.html.j2", "<html>{{ bot_name }}|{% for p in paragraphs %}[{{ p|join(' ') }}]{% endfor %}</html>")
    html = renderer.render("partner/help", locale="en", **sample_context("partner/help")).html
    assert html.startswith("<html>A&lt;B|[Hello,]")


def test_check_reports_broken_overrides(tmp_path):
    write(tmp_path, "de/partner/status.txt.j2", "{% set subject %}Status{% endset %}{{ referral.nope }}\n")
    write(tmp_path, "en/customer/redirect.txt.j2", "{% if %}\n")
    write(tmp_path, "partner/confirm_won.txt.j2", "No subject here.\n")
    write(tmp_path, "en/partner/new_referal.txt.j2", "{% set subject %}typo{% endset %}x\n")
    problems = Renderer(template_dir=tmp_path).check()
    assert any(p.startswith("de/partner/status:") and "nope" in p for p in problems)
    assert any(p.startswith("en/customer/redirect:") for p in problems)
    assert any(p.startswith("de/customer/redirect:") for p in problems) is False
    # An override for every language breaks every language.
    assert {p.split("/")[0] for p in problems if "partner/confirm_won:" in p and "subject" in p} == set(LOCALES)
    assert any(p.startswith("en/partner/new_referal:") and "not a known template" in p for p in problems)
    assert not any(p.startswith("en/partner/status:") for p in problems)


def test_a_missing_override_folder_is_an_error(tmp_path):
    with pytest.raises(RenderError, match="not a folder"):
        Renderer(template_dir=tmp_path / "missing")


def test_rendered_is_frozen(renderer):
    rendered = renderer.render("partner/help", locale="en", **sample_context("partner/help"))
    with pytest.raises(Exception):
        rendered.subject = "x"  # type: ignore[misc]
    assert replace(rendered, subject="y").subject == "y"


def test_decimal_values_keep_their_cents(renderer):
    context = with_referral(sample_context("partner/confirm_won"), deal_value=Decimal("25000.50"))
    assert "25.000,50\xa0€" in renderer.render("partner/confirm_won", locale="de", **context).text


def test_sentences_translated_when_compiled_are_what_the_template_would_call(tmp_path):
    """`_("...")` and `label(...)` with constant arguments are worked out when a template is
    compiled; a template whose `_`, `gettext` or `label` is its own, or that switches autoescape
    on, still gets what it asks for."""
    write(tmp_path, "en/partner/help.txt.j2", '{% set subject %}Help{% endset %}{% macro label(x) %}<{{ x }}>{% endmacro %}'
          '{{ label("A") }} {% set _ = label %}{{ _("B") }} {{ gettext("Hello,") }}\n')
    write(tmp_path, "de/partner/help.txt.j2", '{% set subject %}Hilfe{% endset %}{% from "_commands.txt.j2" import help as _ %}'
          '{{ _("HELP") }}|{{ gettext("Hello,") }}|{% import "_macros.txt.j2" as label %}{{ label.hello() }}\n')
    write(tmp_path, "fr/partner/help.txt.j2", '{% set subject %}Aide{% endset %}'
          '{% autoescape true %}{{ _("A & B") }}{% endautoescape %} {{ _("A & B") }} {{ _("Hello,") }}\n')
    renderer = SampleRenderer(template_dir=tmp_path)
    text = {locale: renderer.render("partner/help", locale=locale, **sample_context("partner/help")).text
            for locale in ("en", "de", "fr")}
    assert text["en"] == "<A> <B> Hello,\n"
    assert text["de"].split("|")[1:] == ["Guten Tag,", "Guten Tag,\n"] and not text["de"].startswith("HILFE")
    assert text["fr"] == "A & B A & B Bonjour,\n"
