"""What the command line shows of referrals and the outbox, as JSON (SPEC §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, select

from bot.clock import iso
from bot.models import Event, Referral, Rfi

if TYPE_CHECKING:
    from bot.models import OutboundMessage

CSV_COLUMNS = ("id", "rfi_id", "partner", "region", "location", "contact", "status", "archived", "deal_value",
               "currency", "closing_date", "created_at", "status_since", "deadline_at", "bounce")


def referral_json(session: Session, referral: Referral, *, with_events: bool, rfi: Rfi | None = None) -> dict:
    rfi = rfi or session.get(Rfi, referral.rfi_id)
    data = {
        "id": referral.id, "rfi_id": referral.rfi_id, "partner": referral.partner_id,
        "region": referral.region, "location": referral.location, "contact": referral.contact,
        "status": referral.status, "archived": referral.archived,
        "deal_value": None if referral.deal_value is None else str(referral.deal_value),
        "currency": referral.currency,
        "closing_date": referral.closing_date.isoformat() if referral.closing_date else None,
        "created_at": iso(referral.created_at), "status_since": iso(referral.status_since),
        "deadline_at": iso(referral.deadline_at), "next_reminder_at": iso(referral.next_reminder_at),
        "bounce": referral.bounce,
        "customer": dict(rfi.customer) if rfi else {},
        "need": rfi.need if rfi else None,
    }
    if with_events:
        data["events"] = [_event_json(e) for e in timeline(session, referral.id)]
    return data


def timeline(session: Session, referral_id: str) -> list[Event]:
    """A referral's events, oldest first (here, on the read side, so that a command that only
    shows referrals does not import what writes them)."""
    return list(session.exec(select(Event).where(Event.referral_id == referral_id).order_by(Event.at, Event.id)).all())


def outbox_json(row: OutboundMessage) -> dict:
    return {"id": row.id, "message_id": row.message_id, "referral": row.referral_id, "kind": row.kind,
            "to": row.recipient, "subject": row.subject, "status": row.status, "attempts": row.attempts,
            "created_at": iso(row.created_at), "next_attempt_at": iso(row.next_attempt_at),
            "sent_at": iso(row.sent_at), "not_before": iso(row.not_before), "last_error": row.last_error}


def _event_json(event) -> dict:
    data = {"at": iso(event.at), "from": event.from_status, "to": event.to_status, "actor": event.actor,
            "command": event.command, "detail": event.detail, "message_id": event.message_id}
    # SPEC §7: an event may also carry these; they are left out where there are none.
    data.update({key: value for key in ("note", "reason", "reason_code", "on_behalf_of") if (value := getattr(event, key))})
    return data
