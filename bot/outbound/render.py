"""The emails partners and customers receive (SPEC §2–§4), rendered from Jinja2 templates.

Each email is one plain-text template, ``templates/<audience>/<name>.txt.j2``, written once for
every language: its sentences are gettext messages (``{% trans %}`` and ``_()``), translated by
the catalogs of ``bot/locale`` (see ``bot.locales``), and numbers, dates and money are formatted
for the reader's locale by Babel. The template sets its subject with ``{% set subject %}``. The
HTML part is that same text poured into the one shared ``templates/layout.html.j2``, laid out by
the blocks the text marks (``bot.outbound.blocks``: facts, deadline, ...) and, in a partner's
email, with a button for each command valid now (``bot.outbound.buttons``): the two parts can
never say different things, and customer-supplied text is escaped in one place, by the layout's
autoescape.

An admin's template folder overrides bundled files one by one, for every language
(``partner/help.txt.j2``) or for one (``de/partner/help.txt.j2``).
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from markupsafe import Markup, escape

from bot import lifecycle, words
from bot.commands import SPECS
from bot.errors import RefbotError, Refusal
from bot.locales import LOCALES, SOURCE, normalize, translations
from bot.outbound import blocks, buttons

# A source checkout has templates/ at the top; an installed package has them as bot/templates.
_PACKAGE = Path(__file__).resolve().parents[1]
BUNDLED_DIR = next((d for d in (_PACKAGE.parent / "templates", _PACKAGE / "templates") if d.is_dir()), _PACKAGE / "templates")

# What each template takes; "?" marks an optional key (None when not given). render() hands
# a template only these keys, so a customer passed along by mistake to an email sent before
# INTERESTED (new_referral, reminder_new, refusal, status, ...) can never reach it.
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "partner/new_referral": ("referral", "partner", "commands", "away?"),
    "partner/details": ("referral", "partner", "customer", "commands", "actor?"),
    "partner/confirm_skipped": ("referral", "partner", "actor", "undo_until?"),
    "partner/confirm_negotiating": ("referral", "partner", "customer", "commands", "actor"),
    "partner/confirm_declined": ("referral", "partner", "actor", "reason?", "reason_code?", "undo_until?"),
    "partner/confirm_updated": ("referral", "partner", "actor", "previous", "commands"),
    "partner/confirm_won": ("referral", "partner", "actor", "undo_until?"),
    "partner/confirm_lost": ("referral", "partner", "actor", "reason?", "reason_code?", "undo_until?"),
    "partner/confirm_undone": ("referral", "partner", "actor", "undone", "commands"),
    "partner/reminder_new": ("referral", "partner", "commands"),
    "partner/reminder_evaluating": ("referral", "partner", "customer", "commands"),
    "partner/reminder_closing": ("referral", "partner", "customer", "commands"),
    "partner/missed": ("referral", "partner", "previous"),
    "partner/expired": ("referral", "partner", "customer", "previous"),
    "partner/refusal": ("referral", "partner", "refusal", "commands", "by", "forwarded?"),
    "partner/not_allowed": ("referral", "partner"),
    "partner/status": ("referral", "partner", "events", "commands"),
    "partner/help": ("referral", "partner", "commands"),
    "customer/redirect": ("referral", "partner", "customer", "other_open", "find_partner_url", "reoffered?"),
    "customer/partner_will_contact": ("referral", "partner", "customer"),
    "admin/forward": ("referral", "partner", "customer", "sender", "text", "kind"),
    "partner/digest": ("partner", "profile", "waiting", "overdue", "week"),
}
TEMPLATE_NAMES: tuple[str, ...] = tuple(CONTEXT_KEYS)
TAGGED = ("partner/", "admin/")  # the emails whose subject carries "[Referral R-7K3Q9]"
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()./-]{5,}\d")


class RenderError(RefbotError):
    """A template is missing, broken, or was given too little context."""


@dataclass(frozen=True)
class Rendered:
    subject: str  # partner and admin emails: prefixed with the tag "[Referral R-7K3Q9] "; never CR/LF
    text: str  # plain-text part
    html: str  # HTML part, autoescaped
    parts: tuple = ()  # the text's blocks (bot.outbound.blocks.Block), as the HTML part lays them out


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
        self._loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders])
        self._text: dict[str, Environment] = {}  # one per locale, made when first needed
        self._html = Environment(loader=self._loader, autoescape=True, undefined=StrictUndefined,
                                 trim_blocks=True, lstrip_blocks=True)
        self._html.filters["html_line"] = html_line
        self._html.filters["contact_line"] = contact_line
        self.marks = blocks.Marks()  # one per renderer: its random part is never in anyone's text

    @classmethod
    def for_config(cls, config) -> "Renderer":
        """The renderer a config asks for: its template overrides, time zone and bot name."""
        templates = config.path(config.templates.dir) if config.templates.dir else None
        return cls(template_dir=templates, timezone=config.bot.timezone, bot_name=config.bot.name)

    def text_environment(self, locale: str) -> Environment:
        """The environment of ``locale``'s plain-text emails: its catalog and its formats.

        One environment per locale, so that filters know their locale without reaching into
        the render context (which imported macros would not see)."""
        locale = normalize(locale)
        if locale not in self._text:
            catalog = translations(locale)
            env = Environment(loader=self._loader, autoescape=False, undefined=StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                              extensions=["jinja2.ext.i18n"])
            env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block is one line of words
            env.install_gettext_translations(catalog, newstyle=True)
            formats = Formats(locale, self.tz, catalog)
            env.filters.update(
                dt=formats.moment, d=formats.day, typed_date=formats.typed_date, money=formats.money,
                number=formats.number, percent=formats.percent, hours=formats.hours, state=lambda name: "—" if name is None else catalog.gettext(name),
                size=lambda name: catalog.gettext(name), keyword=lambda name: words.keyword(name, locale),
            )
            env.globals.update(arguments=lambda name: SPECS[name].arguments, example_closing_date=example_closing_date,
                               archived_states=lifecycle.ARCHIVED, moves=lifecycle.moves,
                               block=self.marks.block, label=self.marks.label)
            self._text[locale] = env
        return self._text[locale]

    def render(self, name: str, *, locale: str, now: datetime, reply_to: str | None = None, **context) -> Rendered:
        """``name`` in ``locale``; a partner's email about a referral gets its command buttons
        when ``reply_to`` (the referral's reply address) is given."""
        if name not in CONTEXT_KEYS:
            raise RenderError(f"{name}: no such template (known: {', '.join(TEMPLATE_NAMES)})")
        locale = normalize(locale)
        values = {"bot_name": self.bot_name, "lang": locale, "now": now}
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
            template = self.text_environment(locale).select_template([f"{locale}/{name}.txt.j2", f"{name}.txt.j2"])
            module = template.make_module(values)
            subject = one_line(getattr(module, "subject", ""))
            if not subject:
                raise RenderError(f"{locale}/{name}: the template sets no subject ({{% set subject %}}...{{% endset %}})")
            if name.startswith(TAGGED) and "referral" in values:  # a customer's email is theirs (SPEC §2)
                subject = f"[Referral {one_line(values['referral'].id)}] {subject}"
            marked = tidy(str(module))
            text = tidy(self.marks.plain(marked))
            partial = self._commands(locale)
            found = self._buttons(name, locale, values, subject, reply_to, partial, context.get("commands"))
            parts = tuple(self.marks.blocks(marked))
            views = [self._view(block) for block in parts]
            # `paragraphs` (each block's lines) keeps an admin's layout written before blocks working.
            html = self._html.get_template("layout.html.j2").render(
                blocks=views, paragraphs=[view["lines"] for view in views], subject=subject,
                bot_name=self.bot_name, lang=locale, primary=[b for b in found if not b.quiet],
                quiet=[b for b in found if b.quiet], tap_hint=partial.tap_hint)
        except (TemplateError, TypeError, ValueError, KeyError) as exc:
            raise RenderError(f"{locale}/{name}: {exc.__class__.__name__}: {exc}") from exc
        return Rendered(subject=subject, text=text, html=html, parts=parts)

    def _commands(self, locale: str):
        """The commands partial of ``locale`` as a module: its macros, callable from here.

        Jinja2 keeps the module with the loaded template (as it does for ``{% import %}``): it
        takes no context, so running the partial again for each email would only repeat the
        same work (5-10 % of a render); an edited partial is a new template, with a new module."""
        return self.text_environment(locale).get_template("_commands.txt.j2").module

    def _buttons(self, name: str, locale: str, values: dict, subject: str, reply_to: str | None, partial,
                 commands: list[str] | None) -> list:
        """The buttons of the commands the sender offers now (``commands``: no UNDO once its
        window has closed), else of every command of the referral's state."""
        referral = values.get("referral")
        if reply_to is None or referral is None or not buttons.has_buttons(name):
            return []
        offered = commands if commands is not None else lifecycle.valid_commands(referral.status)
        return buttons.buttons(offered, address=reply_to, subject=subject,
                               keyword=lambda command: words.keyword(command, locale),
                               body=lambda command: one_line(partial.button(command)))

    def _view(self, block: blocks.Block) -> dict:
        """A block as the layout shows it: its lines, and its facts as label and value."""
        return {"kind": block.kind, "lines": [self.marks.unlabelled(line) for line in block.lines],
                "facts": [self.marks.fact(line) for line in block.lines]}

    def why(self, refusal: Refusal, *, referral, by: str | None, now: datetime, locale: str = SOURCE) -> str:
        """The one sentence that says why a reply was not applied (for the command line)."""
        source = '{% import "_refusals.txt.j2" as why %}{{ why[refusal.kind](refusal, referral, by, now) }}'
        try:
            template = self.text_environment(locale).from_string(source)
            return one_line(template.render(refusal=refusal, referral=referral, by=by, now=now))
        except (TemplateError, TypeError, ValueError, KeyError) as exc:
            raise RenderError(f"{locale}/_refusals: {refusal.kind}: {exc.__class__.__name__}: {exc}") from exc

    def check(self) -> list[str]:
        """Render every template in every locale with sample data, once as given and once
        with every optional key left out, and explain every kind of refusal; return one
        "locale/name: error" per failure."""
        from bot.outbound.samples import SAMPLE_NOW, SAMPLE_REPLY_TO, sample_context, sample_refusals

        problems = []
        if self.template_dir is not None:  # an override under a misspelt name would never be used
            for path in sorted(self.template_dir.rglob("*.txt.j2")):
                relative = path.relative_to(self.template_dir).as_posix().removesuffix(".txt.j2")
                name = relative.split("/", 1)[1] if relative.split("/", 1)[0] in LOCALES else relative
                if name not in CONTEXT_KEYS and not name.startswith("_"):
                    problems.append(f"{relative}: not a known template (known: {', '.join(TEMPLATE_NAMES)})")
        for locale in LOCALES:
            for name in TEMPLATE_NAMES:
                sample = sample_context(name)
                sparse = {k: v for k, v in sample.items() if f"{k}?" not in CONTEXT_KEYS[name]}
                for context in (sample, sparse) if sparse != sample else (sample,):
                    try:
                        self.render(name, locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **context)
                    except Exception as exc:  # noqa: BLE001 - a check reports, it does not crash
                        problems.append(str(exc) if isinstance(exc, RenderError)
                                        else f"{locale}/{name}: {exc.__class__.__name__}: {exc}")
                        break
            referral = sample_context("partner/refusal")["referral"]
            for refusal in sample_refusals():
                try:
                    self.why(refusal, referral=referral, by="anna@contoso.example", now=SAMPLE_NOW, locale=locale)
                except RenderError as exc:
                    problems.append(str(exc))
        return problems


class Formats:
    """Numbers, money, dates and times as a reader in ``locale`` expects them."""

    def __init__(self, locale: str, tz: ZoneInfo, catalog) -> None:
        self.locale, self.tz = locale, tz
        # TRANSLATORS: how emails show a date: a CLDR date pattern, as Babel reads it ("31 Dec 2026").
        self.date_pattern = catalog.gettext("d MMM y")
        # TRANSLATORS: how partners should type a date in a command: a CLDR date pattern that refbot
        # reads back without doubt ("2026-12-31"); never a slashed day and month that could be swapped.
        self.typed_pattern = catalog.gettext("yyyy-MM-dd")

    def day(self, value: datetime | date | None) -> str:
        """A date, or the bot-time-zone day of a stored time: "31 Dec 2026" / "31.12.2026"."""
        if value is None:
            return "—"
        day = self._local(value).date() if isinstance(value, datetime) else value
        return format_date(day, self.date_pattern, locale=self.locale)

    def typed_date(self, value: date) -> str:
        return format_date(value, self.typed_pattern, locale=self.locale)

    def moment(self, value: datetime | date | None) -> str:
        """A stored (aware UTC) time in the bot's time zone, e.g. "24 Nov 2026, 11:00 CET"."""
        if value is None or not isinstance(value, datetime):
            return self.day(value)
        local = self._local(value)
        when = format_datetime(local, f"{self.date_pattern}, HH:mm", tzinfo=self.tz, locale=self.locale)
        return f"{when} {zone_label(local, self.locale)}"

    def money(self, value: Decimal | int | str | None, currency: str) -> str:
        return format_money(value, currency, self.locale)

    def number(self, value: Decimal | int | str, places: int | None = None) -> str:
        """A number as the reader writes it: "25,000.50", "25.000,50", "25 000,50"."""
        pattern = None if places is None else "#,##0." + "0" * places
        return format_decimal(Decimal(str(value)), format=pattern, locale=self.locale)

    def percent(self, share: float | None) -> str:
        """A share as the reader writes it: "92 %", "92 %" (no-break), "92%"."""
        return "—" if share is None else format_percent(share, locale=self.locale)

    def hours(self, value: float | None) -> str:
        """A duration in hours, rounded for people: "45 min", "5 h"."""
        if value is None:
            return "—"
        return f"{round(value * 60)} min" if value < 1 else f"{format_decimal(round(value), locale=self.locale)} h"

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:  # a naive time would be shown in the wrong zone without a word
            raise ValueError(f"naive datetime {moment.isoformat()}: stored times must be aware UTC")
        return moment.astimezone(self.tz)


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
    """A closing date for an example that is certainly in the future: the end of the month
    three months after ``since``."""
    day = since.date() if isinstance(since, datetime) else since
    year, month = divmod(day.month + 2, 12)
    year, month = day.year + year, month + 1
    return date(year, month, monthrange(year, month)[1])


def contact_line(line: str) -> Markup:
    """A line of the customer's details: email addresses and phone numbers as links."""
    parts, last = [], 0
    for match in sorted([*_EMAIL.finditer(line), *_PHONE.finditer(line)], key=lambda m: m.start()):
        if match.start() < last:
            continue
        found = match.group()
        href = f"mailto:{found}" if "@" in found else "tel:" + re.sub(r"[^\d+]", "", found)
        parts += [escape(line[last:match.start()]),
                  Markup('<a href="{0}" style="color:#1f4e79; text-decoration:underline;">{1}</a>').format(href, found)]
        last = match.end()
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


def html_line(line: str) -> Markup:
    """One line of the plain text as HTML: escaped, links made clickable, indentation kept."""
    if "://" not in line and not line.startswith(" "):  # most lines: no link, no indent
        return escape(line)
    indent = len(line) - len(line.lstrip(" "))
    parts, last = [Markup("&nbsp;") * indent], indent
    for match in _URL.finditer(line):
        url = escape(match.group())
        parts += [escape(line[last:match.start()]), Markup('<a href="{0}" style="color:#1f4e79;">{0}</a>').format(url)]
        last = match.end()
    parts.append(escape(line[last:]))
    return Markup("").join(parts)
