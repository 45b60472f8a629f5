"""Realistic sample data for every template and every kind of refusal: what `refbot config
check` renders, in every language, to prove the templates work."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from bot import errors, lifecycle
from bot.outbound.render import CONTEXT_KEYS, TEMPLATE_NAMES, RenderError

SAMPLE_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
# The sample referral's reply address for a reply_address template ("referrals+{token}@..."), so
# that a preview's buttons are links a mail client opens as the real ones.
SAMPLE_TOKEN = "r-7k3q9-previewsampleabc"
SAMPLE_REPLY_TO = f"referrals+{SAMPLE_TOKEN}@example.com"

# The state each email is about.
_STATUS = {
    "partner/new_referral": "new", "partner/reminder_new": "new", "partner/details": "evaluating",
    "partner/reminder_evaluating": "evaluating", "partner/refusal": "evaluating", "partner/help": "evaluating",
    "partner/not_allowed": "evaluating", "partner/confirm_skipped": "skipped",
    "partner/confirm_negotiating": "negotiating", "partner/confirm_declined": "declined", "partner/confirm_won": "won",
    "partner/confirm_lost": "lost", "partner/reminder_closing": "negotiating", "partner/missed": "missed",
    "partner/expired": "expired", "partner/status": "negotiating", "customer/redirect": "declined",
    "partner/confirm_updated": "negotiating", "partner/confirm_undone": "evaluating",
    "customer/partner_will_contact": "negotiating", "admin/forward": "evaluating", "partner/digest": "new",
}


def sample_context(name: str) -> dict:
    """Sample data for ``name``: exactly the keys it takes, in a matching state."""
    if name not in CONTEXT_KEYS:
        raise RenderError(f"{name}: no such template (known: {', '.join(TEMPLATE_NAMES)})")
    status = _STATUS[name]
    created = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    interested, accepted = created + timedelta(hours=5), created + timedelta(days=2)
    since = {"new": created, "evaluating": interested, "skipped": interested, "missed": created + timedelta(hours=72),
             "declined": accepted, "expired": interested + timedelta(days=7), "negotiating": accepted,
             }.get(status, accepted + timedelta(days=40))  # won, lost: after the closing date
    deadline = {"new": created + timedelta(hours=72), "evaluating": interested + timedelta(days=7)}.get(status)
    passed = {"missed": created + timedelta(hours=72), "expired": interested + timedelta(days=7)}.get(status)
    dealt = status in ("negotiating", "won", "lost")
    referral = SimpleNamespace(
        id="R-7K3Q9", rfi_id="RFI-2026-0001", status=status, archived=lifecycle.is_archived(status), region="DE",
        location="Berlin", need="Move our on-premises SQL Server to Azure, with as little downtime as possible.",
        products=["Azure SQL", "Azure Migrate"], keywords=["migration", "sql server"], company_size="medium",
        deal_value=Decimal("27000.00" if status == "won" else "25000.00") if dealt else None, currency="EUR",
        closing_date=date(2026, 12, 31) if dealt else None, created_at=created, deadline_at=deadline, status_since=since,
    )
    event = SimpleNamespace
    events = [event(at=created, from_status=None, to_status="new", actor="system", detail="serves Berlin", note=None),
              event(at=interested, from_status="new", to_status="evaluating", actor="anna@contoso.example", detail=None,
                    note=None),
              event(at=accepted, from_status="evaluating", to_status="negotiating", actor="anna@contoso.example",
                    detail="25000 EUR, 2026-12-31", note="Kick-off with the customer planned for 7 December.")]
    full = {
        "referral": referral,
        "partner": SimpleNamespace(id="contoso", name="Contoso Ltd"),
        "customer": SimpleNamespace(name="Erika Mustermann", company="Example GmbH", email="erika@example.org",
                                    phone="+49 30 1234567"),
        "actor": "anna@contoso.example",
        "by": "anna@contoso.example",
        "reason": "no capacity this quarter" if status == "declined" else "budget cut",
        "commands": lifecycle.valid_commands(status),
        "events": events[:3 if dealt else 2],
        "refusal": errors.MissingArgument("date", line="ACCEPT 25000 EUR", command="ACCEPT"),
        "other_open": 2,
        "forwarded": True,
        "profile": SimpleNamespace(key="contoso/DE/berlin+munich", region="DE", contact="leads-de@contoso.example"),
        "waiting": [referral, SimpleNamespace(**{**vars(referral), "id": "R-4M2XD", "status": "evaluating",
                                                 "location": "Munich", "deadline_at": created + timedelta(days=7)})],
        "overdue": [SimpleNamespace(**{**vars(referral), "id": "R-9PT3C", "status": "negotiating",
                                       "deal_value": Decimal("40000.00"), "closing_date": date(2026, 11, 20)})],
        "week": SimpleNamespace(decided=4, in_time=3, share=0.75, median_hours=5.2, program_share=0.6,
                                program_median_hours=9.4),
        "reoffered": False,  # the re-offer branch: tests/test_ranking.py
        "away": "leads-de@contoso.example",
        "reason_code": "requirement_not_met" if status == "declined" else "budget",
        "undo_until": since + timedelta(minutes=15),
        "previous": SimpleNamespace(deal_value=Decimal("25000.00"), currency="EUR", closing_date=date(2026, 12, 31),
                                    deadline_at=passed),
        "undone": "DECLINE",
        "sender": "anna@contoso.example",
        "text": "Can you tell me more about the project? Is the customer also looking at Azure Arc?",
        "kind": "question",
        "find_partner_url": "https://example.com/find-a-partner",
    }
    return {key.rstrip("?"): full[key.rstrip("?")] for key in CONTEXT_KEYS[name]}


def sample_refusals() -> list[errors.Refusal]:
    """One refusal of every kind that refbot raises, with the facts it carries."""
    line = "ACCEPT 25000 EUR 03/04/2027"
    return [
        errors.NoCommand(line="Can you tell me more about the project?"),
        errors.NoCommand("not_interested", line="Not interested, sorry."),
        errors.NoCommand(line=None),
        errors.MissingArgument("value", line="ACCEPT 2027-03-31", command="ACCEPT"),
        errors.MissingArgument("date", line="ACCEPT 25000", command="ACCEPT"),
        errors.MissingArgument("both", line="ACCEPT", command="ACCEPT"),
        *(errors.BadValue(why, text="25.000", line=line, command="ACCEPT") for why in (
            "unreadable", "two_currencies", "too_many_decimals", "not_positive", "too_large", "not_whole_cents",
            "number_format")),
        errors.BadValue("several", found=["25000", "30000"], line=line, command="ACCEPT"),
        errors.BadValue("several", found=["25000", "30000"], line="WON 25000 30000", command="WON"),
        errors.BadDate("unreadable", text="next quarter", line=line, command="ACCEPT"),
        errors.BadDate("not_in_calendar", text="2027-02-30", line=line, command="ACCEPT"),
        errors.BadDate("past", text="2025-12-31", date=date(2025, 12, 31), today=date(2026, 11, 26), line=line,
                command="ACCEPT"),
        errors.BadDate("ambiguous", text="03/04/2027", day_first=date(2027, 4, 3), month_first=date(2027, 3, 4), line=line,
                command="ACCEPT"),
        errors.BadDate("several", found=["2027-03-31", "2027-04-30"], line=line, command="ACCEPT"),
        errors.MissingArgument("value_or_date", line="UPDATE", command="UPDATE"),
        errors.UndoClosed(line="UNDO", command="UNDO", closed=datetime(2026, 11, 26, 8, 15, tzinfo=timezone.utc),
                          undone="DECLINE"),
        errors.AlreadyInEffect(line="ACCEPT 30000 2027-06-30", command="ACCEPT"),
        errors.NotValidNow(line="WON", command="WON"),
        errors.AlreadyInEffect(line="INTERESTED", command="INTERESTED"),
        errors.Archived(line="INTERESTED", command="INTERESTED"),
        errors.NotAllowed(),
    ]
