"""The referral lifecycle of SPEC §2 as data: the states, the transitions between them, each
state's deadline and reminders, and the commands that answer in every state.

Everything that needs a fact of the lifecycle reads it here (deadlines, the scheduler, the
mailer, HELP and STATUS); nothing else lists states or triggers. ``apply`` is pure: given a
referral's state and a trigger it returns the effects (new state, field changes, the emails to
send) or raises the refusal that says why not. The caller stores the effects in one transaction.

A new command is a row of ``TRANSITIONS`` (or of ``ANSWERS``) plus its keywords and its help
line. UNDO's rows have the target ``PREVIOUS``: the state before the change it takes back, which
the timeline keeps (``bot.referrals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.errors import AlreadyInEffect, Archived, NotValidNow
from bot.locales import N_

TIMEOUT = "TIMEOUT"  # the trigger the scheduler applies when a state's deadline passes
INITIAL = "new"
PREVIOUS = "(the state before)"  # UNDO's target: the state the undone change left


# -- deadlines and reminder schedules: each reads its numbers from [timeouts] ----------------


class Timeline(Protocol):
    """What a schedule needs to know of a referral."""

    status_since: datetime
    deadline_at: datetime | None
    closing_date: date | None


@dataclass(frozen=True)
class Deadline:
    """TIMEOUT applies this long after the referral entered the state."""

    setting: str  # the [timeouts] key that holds the number
    unit: str  # "hours" or "days"

    def due(self, referral: Timeline, timeouts) -> datetime:
        return referral.status_since + timedelta(**{self.unit: getattr(timeouts, self.setting)})


@dataclass(frozen=True)
class HoursAfterEntering:
    """Reminders at each of a list of hours after the referral entered the state."""

    setting: str

    def times(self, referral: Timeline, *, after: datetime, timeouts, tz: str) -> list[datetime]:
        return [referral.status_since + timedelta(hours=h) for h in sorted(getattr(timeouts, self.setting))]


@dataclass(frozen=True)
class BeforeDeadline:
    """One reminder this many hours before the state's deadline."""

    setting: str

    def times(self, referral: Timeline, *, after: datetime, timeouts, tz: str) -> list[datetime]:
        if referral.deadline_at is None:
            return []
        return [referral.deadline_at - timedelta(hours=getattr(timeouts, self.setting))]


@dataclass(frozen=True)
class AfterClosingDate:
    """Once the estimated closing day is over (9:00 local time the day after), then at most
    every so many days."""

    setting: str

    def times(self, referral: Timeline, *, after: datetime, timeouts, tz: str) -> list[datetime]:
        if referral.closing_date is None:
            return []
        closed = datetime.combine(referral.closing_date + timedelta(days=1), time(9), ZoneInfo(tz))
        return [closed if closed > after else after + timedelta(days=getattr(timeouts, self.setting))]


Schedule = HoursAfterEntering | BeforeDeadline | AfterClosingDate


@dataclass(frozen=True)
class Reminder:
    template: str
    schedule: Schedule


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    name: str
    archived: bool = False
    deadline: Deadline | None = None
    reminder: Reminder | None = None


STATES: tuple[State, ...] = (
    State(N_("new"), deadline=Deadline("new_hours", "hours"),
          reminder=Reminder("partner/reminder_new", HoursAfterEntering("new_reminder_hours"))),
    State(N_("evaluating"), deadline=Deadline("evaluating_days", "days"),
          reminder=Reminder("partner/reminder_evaluating", BeforeDeadline("evaluating_reminder_hours_before"))),
    State(N_("negotiating"), reminder=Reminder("partner/reminder_closing", AfterClosingDate("closing_reminder_days"))),
    State(N_("skipped"), archived=True),
    State(N_("missed"), archived=True),
    State(N_("declined"), archived=True),
    State(N_("expired"), archived=True),
    State(N_("won"), archived=True),
    State(N_("lost"), archived=True),
)
BY_NAME: dict[str, State] = {s.name: s for s in STATES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
ACTIVE: tuple[str, ...] = tuple(s.name for s in STATES if not s.archived)
ARCHIVED: tuple[str, ...] = tuple(s.name for s in STATES if s.archived)


@dataclass(frozen=True)
class Transition:
    source: str
    trigger: str
    target: str
    partner_email: str
    customer_email: str | None = None
    # The [customer_notices] switch that sends the customer's email, beside `enabled`.
    customer_switch: str = "enabled"
    # UNDO may take the change back; the customer's email then waits for the UNDO window.
    undoable: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("new", "INTERESTED", "evaluating", "partner/details"),
    Transition("new", "NO THANKS", "skipped", "partner/confirm_skipped", "customer/redirect", undoable=True),
    Transition("new", TIMEOUT, "missed", "partner/missed", "customer/redirect"),
    Transition("evaluating", "ACCEPT", "negotiating", "partner/confirm_negotiating", "customer/partner_will_contact",
               customer_switch="partner_will_contact"),
    Transition("evaluating", "DECLINE", "declined", "partner/confirm_declined", "customer/redirect", undoable=True),
    Transition("evaluating", TIMEOUT, "expired", "partner/expired", "customer/redirect"),
    Transition("negotiating", "UPDATE", "negotiating", "partner/confirm_updated"),
    Transition("negotiating", "WON", "won", "partner/confirm_won", undoable=True),
    Transition("negotiating", "LOST", "lost", "partner/confirm_lost", undoable=True),
    # Within timeouts.undo_minutes of the change (bot.referrals checks the time).
    Transition("skipped", "UNDO", PREVIOUS, "partner/confirm_undone"),
    Transition("declined", "UNDO", PREVIOUS, "partner/confirm_undone"),
    Transition("won", "UNDO", PREVIOUS, "partner/confirm_undone"),
    Transition("lost", "UNDO", PREVIOUS, "partner/confirm_undone"),
)
# The archived states in which a customer was told the partner dropped out (a re-offer may follow).
DROPPED: tuple[str, ...] = tuple(t.target for t in TRANSITIONS if t.customer_email == "customer/redirect")
_BY_KEY = {(t.source, t.trigger): t for t in TRANSITIONS}

