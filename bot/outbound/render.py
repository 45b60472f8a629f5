"""The emails partners and customers receive (SPEC §2–§4), rendered from Jinja2 templates.

Each email is one plain-text template per locale, ``templates/<locale>/<audience>/<name>.txt.j2``,
which sets its subject with ``{% set subject %}``. The HTML part is that same text poured
into the one shared ``templates/layout.html.j2``: the two parts can never say different
things, and customer-supplied text is escaped in one place, by the layout's autoescape.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from markupsafe import Markup, escape

from bot.commands import SPECS
from bot.errors import MissingArgument, RefbotError
from bot.lifecycle import STATE_LABELS, valid_commands

# A source checkout has templates/ at the top; an installed package has them as bot/templates.
_PACKAGE = Path(__file__).resolve().parents[1]
BUNDLED_DIR = next((d for d in (_PACKAGE.parent / "templates", _PACKAGE / "templates") if d.is_dir()), _PACKAGE / "templates")
LOCALES = ("en", "de")
DEFAULT_LOCALE = "en"

# What each template takes; "?" marks an optional key (None when not given). render() hands
# a template only these keys, so a customer passed along by mistake to an email sent before
# INTERESTED (new_referral, reminder_new, refusal, status, ...) can never reach it.
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "partner/new_referral": ("referral", "partner"),
    "partner/details": ("referral", "partner", "customer", "actor?"),
    "partner/confirm_skipped": ("referral", "partner", "actor"),
    "partner/confirm_negotiating": ("referral", "partner", "customer", "actor"),
    "partner/confirm_declined": ("referral", "partner", "actor", "reason?"),
    "partner/confirm_won": ("referral", "partner", "actor"),
    "partner/confirm_lost": ("referral", "partner", "actor", "reason?"),
    "partner/reminder_new": ("referral", "partner"),
    "partner/reminder_evaluating": ("referral", "partner", "customer"),
    "partner/reminder_closing": ("referral", "partner", "customer"),
    "partner/missed": ("referral", "partner"),
    "partner/expired": ("referral", "partner", "customer"),
    "partner/refusal": ("referral", "partner", "refusal", "commands"),
    "partner/status": ("referral", "partner", "events", "commands"),
    "partner/help": ("referral", "partner", "commands"),
    "customer/redirect": ("referral", "partner", "customer", "other_open", "find_partner_url"),
    "customer/partner_will_contact": ("referral", "partner", "customer"),
}
TEMPLATE_NAMES: tuple[str, ...] = tuple(CONTEXT_KEYS)

# Day first in both languages: partners span countries, and "24 Nov 2026" reads the same everywhere.
DATE_PATTERNS = {"en": "d MMM y", "de": "dd.MM.y"}
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


class RenderError(RefbotError):
    """A template is missing, broken, or was given too little context."""


@dataclass(frozen=True)
class Rendered:
    subject: str  # already prefixed with the tag "[Referral R-7K3Q9] "; never contains CR/LF
    text: str  # plain-text part
    html: str  # HTML part, autoescaped


def normalize_locale(locale: str | None) -> str:
    """``de``, ``de-DE`` and ``de_AT`` all mean ``de``; anything we have no templates for is ``en``."""
    language = str(locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def one_line(value: str) -> str:
    """Collapse every run of whitespace, CR/LF included, so a subject is one header line."""
    return " ".join(str(value).split())


class Renderer:
    def __init__(self, *, template_dir: Path | None = None, timezone: str = "UTC", bot_name: str = "Referrals") -> None:
        self.tz = ZoneInfo(timezone)
        self.bot_name = bot_name
        if template_dir is not None and not Path(template_dir).is_dir():
            # Falling back to the bundled emails unnoticed would hide an admin's typo.
            raise RenderError(f"templates dir {template_dir}: not a folder")
        self.template_dir = None if template_dir is None else Path(template_dir)
        folders = [BUNDLED_DIR] if template_dir is None else [Path(template_dir), BUNDLED_DIR]
        # Override folder first: an admin replaces single files and keeps the rest bundled.
        loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders])
        # One environment per locale and kind, so the filters know their locale without
        # reaching into the render context (which imported macros would not see).
        self._text = {loc: self._environment(loader, loc, autoescape=False) for loc in LOCALES}
        self._html = {loc: self._environment(loader, loc, autoescape=True) for loc in LOCALES}

    def _environment(self, loader: ChoiceLoader, locale: str, *, autoescape: bool) -> Environment:
        env = Environment(loader=loader, autoescape=autoescape, undefined=StrictUndefined,
                          keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        env.filters.update(
            dt=lambda value: self.format_moment(value, locale),
            d=lambda value: self.format_day(value, locale),
            money=lambda value, currency: format_money(value, currency, locale),
            state=lambda value: "—" if value is None else STATE_LABELS[locale].get(value, value),
            example_date=example_closing_date,
            html_line=html_line,
        )
        return env

    @classmethod
    def for_config(cls, config) -> "Renderer":
        """The renderer a config asks for: its template overrides, time zone and bot name."""
        templates = config.path(config.templates.dir) if config.templates.dir else None
        return cls(template_dir=templates, timezone=config.bot.timezone, bot_name=config.bot.name)

    def format_day(self, value: datetime | date | None, locale: str) -> str:
        """A date, or the bot-time-zone day of a stored time: "31 Dec 2026" / "31.12.2026"."""
        if value is None:
            return "—"
        day = self._local(value).date() if isinstance(value, datetime) else value
        return format_date(day, DATE_PATTERNS[locale], locale=locale)

    def format_moment(self, value: datetime | date | None, locale: str) -> str:
        """A stored (aware UTC) time in the bot's time zone, e.g. "24 Nov 2026, 11:00 CET"."""
        if value is None or not isinstance(value, datetime):
            return self.format_day(value, locale)
        local = self._local(value)
        when = format_datetime(local, f"{DATE_PATTERNS[locale]}, HH:mm", tzinfo=self.tz, locale=locale)
        return f"{when} {zone_label(local, locale)}"

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:  # a naive time would be shown in the wrong zone without a word
            raise ValueError(f"naive datetime {moment.isoformat()}: stored times must be aware UTC")
        return moment.astimezone(self.tz)

    def render(self, name: str, *, locale: str, **context) -> Rendered:
        if name not in CONTEXT_KEYS:
            raise RenderError(f"{name}: no such template (known: {', '.join(TEMPLATE_NAMES)})")
        locale = normalize_locale(locale)
        values = {"bot_name": self.bot_name, "lang": locale}
        missing = []
        for key in CONTEXT_KEYS[name]:
            optional, key = key.endswith("?"), key.rstrip("?")
            if key in context:
                values[key] = context[key]
            elif optional:
                values[key] = None
            else:
                missing.append(key)
        if missing:
            raise RenderError(f"{locale}/{name}: missing context {', '.join(missing)} "
                              f"(it takes {', '.join(CONTEXT_KEYS[name])})")
        try:
            # An override folder may add a locale's file for only some emails; English fills in.
            template = self._text[locale].select_template([f"{locale}/{name}.txt.j2", f"{DEFAULT_LOCALE}/{name}.txt.j2"])
            module = template.make_module(values)
            subject = one_line(getattr(module, "subject", ""))
            if not subject:
                raise RenderError(f"{locale}/{name}: the template sets no subject ({{% set subject %}}...{{% endset %}})")
            subject = f"[Referral {one_line(values['referral'].id)}] {subject}"
            text = tidy(str(module))
            paragraphs = [block.strip("\n").split("\n") for block in text.split("\n\n") if block.strip()]
            html = self._html[locale].get_template("layout.html.j2").render(
                paragraphs=paragraphs, subject=subject, bot_name=self.bot_name, lang=locale)
        except (TemplateError, TypeError, ValueError) as exc:
            raise RenderError(f"{locale}/{name}: {exc.__class__.__name__}: {exc}") from exc
        return Rendered(subject=subject, text=text, html=html)

    def check(self) -> list[str]:
        """Render every template in every locale with sample data, once as given and once
        with every optional key left out; return one "locale/name: error" per failure."""
        problems = []
        if self.template_dir is not None:  # an override under a misspelt name would never be used
            for path in sorted(self.template_dir.glob("*/*/*.txt.j2")):
                name = f"{path.parent.name}/{path.name.removesuffix('.txt.j2')}"
                if name not in CONTEXT_KEYS:
                    problems.append(f"{path.parent.parent.name}/{name}: not a known template (known: {', '.join(TEMPLATE_NAMES)})")
        for locale in LOCALES:
            for name in TEMPLATE_NAMES:
                sample = sample_context(name)
                sparse = {k: v for k, v in sample.items() if f"{k}?" not in CONTEXT_KEYS[name]}
                for context in (sample, sparse) if sparse != sample else (sample,):
                    try:
                        self.render(name, locale=locale, **context)
                    except Exception as exc:  # noqa: BLE001 - a check reports, it does not crash
                        problems.append(str(exc) if isinstance(exc, RenderError)
                                        else f"{locale}/{name}: {exc.__class__.__name__}: {exc}")
                        break
        return problems


def tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def zone_label(local: datetime, locale: str) -> str:
    """A short zone name the reader knows: "MEZ" in German, "CET"/"EST" in English, else "GMT+04:00"."""
    name = format_datetime(local, "z", tzinfo=local.tzinfo, locale=locale)
    if name.isalpha() and len(name) <= 5:
        return name
    name = local.tzname() or ""
    return name if name.isalpha() else format_datetime(local, "ZZZZ", tzinfo=local.tzinfo, locale=locale)


def format_money(value: Decimal | int | str | None, currency: str, locale: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):  # a float has already lost cents somewhere: fail loudly
        raise TypeError(f"money must be a Decimal, not the float {value!r}")
    return format_currency(Decimal(value), currency, locale=locale)


def example_closing_date(since: datetime | date) -> date:
    """A closing date for an example ACCEPT that is always in the future: the end of the
    month three months after the referral entered its state."""
    day = since.date() if isinstance(since, datetime) else since
    year, month = divmod(day.month + 2, 12)
    year, month = day.year + year, month + 1
    return date(year, month, monthrange(year, month)[1])


def html_line(line: str) -> Markup:
    """One line of the plain text as HTML: escaped, links made clickable, indentation kept."""
    indent = len(line) - len(line.lstrip(" "))
    parts, last = [Markup("&nbsp;") * indent], indent
    for match in _URL.finditer(line):
        url = escape(match.group())
        parts += [escape(line[last:match.start()]), Markup('<a href="{0}" style="color:#1f4e79;">{0}</a>').format(url)]
        last = match.end()
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


