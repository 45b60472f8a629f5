"""Where an inbound message can stop, each stop a named type, and ``DISPOSITIONS``: the one
table of what happens at each stop (an answer, silence, or held for an admin).

Every stop has an ``outcome``, the name recorded on the message's inbound row and shown by
`refbot inbox poll`. A message that goes all the way is ``applied:<TRIGGER>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import RefbotError, Refusal


class Stop(RefbotError):
    """The pipeline stops here; ``detail`` says why, for the inbound row and the log."""

    outcome = "stopped"

    def __init__(self, detail: str = "", *, referral_id: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.referral_id = referral_id


class Duplicate(Stop):
    """A Message-ID that was processed before (a redelivery, a second worker)."""

    outcome = "duplicate"


class Unreadable(Stop):
    """Mail so broken that even the lenient parser gives up, or a bug while reading it."""

    outcome = "failed"


class TooComplex(Stop):
    """A message that would cost too much to read (thousands of encoded words, say): unread."""

    outcome = "too_complex"


class Crashed(Stop):
    """A message in hand each time the worker died, ``MAX_CRASHES`` times (``bot.inbound.crashes``):
    not tried again, so that the mail behind it flows."""

    outcome = "crashed"


class TooLarge(Stop):
    """Over ``inbound.max_message_bytes``: read no further than its headers."""

    outcome = "too_large"


class MachineMail(Stop):
    """An auto-reply, out-of-office, mailing list or read receipt: never answered."""

    outcome = "machine"


class OutOfOffice(MachineMail):
    """The contact's auto-reply to a new referral: its first email went to the profile's backup
    and team (SPEC §2); never answered."""

    outcome = "out_of_office"


class Bounce(Stop):
    """A delivery report: recorded on the referral whose email it returns, never answered."""

    outcome = "bounce"


class OurOwn(Stop):
    """Mail from refbot's own address, looping back."""

    outcome = "ours"


class Unauthenticated(Stop):
    """``security.require_dkim``: no DKIM or DMARC pass from our own server for the sender."""

    outcome = "unauthenticated"


class Uncorrelated(Stop):
    """No token, thread or subject tag names a referral."""

    outcome = "uncorrelated"


class Forged(Stop):
    """A token whose signature does not verify."""

    outcome = "forged"


class Stranger(Stop):
    """A sender who is neither the profile's contact nor in its team."""

    outcome = "stranger"


class Refused(Stop):
    """A person allowed to act wrote something refbot could not apply: the refusal says why."""

    def __init__(self, refusal: Refusal, *, referral_id: str) -> None:
        super().__init__(refusal.kind, referral_id=referral_id)
        self.refusal = refusal

    @property
    def outcome(self) -> str:  # one name per kind of refusal, so each is limited on its own
        return f"refused:{self.refusal.code}"


class Question(Refused):
    """A person allowed to act wrote no command but words: the usual explanation, and the
    message is passed on to ``bot.admin_address`` with the referral's summary."""

    def __init__(self, refusal: Refusal, *, referral_id: str, text: str) -> None:
        super().__init__(refusal, referral_id=referral_id)
        self.text = text

    outcome = "question"


class CustomerReply(Stop):
    """The referral's customer wrote back: never refused nor ignored, but passed on to a person."""

    outcome = "customer_reply"

    def __init__(self, detail: str = "", *, referral_id: str, text: str) -> None:
        super().__init__(detail, referral_id=referral_id)
        self.text = text


# -- what happens at each stop ----------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Reply with ``template``, within the reply limits: ten answers a day to a sender and,
    ``once_an_hour``, one answer of the same kind (the stop's outcome) an hour."""

    template: str
    once_an_hour: bool = True
    only_to_partners: bool = False  # silence for an address no profile knows
    forward: bool = False  # also pass the message on to bot.admin_address (partner questions)
    hold: bool = False  # also set it aside in ``failed_folder``, with its reason, for an admin


@dataclass(frozen=True)
class Silence:
    """Record it and say nothing: answering a machine risks a mail loop."""


@dataclass(frozen=True)
class Hold:
    """Set it aside in ``failed_folder`` for an admin; say nothing."""


@dataclass(frozen=True)
class Forward:
    """Pass it on to ``bot.admin_address`` and record it on the referral; say nothing to the
    sender. Without an admin address it is held for an admin instead: never dropped."""


DISPOSITIONS: dict[type[Stop], Answer | Silence | Hold | Forward] = {
    Duplicate: Silence(),
    MachineMail: Silence(),
    OutOfOffice: Silence(),
    Bounce: Silence(),
    OurOwn: Silence(),
    Unreadable: Hold(),
    TooComplex: Hold(),
    Crashed: Hold(),
    TooLarge: Hold(),
    Unauthenticated: Hold(),
    Uncorrelated: Hold(),
    # Refused senders are set aside, so an admin sees what was refused without reading logs.
    Forged: Answer("partner/not_allowed", only_to_partners=True, hold=True),
    Stranger: Answer("partner/not_allowed", only_to_partners=True, hold=True),
    Refused: Answer("partner/refusal"),
    Question: Answer("partner/refusal", forward=True),
    CustomerReply: Forward(),
}


def disposition(stop: Stop) -> Answer | Silence | Hold | Forward:
    return DISPOSITIONS[type(stop)]


def holds(action: Answer | Silence | Hold | Forward) -> bool:
    """Whether the message is set aside for an admin whatever else happens (a Forward is held
    only when there is nobody to forward it to)."""
    return isinstance(action, Hold) or (isinstance(action, Answer) and action.hold)
