"""The referral lifecycle of SPEC §2 as data, and ``apply`` to decide what a trigger does.

``apply`` is pure: given a referral's state and a command it returns the effects (new
state, field changes, the emails to send) or raises a named refusal. The caller stores the
effects in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from bot.commands import SPECS, Command
from bot.errors import AlreadyInEffect, Archived, NotValidNow
from bot.models import ARCHIVED_STATES

TIMEOUT = "TIMEOUT"  # the trigger the scheduler applies when a deadline passes

# The states as partners read them; emails and German refusals use these.
STATE_LABELS = {
    "en": {},  # the state names themselves read well in English
    "de": {"new": "neu", "evaluating": "in Prüfung", "negotiating": "in Verhandlung", "skipped": "übersprungen",
           "missed": "verpasst", "declined": "abgelehnt", "expired": "abgelaufen", "won": "gewonnen",
           "lost": "verloren"},
}


@dataclass(frozen=True)
class Transition:
    source: str
    trigger: str
    target: str
    partner_email: str
    customer_email: str | None = None  # a redirect notice, or the optional acceptance notice


TRANSITIONS: tuple[Transition, ...] = (
    Transition("new", "INTERESTED", "evaluating", "partner/details"),
    Transition("new", "NO THANKS", "skipped", "partner/confirm_skipped", "customer/redirect"),
    Transition("new", TIMEOUT, "missed", "partner/missed", "customer/redirect"),
    Transition("evaluating", "ACCEPT", "negotiating", "partner/confirm_negotiating", "customer/partner_will_contact"),
    Transition("evaluating", "DECLINE", "declined", "partner/confirm_declined", "customer/redirect"),
    Transition("evaluating", TIMEOUT, "expired", "partner/expired", "customer/redirect"),
    Transition("negotiating", "WON", "won", "partner/confirm_won"),
    Transition("negotiating", "LOST", "lost", "partner/confirm_lost"),
)
_BY_KEY = {(t.source, t.trigger): t for t in TRANSITIONS}

# Commands that only answer and never change the referral.
INFORMATIONAL = {"STATUS": "partner/status", "HELP": "partner/help"}


class ReferralState(Protocol):
    status: str
    status_since: datetime


@dataclass(frozen=True)
class Email:
    template: str
    audience: str  # "partner" or "customer"


@dataclass(frozen=True)
class Effects:
    """What a trigger does; ``target`` is None when the state stays as it is."""

    target: str | None
    trigger: str
    emails: tuple[Email, ...]
    deal_value: Decimal | None = None
    currency: str | None = None
    closing_date: date | None = None
    detail: str | None = None  # the reason or value, for the timeline


def transition(state: str, trigger: str) -> Transition | None:
    return _BY_KEY.get((state, trigger))


def valid_commands(state: str) -> list[str]:
    """The partner commands that do something in ``state``, STATUS and HELP last."""
    moves = [t.trigger for t in TRANSITIONS if t.source == state and t.trigger != TIMEOUT]
    return moves + list(INFORMATIONAL)


def apply(referral: ReferralState, command: Command | str, *, actor: str, now: datetime) -> Effects:
    """Decide what ``command`` does to ``referral``, or raise the refusal that explains why not.

    ``command`` is a parsed reply command, or ``TIMEOUT`` from the scheduler.
    """
    trigger = command if isinstance(command, str) else command.name
    if trigger in INFORMATIONAL:
        return Effects(None, trigger, (Email(INFORMATIONAL[trigger], "partner"),))
    move = transition(referral.status, trigger)
    if move is None:
        raise _refusal(referral, trigger)
    emails = [Email(move.partner_email, "partner")]
    if move.customer_email:
        emails.append(Email(move.customer_email, "customer"))
    if isinstance(command, str):
        return Effects(move.target, trigger, tuple(emails))
    detail = command.reason
    if command.value is not None:
        detail = f"{command.value} {command.currency}" + (f", closing {command.closing_date.isoformat()}" if command.closing_date else "")
    return Effects(
        move.target, trigger, tuple(emails),
        deal_value=command.value, currency=command.currency, closing_date=command.closing_date,
        detail=detail,
    )


def state_de(state: str) -> str:
    """A state's German name: "in Prüfung"."""
    return STATE_LABELS["de"].get(state, state)


def _command_de(name: str) -> str:
    return SPECS[name].name_de if name in SPECS else name


def _refusal(referral: ReferralState, trigger: str) -> Exception:
    status, status_de, trigger_de = referral.status, state_de(referral.status), _command_de(trigger)
    if status in ARCHIVED_STATES:
        return Archived(f"This referral was archived as {status}; nothing can change it any more.",
                        message_de=f"Diese Empfehlung wurde als „{status_de}“ archiviert und kann nicht mehr "
                                   "geändert werden.")
    already = [t for t in TRANSITIONS if t.trigger == trigger and t.target == status]
    if already:
        return AlreadyInEffect(f"{trigger} is already in effect: the referral is {status}.",
                               message_de=f"{trigger_de} gilt bereits: Die Empfehlung ist im Status „{status_de}“.")
    if trigger == TIMEOUT:
        return NotValidNow(f"No timeout applies to a referral in state {status}.",
                           message_de=f"Im Status „{status_de}“ läuft keine Frist ab.")
    valid = ", ".join(valid_commands(status))
    valid_de = ", ".join(_command_de(name) for name in valid_commands(status))
    return NotValidNow(f"{trigger} does not apply while the referral is {status}. Valid now: {valid}.",
                       message_de=f"{trigger_de} ist im Status „{status_de}“ nicht möglich. Jetzt möglich: {valid_de}.")
