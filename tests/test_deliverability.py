"""Deliverability: every email of every template, in every language, is a well-formed
multipart/alternative message whose plain-text part reads well alone, and SpamAssassin's local
rules (Debian's `spamassassin`, installed by .ci/run) score it below 2.0."""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from email.policy import default as default_policy

import pytest

from bot import config as config_module
from bot.locales import LOCALES
from bot.outbound.mailer import Mailer, audience
from bot.outbound.render import TEMPLATE_NAMES
from bot.outbound.samples import SAMPLE_NOW, sample_context
from tests.conftest import PARTNERS

LIMIT = 2.0
CONFIG = config_module.parse({**tomllib.loads(PARTNERS),
                              "bot": {"name": "Contoso Referrals", "admin_address": "program@example.com"},
                              "smtp": {"from_address": "referrals@example.com"}})


def every_email() -> dict[str, bytes]:
    """Each template in each language as the outbox would hold it."""
    mailer = Mailer(CONFIG, secret=b"s" * 32)
    found = {}
    for locale in LOCALES:
        for name in TEMPLATE_NAMES:
            rendered = mailer.renderer.render(name, locale=locale, now=SAMPLE_NOW, **sample_context(name))
            reader = audience(name)
            to = {"customer": "erika@example.org", "admin": "program@example.com"}.get(reader, "leads-de@contoso.example")
            reply_to = {"customer": "program@example.com", "admin": "anna@contoso.example",
                        "partner": "referrals+r7k3q9.k2j4h5g6f7d8s9a0@example.com"}[reader]
            thread = ["<ref-R-7K3Q9-1@example.com>"] if reader == "partner" else []
            found[f"{locale}/{name}"] = mailer.compose(rendered, to=to, reply_to=reply_to, now=SAMPLE_NOW,
                                                       thread=thread).raw
    return found


EMAILS = every_email()


def spam_score(raw: bytes, prefs) -> tuple[float, str]:
    done = subprocess.run(["spamassassin", "-L", "-t", "--prefspath", str(prefs)], input=raw,
                          capture_output=True, timeout=120, check=True)
    status = email.message_from_bytes(done.stdout, policy=default_policy)["X-Spam-Status"]
    score = float(re.search(r"score=(-?[\d.]+)", str(status)).group(1))
    return score, str(status)


def test_spamassassin_scores_every_email_below_the_limit(tmp_path):
    assert shutil.which("spamassassin"), "spamassassin is not installed (Debian package spamassassin; see .ci/run)"
    prefs = tmp_path / "user_prefs"
    prefs.write_text("")
    with ThreadPoolExecutor(max_workers=4) as pool:
        scores = dict(zip(EMAILS, pool.map(lambda raw: spam_score(raw, prefs), EMAILS.values())))
    too_high = {name: status for name, (score, status) in scores.items() if score >= LIMIT}
    assert not too_high, too_high
    assert len(scores) == len(LOCALES) * len(TEMPLATE_NAMES)


def test_the_same_check_scores_spam_above_the_limit(tmp_path):
    """The measure itself: a message written like spam does not pass it."""
    prefs = tmp_path / "user_prefs"
    prefs.write_text("")
    spam = (b"From: Winner <winner@example.com>\r\nTo: erika@example.org\r\n"
            b"Subject: FREE!!! You are a WINNER - claim your PRIZE now\r\nMessage-ID: <abc.1234@example.com>\r\n"
            b"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
            b"<html><body><font size=7>CLICK HERE</font> to claim your FREE prize!!! 100% GUARANTEED. "
            b"Viagra cheap. Act now!</body></html>\r\n")
    assert spam_score(spam, prefs)[0] >= LIMIT


@pytest.mark.parametrize("name", EMAILS)
def test_every_email_is_well_formed_multipart_alternative(name):
    message = email.message_from_bytes(EMAILS[name], policy=default_policy)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for header in ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"):
        assert message[header], header
    text = message.get_body(("plain",)).get_content()
    assert text.strip() and "<" + "p" not in text and "&nbsp;" not in text  # no markup leaks into the text part
    assert all(len(line) <= 998 for line in EMAILS[name].split(b"\r\n"))
