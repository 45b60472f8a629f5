"""The outbox's bytes are the ones the email package makes of the same message (an
``EmailMessage`` with the SMTP policy, its parts set quoted-printable, flattened with the wire
policy): for every template in every language, and for hostile and odd header values."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.locales import LOCALES
from bot.outbound import wire
from bot.outbound.render import TEMPLATE_NAMES, Renderer
from bot.outbound.samples import SAMPLE_NOW, sample_context

RENDERER = Renderer()


def by_the_email_package(headers, *, text: str, html: str, after, boundary: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    for name, value in headers:
        message[name] = value
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    for name, value in after:
        message[name] = value
    message.set_boundary(boundary)
    recipient = message["To"].addresses[0].addr_spec
    return message.as_bytes(policy=wire.WIRE_POLICY if recipient.isascii() else wire.UTF8_POLICY)


def same_as_the_email_package(headers, *, text: str, html: str, after=()) -> wire.Composed:
    composed = wire.compose(headers, text=text, html=html, after=list(after))
    boundary = re.search(rb'boundary="([^"]+)"', composed.raw).group(1).decode()
    assert composed.raw == by_the_email_package(headers, text=text, html=html, after=after, boundary=boundary)
    return composed


def headers(*, name="Contoso Referrals", to="leads-de@contoso.example", subject="[R-7K3Q9] New referral",
            reply_to="referrals+r7k3q9.k2j4h5g6f7d8s9a0@example.com", now=SAMPLE_NOW,
            thread=("<ref-R-7K3Q9-1@example.com>",)):
    found = [("From", wire.address(name, "referrals@example.com")), ("To", to)]
    if reply_to:
        found.append(("Reply-To", reply_to))
    found += [("Subject", subject), ("Date", _date(now)), ("Message-ID", "<1.2.3@example.com>")]
    if thread:
        found += [("In-Reply-To", thread[-1]), ("References", " ".join(thread))]
    return found + [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")]


def _date(now: datetime) -> str:
    from email.utils import format_datetime

    return format_datetime(now)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_in_every_language(locale):
    for name in TEMPLATE_NAMES:
        rendered = RENDERER.render(name, locale=locale, now=SAMPLE_NOW, **sample_context(name))
        composed = same_as_the_email_package(headers(subject=rendered.subject), text=rendered.text,
                                             html=rendered.html, after=[("X-Refbot-Referral", "R-7K3Q9")])
        assert composed.subject == rendered.subject
        assert composed.recipient == "leads-de@contoso.example"
        assert composed.message_id == "<1.2.3@example.com>"


@pytest.mark.parametrize("subject", [
    "Plain", "Müller GmbH – 5 Lizenzen", "=?utf-8?q?looks_encoded?=", "two  spaces", " leading", "trailing ",
    "tab\there", "x" * 1200, "(comment) and \"quotes\" and \\ backslash", "", "日本語の件名"])
def test_odd_subjects(subject):
    composed = same_as_the_email_package(headers(subject=subject), text="Hello\n", html="<p>Hello</p>")
    assert composed.subject == str(SMTP.header_factory("Subject", subject))


@pytest.mark.parametrize(("name", "to"), [
    ("Contoso Referrals", "jürgen@example.org"), ("Müller & Söhne", "a@b.example"), ("O'Brien, Ltd.", "a@b.example"),
    ("Referrals \"quoted\"", "a@b.example"), ("x", "Anna <anna@contoso.example>"), ("x", "a.b+c@sub.example.org")])
def test_odd_names_and_addresses(name, to):
    composed = same_as_the_email_package(headers(name=name, to=to), text="Hallo\n", html="<p>Hallo</p>")
    assert composed.recipient == SMTP.header_factory("To", to).addresses[0].addr_spec


@pytest.mark.parametrize("value", ["line\nbreak", "line\rbreak", "a\r\nBcc: someone@example.org"])
def test_a_header_with_a_line_break_is_refused(value):
    with pytest.raises(ValueError):
        wire.compose(headers(subject=value), text="x", html="x")
    with pytest.raises(ValueError):
        wire.compose(headers(thread=(value,)), text="x", html="x")


def test_no_reply_to_no_thread_and_empty_bodies():
    same_as_the_email_package(headers(reply_to=None, thread=()), text="", html="")
    same_as_the_email_package(headers(now=datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))),
                              text="a\r\nb\rc\n\n" + "é" * 200 + "\n.\nFrom here\n", html="<p>=3D</p>\n" * 50)


printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=80)
anything = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
                   max_size=80)


@settings(max_examples=300, deadline=None)
@given(subject=st.one_of(printable, anything), thread=st.lists(st.one_of(printable, anything).filter(str.strip),
                                                               max_size=3),
       text=anything, name=st.from_regex(r"[A-Za-z][A-Za-z .,'&-]{0,30}", fullmatch=True),
       to=st.from_regex(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,20}@[A-Za-z0-9][A-Za-z0-9.-]{0,20}[A-Za-z0-9]",
                        fullmatch=True))
def test_any_values(subject, thread, text, name, to):
    same_as_the_email_package(headers(subject=subject, thread=tuple(thread), name=name, to=to, reply_to=to),
                              text=text, html=text)


def test_address_with_a_name_needing_quotes_goes_through_the_registry():
    assert isinstance(wire.address("O'Brien, Ltd.", "a@b.example"), Address)
    assert wire.address("Contoso Referrals", "referrals@example.com") == "Contoso Referrals <referrals@example.com>"