# Commands that answer in every state and change nothing.
ANSWERS: dict[str, str] = {"STATUS": "partner/status", "HELP": "partner/help"}


# -- reading the table -------------------------------------------------------------------------


def state(name: str) -> State:
    return BY_NAME[name]


def is_archived(name: str) -> bool:
    return BY_NAME[name].archived


def transition(source: str, trigger: str) -> Transition | None:
    return _BY_KEY.get((source, trigger))


def valid_commands(source: str) -> list[str]:
    """The partner commands that do something in ``source``, answers (STATUS, HELP) last."""
    moves = [t.trigger for t in TRANSITIONS if t.source == source and t.trigger != TIMEOUT]
    return moves + list(ANSWERS)


def moves(commands: list[str]) -> list[str]:
    """``commands`` without the answers (STATUS, HELP): the ones that move a referral on."""
    return [name for name in commands if name not in ANSWERS]


def triggers() -> list[str]:
    """Every trigger of the table, in the order of the table."""
    return list(dict.fromkeys([t.trigger for t in TRANSITIONS] + list(ANSWERS)))


def table() -> str:
    """The whole lifecycle as text, for people: the transitions, then the states (a test prints it)."""
    moves = [("from", "trigger", "to", "partner gets", "customer gets", "undo")]
    for t in TRANSITIONS:
        customer = (t.customer_email or "—") + ("" if t.customer_switch == "enabled" else f" (if {t.customer_switch})")
        moves.append((t.source, t.trigger, t.target, t.partner_email, customer, "yes" if t.undoable else ""))
    for trigger, template in ANSWERS.items():
        moves.append(("any", trigger, "(same)", template, "—", ""))
    states = [("state", "archived", "deadline", "reminder", "reminder schedule")]
    for s in STATES:
        deadline = f"{s.deadline.setting} ({s.deadline.unit})" if s.deadline else "—"
        schedule = f"{type(s.reminder.schedule).__name__}({s.reminder.schedule.setting})" if s.reminder else "—"
        reminder = s.reminder.template if s.reminder else "—"
        states.append((s.name, "yes" if s.archived else "", deadline, reminder, schedule))
    return _columns(moves) + "\n" + _columns(states)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
    return "".join(line + "\n" for line in lines)


# -- applying a trigger ------------------------------------------------------------------------


class ReferralState(Protocol):
    status: str


class Understood(Protocol):
    """A parsed reply command (``bot.commands.Command``)."""

    name: str
    line: str
    value: Decimal | None
    currency: str | None
    closing_date: date | None
    reason: str | None
    note: str | None


@dataclass(frozen=True)
class Email:
    template: str
    audience: str  # "partner" or "customer"
    switch: str = "enabled"  # for customer emails: the [customer_notices] key that turns it on


@dataclass(frozen=True)
class Effects:
    """What a trigger does; ``target`` is None when the state stays as it is."""

    target: str | None
    trigger: str
    emails: tuple[Email, ...]
    deal_value: Decimal | None = None
    currency: str | None = None
    closing_date: date | None = None
    detail: str | None = None  # for the timeline: the partner's reason, or the value and date
    undoable: bool = False  # UNDO may take it back: its customer emails wait for the UNDO window


def apply(referral: ReferralState, command: Understood | str) -> Effects:
    """Decide what ``command`` does to ``referral``, or raise the refusal that says why not.

    ``command`` is a parsed reply command, or ``TIMEOUT`` from the scheduler.
    """
    trigger = command if isinstance(command, str) else command.name
    if trigger in ANSWERS:
        return Effects(None, trigger, (Email(ANSWERS[trigger], "partner"),))
    move = transition(referral.status, trigger)
    if move is None:
        raise refusal(referral.status, trigger, line=None if isinstance(command, str) else command.line)
    emails = [Email(move.partner_email, "partner")]
    if move.customer_email:
        emails.append(Email(move.customer_email, "customer", move.customer_switch))
    if isinstance(command, str):
        return Effects(move.target, trigger, tuple(emails), undoable=move.undoable)
    # Language-neutral on purpose: STATUS shows it to partners of every locale.
    value = " ".join(str(x) for x in (command.value, command.currency) if x is not None) if command.value else None
    estimate = ", ".join(x for x in (value, command.closing_date and command.closing_date.isoformat()) if x)
    return Effects(move.target, trigger, tuple(emails), deal_value=command.value, currency=command.currency,
                   closing_date=command.closing_date, detail=estimate or command.reason, undoable=move.undoable)


def refusal(status: str, trigger: str, *, line: str | None = None) -> Exception:
    """Why ``trigger`` does not apply in ``status``, as a named refusal."""
    if is_archived(status):
        return Archived(command=trigger, line=line)
    if any(t.trigger == trigger and t.target == status for t in TRANSITIONS):
        return AlreadyInEffect(command=trigger, line=line)
    return NotValidNow(command=trigger, line=line)
