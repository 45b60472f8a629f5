"""Turns "send template X about referral R" into a complete message in the outbox.

Every message gets a Message-ID fixed before the first send attempt and ``Auto-Submitted:
auto-generated``. Who reads it decides the rest: a partner's email has the subject tag, a Reply-To
with the signed token and the referral's thread; a customer's is theirs alone, in their language,
with a Reply-To that reaches a person; an admin's can be answered straight to the person it is about.
Customer-supplied text only ever reaches the body: headers are built from our own values,
and the email library refuses any header value with a line break.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid
from types import SimpleNamespace

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from bot import lifecycle, tokens
from bot.config import Config
from bot.locales import SOURCE
from bot.models import PartnerRow, ProfileRow, Referral, Rfi
from bot.outbound import outbox, wire
from bot.outbound.render import CONTEXT_KEYS, Renderer
from bot.referrals import PRIVATE_EVENTS, entered_by
from bot.views import timeline


class Mailer:
    def __init__(self, config: Config, *, secret: bytes, renderer: Renderer | None = None) -> None:
        self.config = config
        self.secret = secret
        self.renderer = renderer or Renderer.for_config(config)
        # What sync_profiles wrote to the partner table when this config was loaded: no query
        # (and no autoflush) per email. A partner the config no longer lists is looked up.
        self._partner_names = {partner.id: partner.name for partner in config.partners}

    def queue(self, session: Session, template: str, *, referral: Referral, rfi: Rfi, now: datetime,
              to: str | None = None, in_reply_to: str | None = None, not_before: datetime | None = None,
              reply_to: str | None = None, **extra) -> None:
        """Render ``template`` about ``referral`` and add it to the outbox (not sent before
        ``not_before``).

        Partner emails go to the profile contact unless ``to`` names the team member who wrote;
        they carry the signed Reply-To and thread with the referral's first email. A customer's
        email is theirs (SPEC §2): in their language, no token, no partner thread, Reply-To a person.
        An admin's email (``to``) is in English and answers go to ``reply_to``, the person it is about.
        """
        context = self.context(session, template, referral=referral, rfi=rfi, now=now, **extra)
        if audience(template) == "customer":
            rendered = self.renderer.render(template, locale=customer_locale(rfi, self.config), now=now, **context)
            message = self.compose(rendered, to=rfi.customer["email"], reply_to=self.config.customer_reply_to,
                                   now=now, thread=[])
        elif audience(template) == "admin":
            rendered = self.renderer.render(template, locale=SOURCE, now=now, **context)
            message = self.compose(rendered, to=to, reply_to=reply_to, now=now, thread=[])
        else:
            address = self.reply_address(referral)
            rendered = self.renderer.render(template, locale=referral.locale, now=now, reply_to=address, **context)
            thread = [m for m in (referral.thread_id, in_reply_to) if m]
            message = self.compose(rendered, to=to or referral.contact, reply_to=address, now=now, thread=thread,
                                   after=[("X-Refbot-Referral", referral.id)])
            if referral.thread_id is None:
                referral.thread_id = message.message_id
        outbox.enqueue(session, message, kind=template, referral_id=referral.id, now=now, not_before=not_before)

    def queue_digest(self, session: Session, profile: ProfileRow, *, now: datetime, **context) -> None:
        """The weekly digest to a profile's contact, in its language; about no single referral,
        so it carries no token and no thread."""
        rendered = self.renderer.render(
            "partner/digest", locale=profile.locale, now=now, profile=profile,
            partner=SimpleNamespace(id=profile.partner_id, name=self.partner_name(session, profile.partner_id)),
            **context)
        message = self.compose(rendered, to=profile.contact, reply_to=None, now=now, thread=[])
        outbox.enqueue(session, message, kind="partner/digest", referral_id=None, now=now)

    def compose(self, rendered, *, to: str, reply_to: str | None, now: datetime, thread: list[str],
                after: list[tuple[str, str]] = ()) -> wire.Composed:
        """A complete message from what was rendered: our own headers, the text and HTML parts."""
        headers = [("From", wire.address(self.config.bot.name, self.config.smtp.from_address)), ("To", to)]
        if reply_to:
            headers.append(("Reply-To", reply_to))
        headers += [("Subject", rendered.subject), ("Date", format_datetime(now)),
                    ("Message-ID", make_msgid(domain=self.config.smtp.from_address.split("@")[1]))]
        if thread:
            headers += [("In-Reply-To", thread[-1]), ("References", " ".join(thread))]
        headers += [("Auto-Submitted", "auto-generated"),
                    ("X-Auto-Response-Suppress", "All")]  # asks Exchange not to send out-of-office replies
        return wire.compose(headers, text=rendered.text, html=rendered.html, after=after)

    def reply_address(self, referral: Referral) -> str:
        token = tokens.sign(self.secret, referral.id, referral.profile_key)
        return tokens.reply_address(self.config.smtp.reply_address, token)

    def partner_name(self, session: Session, partner_id: str) -> str:
        if partner_id in self._partner_names:
            return self._partner_names[partner_id]
        partner = session.get(PartnerRow, partner_id)
        return partner.name if partner else partner_id

    def context(self, session: Session, template: str, *, referral: Referral, rfi: Rfi, now: datetime,
                **extra) -> dict:
        """What ``template`` takes (``CONTEXT_KEYS``), looked up only when it takes it."""
        takes = {key.rstrip("?") for key in CONTEXT_KEYS[template]}
        context = {
            "referral": referral_view(referral, rfi),
            "partner": SimpleNamespace(id=referral.partner_id, name=self.partner_name(session, referral.partner_id)),
            "commands": self.valid_now(referral, now=now),
            "find_partner_url": self.config.customer_notices.find_partner_url,
            **extra,
        }
        if "events" in takes:
            context["events"] = [e for e in timeline(session, referral.id) if e.command not in PRIVATE_EVENTS]
        if "other_open" in takes:
            context["other_open"] = other_open(session, referral)
        if "by" in takes and "by" not in extra:
            context["by"] = entered_by(session, referral)
        # The first email shows an overview only: a customer reaches only the templates that
        # take one, and a template that tried to show one anyway fails instead of leaking it.
        if "customer" in takes:
            context["customer"] = customer_view(rfi, audience=audience(template))
        return context


    def valid_now(self, referral: Referral, *, now: datetime) -> list[str]:
        """The commands an email offers: those of the referral's state, UNDO only while its
        window is open (an archived state that UNDO applies to began with the change it undoes)."""
        commands = lifecycle.valid_commands(referral.status)
        closes = referral.status_since + timedelta(minutes=self.config.timeouts.undo_minutes)
        return [c for c in commands if c != "UNDO" or now < closes]


def audience(template: str) -> str:
    """Who reads ``template``: "partner", "customer" or "admin" (its folder)."""
    return template.split("/", 1)[0]


def customer_locale(rfi: Rfi, config: Config) -> str:
    """The customer's language: the RFI's ``customer.locale``, else ``customer_notices.locale``."""
    return rfi.customer.get("locale") or config.customer_notices.locale


def referral_view(referral: Referral, rfi: Rfi) -> SimpleNamespace:
    return SimpleNamespace(
        id=referral.id, rfi_id=referral.rfi_id, status=referral.status, region=referral.region,
        location=referral.location, need=rfi.need, products=rfi.products, keywords=rfi.keywords,
        company_size=rfi.customer.get("size"), deal_value=referral.deal_value, currency=referral.currency,
        archived=referral.archived,
        closing_date=referral.closing_date, created_at=referral.created_at, deadline_at=referral.deadline_at,
        status_since=referral.status_since,
    )


def customer_view(rfi: Rfi, *, audience: str) -> SimpleNamespace:
    customer = rfi.customer
    shared = audience != "partner" or rfi.consent_to_share_contact
    return SimpleNamespace(
        name=customer["name"], company=customer.get("company"),
        email=customer["email"] if shared else None, phone=customer.get("phone") if shared else None,
    )


def other_open(session: Session, referral: Referral) -> int:
    """How many other referrals of the same RFI are still open."""
    return session.execute(_OTHER_OPEN, {"rfi_id": referral.rfi_id, "referral_id": referral.id}).scalar_one()


# Made once: building the query and the ORM's compiling of it cost more than running it. Through
# the session, so that it still sees the transaction's pending changes.
_REFERRALS = Referral.__table__.c
_OTHER_OPEN = select(func.count()).where(_REFERRALS.rfi_id == bindparam("rfi_id"),
                                         _REFERRALS.id != bindparam("referral_id"),
                                         _REFERRALS.status.in_(lifecycle.ACTIVE))
