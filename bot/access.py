"""Who may act on a referral (SPEC §4): the contact and the team of the profile that received
it (and its backup, who gets a referral when the contact is away), and the contact the referral
was sent to. The one rule for inbound mail and for
`refbot referrals apply`."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.models import ProfileRow, Referral, Rfi


def may_act(session: Session, referral: Referral, address: str) -> bool:
    profile = session.get(ProfileRow, referral.profile_key)
    allowed = {referral.contact, *(_people(profile) if profile else ())}
    return address.strip().lower() in {a.lower() for a in allowed}


def is_customer(session: Session, referral: Referral, address: str) -> bool:
    """Whether ``address`` is the customer of the referral's RFI: they are answered by a person."""
    rfi = session.get(Rfi, referral.rfi_id)
    return rfi is not None and rfi.customer.get("email", "").lower() == address.strip().lower()


def is_partner_address(session: Session, address: str) -> bool:
    """Whether ``address`` belongs to any profile: such a sender may get a short refusal."""
    address = address.strip().lower()
    return any(address in {a.lower() for a in _people(p)} for p in session.exec(select(ProfileRow)).all())


def _people(profile: ProfileRow) -> tuple[str, ...]:
    """The contact, the team, and the backup who may have been sent a referral in the contact's absence."""
    return (profile.contact, *profile.team, *([profile.backup] if profile.backup else []))
