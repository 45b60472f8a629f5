"""The languages refbot speaks (bot/locale): the catalog template is what the code and the
templates say, every language translates all of it with the same placeholders, and its words
name only commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot import words
from bot.commands import NAMES
from bot.locales import LOCALE_DIR, LOCALES, SOURCE, catalog_path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [locale for locale in LOCALES if locale != SOURCE]


def messages(path: Path) -> dict:
    with path.open("rb") as handle:
        return {(m.context, m.id): m for m in read_po(handle) if m.id}


def placeholders(text: str | tuple) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", " ".join(text) if isinstance(text, tuple) else text))


def test_the_catalog_template_is_what_the_code_and_templates_say(tmp_path):
    fresh = tmp_path / "refbot.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_",
                                "-c", "TRANSLATORS:", "--no-location", "--sort-output", "-o", str(fresh), str(ROOT)])
    assert set(messages(fresh)) == set(messages(LOCALE_DIR / "refbot.pot")), (
        "bot/locale/refbot.pot is out of date: run pybabel extract and update (see the README, Languages)")


def test_there_is_more_than_one_language():
    assert SOURCE in LOCALES and TRANSLATED


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(locale):
    template = messages(LOCALE_DIR / "refbot.pot")
    catalog = messages(catalog_path(locale))
    assert set(catalog) == set(template)
    for message in catalog.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"{locale}: not translated: {message.id!r}"
        for string in strings:
            assert placeholders(string) <= placeholders(message.id), f"{locale}: {string!r}"
        if not isinstance(message.id, tuple):  # a plural may leave out the count
            assert placeholders(strings[0]) == placeholders(message.id), f"{locale}: {strings[0]!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_words_name_only_commands_that_exist(locale):
    from bot.locales import words as words_of

    data = words_of(locale)
    assert set(data.get("commands", {})) <= set(NAMES)
    assert set(data.get("before", {})) <= set(NAMES)
    for name in NAMES:
        assert words.keyword(name, locale)  # a language without a word shows the English one
