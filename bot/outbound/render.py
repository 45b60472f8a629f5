"""The emails partners and customers receive (SPEC §2–§4), rendered from Jinja2 templates.

Each email is one plain-text template, ``templates/<audience>/<name>.txt.j2``, written once for
every language: its sentences are gettext messages (``{% trans %}`` and ``_()``), translated by
the catalogs of ``bot/locale`` (see ``bot.locales``), and numbers, dates and money are formatted
for the reader's locale by Babel. The template sets its subject with ``{% set subject %}``. The
HTML part is that same text poured into the one shared ``templates/layout.html.j2``, laid out by
the blocks the text marks (``bot.outbound.blocks``: facts, deadline, ...) and, in a partner's
email, with a button for each command valid now (``bot.outbound.buttons``): the two parts can
never say different things, and customer-supplied text is escaped in one place, by the layout.
Without an admin's own layout, the bundled one is laid out in Python (``bot.outbound.layout``),
byte for byte what the template renders.

An admin's template folder overrides bundled files one by one, for every language
(``partner/help.txt.j2``) or for one (``de/partner/help.txt.j2``).
"""

from __future__ import annotations

import os
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError, nodes, pass_context
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from bot import lifecycle, words
from bot.commands import SPECS
from bot.errors import RefbotError, Refusal
from bot.locales import LOCALES, SOURCE, normalize, translations
from bot.outbound import blocks, buttons, layout
from bot.outbound.formats import Formats, format_money  # noqa: F401 - format_money: callers import it from here

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
_BLANK_LINES = re.compile(r"\n\n\n+")  # not \n{3,}: re searches that one several times slower


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


class _Environment(Environment):
    """Jinja2's environment, with two savings on every email.

    A template's globals are one dict rather than a ChainMap over the environment's: Jinja2
    copies them into each render's context and compares them at each ``{% import %}``, which
    over a ChainMap runs key by key in Python (up to a quarter of a short email). A template
    still sees every global: refbot sets them all before it loads the first template, as
    Jinja2 asks.

    ``constant`` names the globals that give the same result for the same constant arguments
    (a sentence's translation, a label's mark): a call of one with constant arguments is made
    when the template is compiled, not in every email, as Jinja2 already does for filters
    (``"ACCEPT"|keyword``)."""

    constant: dict = {}

    def make_globals(self, d):
        return {**self.globals, **(d or {})}

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if isinstance(source, str) and self.constant:
            source = _Constants(self.constant).visit(self.parse(source, name, filename))
        return super().compile(source, name, filename, raw, defer_init)


