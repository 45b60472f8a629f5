"""Every error a user can cause, named, with the words that explain it.

Two families:

* ``BadInput``: an admin's mistake on the command line (config, arguments, RFI file).
  The CLI prints the one-line message and exits with status 2.
* ``Refusal``: a partner command that was understood but not applied, or not understood.
  Each refusal has a ``code`` (used for rate limiting and templates) and a message that
  says what was wrong and what to write instead, in English and German. The partner gets it
  in the refusal email, in the profile's language (``message_in``).
"""

from __future__ import annotations


class RefbotError(Exception):
    """Base of every error refbot raises on purpose."""


class BadInput(RefbotError):
    """An admin's input was wrong; exit status 2 with this one-line message."""


class ConfigError(BadInput):
    """The config file is missing, not TOML, or a key is wrong."""


class RfiError(BadInput):
    """An RFI file is not JSON, misses a field, or cannot be routed."""


class NotFound(BadInput):
    """A referral, outbox message or partner named on the command line does not exist."""


class DeliveryError(RefbotError):
    """Sending one outgoing message failed; it stays queued for a retry."""


class Refusal(RefbotError):
    """A partner command that was not applied. ``code`` names the kind of refusal."""

    code = "refused"

    def __init__(self, message: str, *, message_de: str | None = None, line: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_de = message_de  # the same in German; None falls back to ``message``
        self.line = line  # the text that was not understood, quoted back to the sender

    def message_in(self, locale: str | None) -> str:
        """The explanation in ``locale`` ("de", "de-AT", ...): German when we have it, else English."""
        german = str(locale or "").replace("_", "-").split("-")[0].lower() == "de"
        return self.message_de if german and self.message_de else self.message


# -- the reply text could not be read as a command -------------------------------------


class CommandError(Refusal):
    """The reply text does not hold a usable command."""

    code = "bad_command"


class NoCommand(CommandError):
    """No line of the reply starts with a command keyword."""

    code = "no_command"


class MissingArgument(CommandError):
    """A command needs a value or a date that is not there."""

    code = "missing_argument"


class BadValue(CommandError):
    """A deal value that is not a number, or is zero or negative."""

    code = "bad_value"


class BadDate(CommandError):
    """A closing date that is not a date, is ambiguous, or lies in the past."""

    code = "bad_date"


# -- the command was understood but cannot be applied now ------------------------------


class NotValidNow(Refusal):
    """The command does not apply to the referral's current state."""

    code = "not_valid_now"


class AlreadyInEffect(Refusal):
    """The command's effect is already in place (INTERESTED twice, say)."""

    code = "already_in_effect"


class Archived(Refusal):
    """The referral is archived; nothing can change it any more."""

    code = "archived"


class NotAllowed(Refusal):
    """The sender is not the profile's contact or team."""

    code = "not_allowed"
