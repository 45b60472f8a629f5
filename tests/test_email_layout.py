"""The HTML part laid out for reading at a glance, from the same source as the plain text: every
line of the text is in the HTML, the marks that lay it out cannot be forged by anyone's words,
and a partner's email has a button for each command valid now, with a link that RFC 6068 reads
back as the referral's reply address, the subject and the command."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from bot import lifecycle, words
from bot.inbound.html_text import html_to_text
from bot.locales import LOCALES
from bot.outbound import buttons, layout
from bot.outbound.render import TEMPLATE_NAMES, Renderer
from bot.outbound.samples import SAMPLE_NOW, SAMPLE_REPLY_TO, sample_context

ALL = [(locale, name) for locale in LOCALES for name in TEMPLATE_NAMES]
RENDERER = Renderer()


def squeezed(text: str) -> str:
    return "".join(text.split())


def links(html: str) -> list[str]:
    """The buttons' links: mailto: the referral's reply address (not the customer's address)."""
    return [href.replace("&amp;", "&") for href in re.findall(r'href="(mailto:[^"]*)"', html)
            if href.startswith(f"mailto:{SAMPLE_REPLY_TO}?")]


@pytest.mark.parametrize(("locale", "name"), ALL)
def test_every_line_of_the_text_is_in_the_html(locale, name):
    """Without buttons every line; with buttons every line but the typed command list they replace."""
    plain = RENDERER.render(name, locale=locale, now=SAMPLE_NOW, **sample_context(name))
    html = squeezed(html_to_text(plain.html))
    for line in plain.text.splitlines():
        assert squeezed(line) in html, f"{line!r} missing from the HTML part"

    tapped = RENDERER.render(name, locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **sample_context(name))
    assert tapped.text == plain.text  # the plain part keeps the command list as text (SPEC §3)
    listed = {squeezed(RENDERER.marks.unlabelled(line)) for block in tapped.parts if block.kind == "commands"
              for line in block.lines} if links(tapped.html) else set()
    html = squeezed(html_to_text(tapped.html))
    for line in tapped.text.splitlines():
        assert squeezed(line) in listed or squeezed(line) in html, f"{line!r} missing from the HTML part"


@pytest.mark.parametrize(("locale", "name"), ALL)
def test_html_uses_inline_styles_and_nothing_from_outside(locale, name):
    html = RENDERER.render(name, locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **sample_context(name)).html
    assert "<style" not in html and "class=" not in html and "<img" not in html and "<link" not in html
    assert not re.search(r'src=|url\(|@import|@font-face', html)
    assert "\x1b" not in html  # no mark left over


@pytest.mark.parametrize(("locale", "name"), ALL)
def test_a_partner_email_has_one_button_per_command_valid_now(locale, name):
    context = sample_context(name)
    html = RENDERER.render(name, locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **context).html
    found = links(html)
    if not buttons.has_buttons(name):
        assert found == []
        return
    commands = lifecycle.valid_commands(context["referral"].status)
    assert len(found) == len(commands)
    for href, command in zip(found, commands):
        parts = urlsplit(href)
        query = parse_qs(parts.query)
        assert unquote(parts.path) == SAMPLE_REPLY_TO
        assert query["subject"][0].startswith("Re: [Referral R-7K3Q9] ")
        assert query["body"][0].split()[0] == words.keyword(command, locale).split()[0]


def test_buttons_with_arguments_carry_the_shape_to_complete_in_the_readers_language():
    context = sample_context("partner/details")
    bodies = {}
    for locale in LOCALES:
        html = RENDERER.render("partner/details", locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **context).html
        bodies[locale] = [parse_qs(urlsplit(href).query)["body"][0] for href in links(html)]
    assert bodies["en"][:2] == ["ACCEPT <value> <YYYY-MM-DD>", "DECLINE"]
    assert bodies["de"][:2] == ["ANNEHMEN <Wert> <TT.MM.JJJJ>", "ABLEHNEN"]
    assert bodies["fr"][:2] == ["ACCEPTER <montant> <AAAA-MM-JJ>", "REFUSER"]


def test_mailto_encodes_everything_in_subject_and_body_and_keeps_the_plus_of_the_address():
    href = buttons.mailto("referrals+r-7k3q9-abc@example.com", subject="Re: [Referral R-7K3Q9] a+b & c=d #1 100%",
                          body="ACCEPT 25k\nnote?")
    assert href == ("mailto:referrals+r-7k3q9-abc@example.com"
                    "?subject=Re%3A%20%5BReferral%20R-7K3Q9%5D%20a%2Bb%20%26%20c%3Dd%20%231%20100%25"
                    "&body=ACCEPT%2025k%0D%0Anote%3F")
    query = parse_qs(urlsplit(href).query)
    assert query["subject"] == ["Re: [Referral R-7K3Q9] a+b & c=d #1 100%"]
    assert query["body"] == ["ACCEPT 25k\r\nnote?"]


@pytest.mark.parametrize(("locale", "name"), [(locale, name) for locale, name in ALL if buttons.has_buttons(name)])
def test_no_button_body_is_a_line_of_our_email(locale, name):
    """The quote guard drops every line of our emails (both parts) from a reply: a button's
    command must never be one of them, or a tapped command would not count."""
    rendered = RENDERER.render(name, locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **sample_context(name))
    ours = {" ".join(line.casefold().split()) for text in (rendered.text, html_to_text(rendered.html))
            for line in text.splitlines()}
    for href in links(rendered.html):
        body = parse_qs(urlsplit(href).query)["body"][0]
        assert " ".join(body.casefold().split()) not in ours


def test_what_a_customer_wrote_cannot_pass_for_a_mark():
    """Marks carry a random part of each renderer: a need that copies one is shown as written."""
    other = Renderer()
    forged = (other.marks.block("facts", caller=lambda: "Budget: 1") + other.marks.label("Label:")
              + "\x1b[0000000000000000:footer]\x1b")
    context = sample_context("partner/new_referral")
    context["referral"] = SimpleNamespace(**{**vars(context["referral"]), "need": forged})
    rendered = RENDERER.render("partner/new_referral", locale="en", now=SAMPLE_NOW, **context)
    assert "Budget: 1" in rendered.text and "\x1b[0000000000000000:footer]\x1b" in rendered.text
    quote = re.search(r"border-left:4px solid #9ca3af;[^>]*>(.*?)</td>", rendered.html, re.DOTALL).group(1)
    assert "Budget: 1" in quote  # still inside the quoted need, not laid out as facts


def test_an_override_without_marks_is_shown_as_paragraphs(tmp_path):
    (tmp_path / "partner").mkdir()
    (tmp_path / "partner" / "help.txt.j2").write_text(
        "{% set subject %}Help{% endset %}Hello,\n\nRegion: {{ referral.region }}\n\nBye\n", encoding="utf-8")
    rendered = Renderer(template_dir=tmp_path).render("partner/help", locale="en", now=SAMPLE_NOW,
                                                      reply_to=SAMPLE_REPLY_TO, **sample_context("partner/help"))
    assert rendered.text == "Hello,\n\nRegion: DE\n\nBye\n"
    assert re.findall(r"<p [^>]*>([^<]*)</p>", rendered.html)[:3] == ["Hello,", "Region: DE", "Bye"]
    assert links(rendered.html)  # the buttons still come: they are the layout's, not the template's


def test_the_details_email_shows_the_customers_contact_as_links():
    html = RENDERER.render("partner/details", locale="en", now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO,
                           **sample_context("partner/details")).html
    assert 'href="mailto:erika@example.org"' in html
    assert re.search(r'href="tel:\+?\d{6,}"', html)


def awkward(name: str) -> dict:
    """The sample with what the layout must escape and link: markup, links, addresses and phone
    numbers, indentation and blank lines in what customers and partners wrote; no location, no
    company, no phone."""
    context = sample_context(name)
    if "referral" in context:
        need = ("See https://example.com/a?b=1&c=<2>.\n\n  indented <b>bold</b> & \"q\" 'x'\n"
                "mail x@y.example or call +49 (30) 123-4567.\n\n\nend")
        context["referral"] = SimpleNamespace(**{**vars(context["referral"]), "need": need, "location": None,
                                                 "keywords": ["a&b", "<c>"], "products": []})
    if "customer" in context:
        context["customer"] = SimpleNamespace(name="Ann <O'Neil>", company=None, email="ann+x@ex.example", phone=None)
    if "partner" in context:
        context["partner"] = SimpleNamespace(id="p", name="P&<Q>")
    if "text" in context:
        context["text"] = "Line 1 https://x.example/?q=1&r=2\n\n    code <tag>\n"
    return context


def test_the_layout_written_in_python_is_the_bundled_template_byte_for_byte(tmp_path):
    """Without an admin's layout the HTML is laid out in Python (bot.outbound.layout); the
    bundled template, which an admin's copy starts from, must render the very same bytes, also
    for an admin's emails written without marks or with odd ones."""
    texts = {
        "partner/help": "{% set subject %}Help{% endset %}Hello,\n\nRegion: {{ referral.region }}\n  see https://a.example/\n\nBye\n",
        "partner/status": "{% set subject %}Status{% endset %}One paragraph {{ referral.id }}\n",
        "de/partner/missed": "{% set subject %}M{% endset %}A\n\n{% call block('commands') %}cmd\n{% endcall %}\nB\n\nC\n",
        "partner/details": "{% set subject %}D{% endset %}{% call block('contact') %}no label\n{{ label('Mail:') }} a@b.example\n"
                           "{% endcall %}\n{% call block('facts') %}{{ label('') }} x\nplain\n{% endcall %}\n"
                           "{% call block('quote') %}\n\nq\n\nq2\n\n{% endcall %}{% call block('footer') %}f1\nf2{% endcall %}\nlast\n",
    }
    python, template = tmp_path / "python", tmp_path / "template"
    for folder in (python, template):
        for name, text in texts.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.txt.j2").write_text(text, encoding="utf-8")
    bundled = (Path(__file__).parents[1] / "templates" / "layout.html.j2").read_text(encoding="utf-8")
    (tmp_path / "layout.html.j2").write_text(bundled, encoding="utf-8")
    (template / "layout.html.j2").write_text(bundled, encoding="utf-8")
    pairs = [(Renderer(bot_name="Bot <&> \"x\""), Renderer(template_dir=tmp_path, bot_name="Bot <&> \"x\"")),
             (Renderer(template_dir=python), Renderer(template_dir=template))]
    for locale, name in ALL:
        contexts = [sample_context(name), awkward(name)]
        if "commands" in contexts[0]:  # no buttons; only the quiet ones; only primary ones
            contexts += [{**contexts[0], "commands": commands} for commands in ([], ["UNDO", "HELP"], ["ACCEPT"])]
        for context in contexts:
            for reply_to in (SAMPLE_REPLY_TO, None):
                for pair in pairs:
                    made = [renderer.render(name, locale=locale, now=SAMPLE_NOW, reply_to=reply_to, **context).html
                            for renderer in pair]
                    assert made[0] == made[1], f"{locale}/{name}"


@given(st.text() | st.builds(Markup, st.text()) | st.integers())
def test_the_layout_escapes_as_markupsafe_does(value):
    assert layout.escaped(value) == str(escape(value))