class _Constants(NodeTransformer):
    """Replaces each call of one of ``functions`` with constant arguments (``_("Region:")``,
    ``{% trans %}`` without variables, ``label(_("Region:"))``) by its result. Not in a template
    that names a variable, argument, macro or import like one of them (it would not be the
    global), nor in one that switches autoescape on (a sentence would be Markup there)."""

    def __init__(self, functions: dict) -> None:
        self.functions = functions

    def visit_Template(self, node):
        own = {name.name for name in node.find_all(nodes.Name) if name.ctx != "load"}
        own |= {macro.name for macro in node.find_all(nodes.Macro)}
        own |= {imported.target for imported in node.find_all(nodes.Import)}
        own |= {name if isinstance(name, str) else name[1] for imported in node.find_all(nodes.FromImport)
                for name in imported.names}
        self.functions = {k: f for k, f in self.functions.items() if k not in own}
        if node.find(nodes.EvalContextModifier) is not None:
            return node
        return self.generic_visit(node)

    def visit_Call(self, node):
        node = self.generic_visit(node)
        function = self.functions.get(node.node.name) if isinstance(node.node, nodes.Name) else None
        if (function is None or node.kwargs or node.dyn_args or node.dyn_kwargs
                or not all(isinstance(arg, nodes.Const) for arg in node.args)):
            return node
        try:
            return nodes.Const(function(*(arg.value for arg in node.args)), lineno=node.lineno)
        except Exception:  # noqa: BLE001 - it fails when the email is rendered, as it would have
            return node


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
        self._folders = [str(folder) for folder in folders]
        self._text: dict[str, Environment] = {}  # one per locale, made when first needed
        self._html = _Environment(loader=self._loader, autoescape=True, undefined=StrictUndefined,
                                  trim_blocks=True, lstrip_blocks=True)
        self._html.filters.update(layout.FILTERS)
        self.marks = blocks.Marks()  # one per renderer: its random part is never in anyone's text
        self._partials: dict[str, tuple] = {}  # per locale: (commands partial, {call: its result})

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
            env = _Environment(loader=self._loader, autoescape=False, undefined=StrictUndefined,
                               keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                               extensions=["jinja2.ext.i18n"])
            env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block is one line of words
            env.install_gettext_translations(catalog, newstyle=True)
            env.globals["gettext"] = env.globals["_"] = direct_gettext(catalog)
            sentence = constant_gettext(catalog)
            env.constant = {"gettext": sentence, "_": sentence, "label": self.marks.label}
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
            template = self._template(locale, name)
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
            primary, quiet = [b for b in found if not b.quiet], [b for b in found if b.quiet]
            tap_hint = self._remembered(locale, partial, "tap_hint")
            if self._own_layout():
                views = [self.marks.view(block) for block in parts]
                # `paragraphs` (each block's lines) keeps an admin's layout written before blocks working.
                html = self._html.get_template("layout.html.j2").render(
                    blocks=views, paragraphs=[view.lines for view in views], subject=subject,
                    bot_name=self.bot_name, lang=locale, primary=primary, quiet=quiet, tap_hint=tap_hint)
            else:
                html = layout.html(parts, self.marks, subject=subject, bot_name=self.bot_name, lang=locale,
                                   primary=primary, quiet=quiet, tap_hint=tap_hint)
        except (TemplateError, TypeError, ValueError, KeyError) as exc:
            raise RenderError(f"{locale}/{name}: {exc.__class__.__name__}: {exc}") from exc
        return Rendered(subject=subject, text=text, html=html, parts=parts)

    def _template(self, locale: str, name: str):
        """``name``'s template for ``locale``: an admin's ``<locale>/<name>.txt.j2`` if there is
        one, else ``<name>.txt.j2``. Asked at each render, as the loader would (a file added
        later is used at once), but without the loader's failed lookup for every email."""
        environment = self.text_environment(locale)
        for_locale = f"{locale}/{name}.txt.j2"
        if any(os.path.isfile(os.path.join(folder, locale, *name.split("/")) + ".txt.j2") for folder in self._folders):
            return environment.get_template(for_locale)
        return environment.get_template(f"{name}.txt.j2")

    def _own_layout(self) -> bool:
        """Whether the admin's template folder has its own ``layout.html.j2``; asked at each
        render, so that one added later is used at once. Without one, the bundled layout is
        laid out by ``bot.outbound.layout``, byte for byte what the template renders."""
        return self.template_dir is not None and os.path.isfile(os.path.join(self._folders[0], "layout.html.j2"))

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
        button = self._remembered(locale, partial, "button")
        offered = commands if commands is not None else lifecycle.valid_commands(referral.status)
        return buttons.buttons(offered, address=reply_to, subject=subject,
                               keyword=lambda command: words.keyword(command, locale),
                               body=lambda command: one_line(button(command)))

    def _remembered(self, locale: str, partial, macro: str):
        """``macro`` of the commands partial of ``locale``, run once per arguments: what a
        button writes and the hint above the buttons are the same in every email, and depend
        only on the partial and the language; an edited partial is a new module, run afresh."""
        known = self._partials.get(locale)
        if known is None or known[0] is not partial:
            known = self._partials[locale] = (partial, {})
        results, run = known[1], getattr(partial, macro)

        def remembered(*args, **kwargs):
            key = (macro, args, tuple(sorted(kwargs.items())))
            if key not in results:
                results[key] = run(*args, **kwargs)
            return results[key]
        return remembered

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


def direct_gettext(catalog):
    """Jinja2's newstyle ``gettext`` (what ``{% trans %}`` and ``_()`` call), without its two
    hops through the template context per sentence (``_`` looks ``gettext`` up and calls it
    through the context, which calls the catalog through the context again): the same
    translation, Markup under autoescape and %-formatting."""
    translate = catalog.gettext

    @pass_context
    def gettext(context, string: str, **variables) -> str:
        text = translate(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables  # always a format string, as in Jinja2: "%%" is "%"
    return gettext


def constant_gettext(catalog):
    """``direct_gettext`` of a sentence without variables, outside autoescape."""
    return lambda string: catalog.gettext(string) % {}


def tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    text = "\n".join(lines)
    return (_BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text) + "\n"


def example_closing_date(since: datetime | date) -> date:
    """A closing date for an example that is certainly in the future: the end of the month
    three months after ``since``."""
    day = since.date() if isinstance(since, datetime) else since
    year, month = divmod(day.month + 2, 12)
    year, month = day.year + year, month + 1
    return date(year, month, monthrange(year, month)[1])
