"""The languages refbot speaks: one folder per locale under ``bot/locale``.

Each folder holds the words refbot reads in that language (``words.toml``) and, for every
language but English (the language of the source texts), the gettext catalog of the words it
writes (``LC_MESSAGES/refbot.po``, made with ``pybabel extract/update``; see the README).
Adding a language is adding its folder: no code names a language.
"""

from __future__ import annotations

import gettext
import tomllib
from functools import cache
from io import BytesIO
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "refbot"
SOURCE = "en"  # the language the templates are written in: it needs no catalog

LOCALES: tuple[str, ...] = tuple(sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "words.toml").is_file()))


def N_(word: str) -> str:
    """Marks a word of the code (a state, a company size) for the catalogs, which
    ``pybabel extract`` collects, without translating it here; templates translate it."""
    return word


def normalize(locale: str | None) -> str:
    """``de``, ``de-DE`` and ``de_AT`` all mean ``de``; a language we do not speak is English."""
    language = str(locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in LOCALES else SOURCE


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog of ``locale``, compiled from its ``.po`` file when first needed, so that a
    compiled catalog can never be older than its source."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = catalog_path(locale)
    if locale == SOURCE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as `pybabel compile` does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def words(locale: str | None) -> dict:
    """The words of ``locale`` (its ``words.toml``); with None, the words that mail software
    writes in languages refbot does not speak (``bot/locale/words.toml``)."""
    path = LOCALE_DIR / "words.toml" if locale is None else LOCALE_DIR / locale / "words.toml"
    with path.open("rb") as handle:
        return tomllib.load(handle)
