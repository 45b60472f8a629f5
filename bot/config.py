"""The TOML config, loaded once into a validated model.

Unknown keys are refused and every error names its key path
(``partners[1].profiles[0].contact: not an email address``), so an admin can fix the
file from the message alone. Secrets never live in the file: it names environment
variables, read only when a connection needs them.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot import tls
from bot.errors import ConfigError
from bot.locales import LOCALES, N_
from bot.validation import one_line, problems

DEFAULT_PATH = "config.toml"
COMPANY_SIZES = (N_("small"), N_("medium"), N_("large"), N_("enterprise"))


# The plain ASCII address nearly every config holds (first.last+tag@mail.example.org), checked
# without importing email_validator, whose Unicode tables cost more at start-up than the rest
# of the config. It is a strict subset of what email_validator accepts (a dot-atom of letters,
# digits and _+-; host labels of letters, digits and inner hyphens, 63 long at most; a top-level
# domain of letters), for which it returns the address as given with the domain in lower case.
# Everything else, and so every error message, is email_validator's. Labels with "--" are left
# to it too: "xn--" is IDNA, and other labels with "--" in third place are refused.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
                            r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{1,63}))")
# email_validator's special-use names (a test holds this to its list), which it refuses.
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _plain_address(value: str) -> str | None:
    """``email_address`` of a plain address, or None for email_validator to decide."""
    match = len(value) <= 254 and _PLAIN_ADDRESS.fullmatch(value)  # 254: email_validator's limit
    if match and "--" not in match[1] and match[2].lower() not in _SPECIAL_USE:
        return value.lower()
    return None


def email_address(value: str) -> str:
    """An address in lower case. One beyond ASCII (jürgen@example.org, RFC 6531) is taken: it
    is sent as SMTPUTF8, and marked failed with its reason where a server cannot take it."""
    plain = _plain_address(value)
    if plain is not None:
        return plain
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not an email address ({exc})") from None
    return checked.normalized.lower()


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
    return value


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise ValueError(f"unknown locale {value!r} (refbot speaks {', '.join(LOCALES)})")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise ValueError("not a three-letter currency code like EUR")
    return value.upper()


def _ca_file(value: str) -> str:
    problem = value and tls.ca_file_problem(Path(value))
    if problem:
        raise ValueError(problem)
    return value


Email = Annotated[str, AfterValidator(email_address)]
# A PEM file of CAs to trust instead of the system's (a private CA); made absolute against the
# config file's folder before it is checked.
CaFile = Annotated[str, AfterValidator(_ca_file)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BotSettings(Section):
    name: str = "Referrals"
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    secret_env: str = "REFBOT_SECRET"
    data_dir: str = ""  # empty: the folder of the config file
    admin_address: Email | None = None  # gets partner questions and customer replies


class DatabaseSettings(Section):
    url: str = "sqlite:///var/refbot.db"


class SmtpSettings(Section):
    transport: Literal["smtp", "maildir"] = "smtp"
    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    timeout_seconds: float = Field(30, gt=0)
    maildir: str = "var/sent"  # transport = "maildir": where each message is written
    from_address: Email = "referrals@example.com"
    reply_address: str = "referrals+{token}@example.com"
    max_attempts: int = Field(8, ge=1)
    retry_seconds: int = Field(60, ge=1)  # first retry; doubles each attempt
    ca_file: CaFile = ""

    @model_validator(mode="after")
    def _reply_address_has_token(self) -> "SmtpSettings":
        try:
            valid = "{token}" in self.reply_address and email_address(self.reply_address.replace("{token}", "t"))
        except ValueError:
            valid = False
        if not valid:
            raise ValueError("reply_address: must be an email address containing {token}")
        return self


class InboundSettings(Section):
    transport: Literal["imap", "smtp"] = "imap"
    host: str = "localhost"
    port: int = Field(993, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "ssl"
    username: str = ""
    password_env: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    failed_folder: str = "Needs-Attention"
    idle: bool = True
    poll_seconds: int = Field(30, ge=1)
    max_message_bytes: int = Field(10_000_000, ge=1024)
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(2525, ge=1, le=65535)
    ca_file: CaFile = ""


class TimeoutSettings(Section):
    new_hours: int = Field(72, ge=1)
    evaluating_days: int = Field(7, ge=1)
    undo_minutes: int = Field(15, ge=0)
    # Reminders, counted from entering the state (new) or back from the deadline (evaluating).
    new_reminder_hours: tuple[int, ...] = (24, 60)
    evaluating_reminder_hours_before: int = Field(24, ge=1)
    closing_reminder_days: int = Field(7, ge=1)

    @model_validator(mode="after")
    def _reminders_before_deadline(self) -> "TimeoutSettings":
        late = [h for h in self.new_reminder_hours if not 0 < h < self.new_hours]
        if late:
            raise ValueError(f"new_reminder_hours: {late} must lie between 0 and new_hours ({self.new_hours})")
        return self


class SecuritySettings(Section):
    require_dkim: bool = False
    authserv_id: str = ""

    @model_validator(mode="after")
    def _authserv_id_with_dkim(self) -> "SecuritySettings":
        if self.require_dkim and not self.authserv_id.strip():
            raise ValueError("authserv_id: required with require_dkim = true (your mail server's name in Authentication-Results)")
        return self


class TemplateSettings(Section):
    dir: str = ""


class CustomerNoticeSettings(Section):
    enabled: bool = True
    find_partner_url: str = "https://example.com/find-a-partner"
    partner_will_contact: bool = False  # the optional notice after ACCEPT
    reply_to: Email | None = None  # where a customer's reply goes; else bot.admin_address
    locale: Annotated[str, AfterValidator(_locale)] = "en"  # for RFIs whose customer has no locale


class RankingWeights(Section):
    """How much each fact of a profile weighs when an RFI names no partner (SPEC §7)."""

    location: float = Field(2, ge=0)  # names the RFI's location (half for a whole-region profile)
    keyword: float = Field(2, ge=0)  # per keyword or product shared with the RFI
    company_size: float = Field(1, ge=0)  # prefers the customer's size (minus when it prefers others)
    responsiveness: float = Field(4, ge=0)  # from minus this (slow) to plus this (always within 24 h)
    history: float = Field(1, ge=0)  # per similar referral accepted, minus per similar one declined


class MatchingSettings(Section):
    max_partners: int = Field(3, ge=1)
    reoffer: bool = False  # a dropped referral of an RFI that named no partner goes to the next-best profile
    max_offers: int = Field(5, ge=1)  # profiles an RFI is offered to in all, re-offers included
    history_days: int = Field(180, ge=1)  # the past that responsiveness and history are counted over
    weights: RankingWeights = RankingWeights()


class DigestSettings(Section):
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    hour: int = Field(8, ge=0, le=23)  # local time (bot.timezone)


class WebSettings(Section):
    enabled: bool = False  # true: `refbot run` serves the dashboard too
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8025, ge=1, le=65535)
    password_env: str = ""  # set: HTTP basic auth, user "admin", this variable's password


class LoggingSettings(Section):
    format: Literal["auto", "text", "json"] = "auto"  # auto: text on a terminal, JSON lines otherwise
    level: Literal["debug", "info", "warning", "error"] = "info"  # for `refbot run`


class Profile(Section):
    region: str = Field(min_length=1)
    locations: tuple[str, ...] = ()
    contact: Email
    team: tuple[Email, ...] = ()
    locale: Annotated[str, AfterValidator(_locale)] = "en"
    currency: Annotated[str, AfterValidator(_currency)] = "EUR"
    keywords: tuple[str, ...] = ()
    company_sizes: tuple[Literal["small", "medium", "large", "enterprise"], ...] = ()
    backup: Email | None = None
    digest: bool = False

    def serves(self, region: str, location: str | None) -> bool:
        if self.region.casefold() != region.casefold():
            return False
        return not self.locations or (location or "").casefold() in {place.casefold() for place in self.locations}


class Partner(Section):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str
    profiles: tuple[Profile, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_profiles(self) -> "Partner":
        seen: set[tuple] = set()
        for i, profile in enumerate(self.profiles):
            where = (profile.region.casefold(), tuple(sorted(place.casefold() for place in profile.locations)))
            if where in seen:
                raise ValueError(f"profiles[{i}].region: a second profile for the same region and locations")
            seen.add(where)
        return self


class Config(Section):
    bot: BotSettings = BotSettings()
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    inbound: InboundSettings = InboundSettings()
    timeouts: TimeoutSettings = TimeoutSettings()
    security: SecuritySettings = SecuritySettings()
    templates: TemplateSettings = TemplateSettings()
    customer_notices: CustomerNoticeSettings = CustomerNoticeSettings()
    matching: MatchingSettings = MatchingSettings()
    web: WebSettings = WebSettings()
    logging: LoggingSettings = LoggingSettings()
    digest: DigestSettings = DigestSettings()
    partners: tuple[Partner, ...] = ()
    # Where the file was read from; relative paths in it are resolved against its folder.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _ca_files_against_the_config_folder(cls, data):
        if not isinstance(data, dict):
            return data
        base = Path(data.get("base_dir") or ".")
        for section in ("smtp", "inbound"):
            values = data.get(section)
            if isinstance(values, dict) and isinstance(values.get("ca_file"), str) and values["ca_file"]:
                data = {**data, section: {**values, "ca_file": str(base / Path(values["ca_file"]).expanduser())}}
        return data

    @model_validator(mode="after")
    def _unique_partner_ids(self) -> "Config":
        seen: set[str] = set()
        for i, partner in enumerate(self.partners):
            if partner.id in seen:
                raise ValueError(f"partners[{i}].id: duplicate partner id {partner.id!r}")
            seen.add(partner.id)
        return self

    @property
    def customer_reply_to(self) -> str | None:
        """Where a customer's reply to a notice goes (SPEC §2): a person, never the partner flow."""
        return self.customer_notices.reply_to or self.bot.admin_address

    def partner(self, partner_id: str) -> Partner | None:
        return next((p for p in self.partners if p.id == partner_id), None)

    def path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path

    @property
    def data_dir(self) -> Path:
        return self.path(self.bot.data_dir or ".")

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config folder."""
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:") and not url.startswith("sqlite:////"):
            return prefix + str(self.path(url[len(prefix):]).resolve())
        return url


def resolve_path(explicit: str | None) -> Path:
    """``--config``, else ``REFBOT_CONFIG``, else ``./config.toml``."""
    return Path(explicit or os.environ.get("REFBOT_CONFIG") or DEFAULT_PATH)


def load(path: Path) -> Config:
    """Read and validate the config file; every problem becomes one ConfigError line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (create one with `refbot init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, base_dir=path.resolve().parent, source=str(path))


def parse(data: dict, *, base_dir: Path = Path("."), source: str = "config") -> Config:
    if "base_dir" in data:
        raise ConfigError(f"{source}: base_dir: unknown key")
    try:
        return Config.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        found = problems(exc, root=Config)
        hint = "; `refbot config check` lists them all" if len(found) > 1 else ""
        raise ConfigError(f"{source}: {one_line(found)}{hint}", problems=[f"{source}: {p}" for p in found]) from None


def secret_from_env(name: str) -> str | None:
    """Read a secret from the environment variable the config names, if any."""
    return os.environ.get(name) if name else None