# -- sample data for check() and `refbot preview` ----------------------------------------

_SAMPLE_STATUS = {
    "partner/new_referral": "new", "partner/reminder_new": "new", "partner/details": "evaluating",
    "partner/reminder_evaluating": "evaluating", "partner/refusal": "evaluating", "partner/help": "evaluating",
    "partner/confirm_skipped": "skipped", "partner/confirm_negotiating": "negotiating",
    "partner/confirm_declined": "declined", "partner/confirm_won": "won", "partner/confirm_lost": "lost",
    "partner/reminder_closing": "negotiating", "partner/missed": "missed", "partner/expired": "expired",
    "partner/status": "negotiating", "customer/redirect": "declined", "customer/partner_will_contact": "negotiating",
}


def sample_context(name: str) -> dict:
    """Realistic sample data for ``name``: exactly the keys it takes, in a matching state."""
    if name not in CONTEXT_KEYS:
        raise RenderError(f"{name}: no such template (known: {', '.join(TEMPLATE_NAMES)})")
    status = _SAMPLE_STATUS[name]
    created = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    interested, accepted = created + timedelta(hours=5), created + timedelta(days=2)
    since = {"new": created, "evaluating": interested, "skipped": interested, "missed": created + timedelta(hours=72),
             "declined": accepted, "expired": interested + timedelta(days=7), "negotiating": accepted,
             }.get(status, accepted + timedelta(days=40))  # won, lost: after the closing date
    deadline = {"new": created + timedelta(hours=72), "evaluating": interested + timedelta(days=7)}.get(status)
    dealt = status in ("negotiating", "won", "lost")
    referral = SimpleNamespace(
        id="R-7K3Q9", rfi_id="RFI-2026-0001", status=status, region="DE", location="Berlin",
        need="Move our on-premises SQL Server to Azure, with as little downtime as possible.",
        products=["Azure SQL", "Azure Migrate"], keywords=["migration", "sql server"], company_size="medium",
        deal_value=Decimal("27000.00" if status == "won" else "25000.00") if dealt else None, currency="EUR",
        closing_date=date(2026, 12, 31) if dealt else None, created_at=created, deadline_at=deadline, status_since=since,
    )
    event = SimpleNamespace
    events = [event(at=created, from_status=None, to_status="new", actor="system", detail=None),
              event(at=interested, from_status="new", to_status="evaluating", actor="anna@contoso.example", detail=None),
              event(at=accepted, from_status="evaluating", to_status="negotiating", actor="anna@contoso.example",
                    detail="25000 EUR, closing 2026-12-31")]
    full = {
        "referral": referral,
        "partner": SimpleNamespace(id="contoso", name="Contoso Ltd"),
        "customer": SimpleNamespace(name="Erika Mustermann", company="Example GmbH", email="erika@example.org",
                                    phone="+49 30 1234567"),
        "actor": "anna@contoso.example",
        "reason": "no capacity this quarter" if status == "declined" else "budget cut",
        "commands": [SPECS[command] for command in valid_commands(status)],
        "events": events[:3 if dealt else 2],
        "refusal": MissingArgument(
            "ACCEPT needs an estimated closing date, e.g. ACCEPT 25000 EUR 2026-12-31.",
            message_de="ANNEHMEN benötigt das voraussichtliche Abschlussdatum, z. B. ANNEHMEN 25.000 EUR 31.12.2026.",
            line="ACCEPT 25000 EUR"),
        "other_open": 2,
        "find_partner_url": "https://example.com/find-a-partner",
    }
    return {key.rstrip("?"): full[key.rstrip("?")] for key in CONTEXT_KEYS[name]}
