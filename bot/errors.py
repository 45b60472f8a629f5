"""Every error a user can cause, named.

Two families:

* ``BadInput``: an admin's mistake on the command line (config, arguments, RFI file).
  The CLI prints the one-line message and exits with status 2.
* ``Refusal``: a partner's reply that was not applied. A refusal holds facts, never
  sentences: its ``code`` (the kind, used for reply limits and to choose the words), ``why``
  (the precise reason within the kind), the ``line`` it read, the ``command`` it understood,
  and the values that explain it (``facts``). The words are written once, in the templates
  (``templates/_refusals.txt.j2``), in every language.
"""

from __future__ import annotations

from typing import Any


class RefbotError(Exception):
    """Base of every error refbot raises on purpose."""


class BadInput(RefbotError):
    """An admin's input was wrong; exit status 2 with this one-line message."""


class ConfigError(BadInput):
    """The config file is missing, not TOML, or a key is wrong. The message names the first
    problem; ``problems`` holds every one (`refbot config check` lists them all)."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class RfiError(BadInput):
    """An RFI file is not JSON, misses a field, or cannot be routed."""


class NotFound(BadInput):
    """A referral, outbox message or partner named on the command line does not exist."""


class DeliveryError(RefbotError):
    """Sending one outgoing message failed; it stays queued for a retry."""


class Refusal(RefbotError):
    """A partner's reply that was not applied."""

    code = "refused"

    def __init__(self, why: str = "", *, line: str | None = None, command: str | None = None, **facts: Any) -> None:
        super().__init__(f"{self.code}{':' + why if why else ''}")
        self.why = why
        self.line = line  # the line read, quoted back to the sender; None when nothing was written
        self.command = command  # the command understood ("ACCEPT"), None when none was found
        self.facts = facts

    @property
    def kind(self) -> str:
        """``code`` and ``why`` together: the name of the words that explain it."""
        return f"{self.code}_{self.why}" if self.why else self.code

    def about(self, *, line: str, command: str) -> "Refusal":
        """The same refusal, now knowing the line and the command it concerns."""
        self.line, self.command = line, command
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.why!r}, line={self.line!r}, command={self.command!r}, **{self.facts!r})"


# -- the reply could not be read as a command ----------------------------------------------


class CommandError(Refusal):
    """The reply does not hold a usable command."""

    code = "bad_command"


class NoCommand(CommandError):
    """No line of the reply starts with a command keyword. ``why`` is "negated" for
    "not interested", which gets a hint."""

    code = "no_command"


class MissingArgument(CommandError):
    """A command needs a value or a date that is not there. ``why``: value, date or both."""

    code = "missing_argument"


class BadValue(CommandError):
    """A deal value that cannot be read, is zero or negative, or is not one amount."""

    code = "bad_value"


class BadDate(CommandError):
    """A closing date that cannot be read, is ambiguous, is not in the calendar or is past."""

    code = "bad_date"


# -- the command was understood but cannot be applied now ----------------------------------


class NotValidNow(Refusal):
    """The command does not apply to the referral's current state."""

    code = "not_valid_now"


class AlreadyInEffect(Refusal):
    """The command's effect is already in place (INTERESTED twice, say)."""

    code = "already_in_effect"


class UndoClosed(Refusal):
    """UNDO after ``timeouts.undo_minutes``: the change stands. Facts: ``closed`` (when the window
    closed) and ``undone`` (the command it would have taken back)."""

    code = "undo_closed"


class Archived(Refusal):
    """The referral is archived; nothing can change it any more."""

    code = "archived"


class NotAllowed(Refusal):
    """The sender is not the profile's contact or team, or the reply address was tampered with."""

    code = "not_allowed"
