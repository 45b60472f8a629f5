"""The config is validated once, and every error names its key."""

import tomllib
from pathlib import Path

import pytest

from bot import config
from bot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def parse(text: str):
    import tomllib

    return config.parse(tomllib.loads(text))


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return str(caught.value)


PARTNER = """
[[partners]]
id = "contoso"
name = "Contoso Ltd"
  [[partners.profiles]]
  region = "DE"
  contact = "leads@contoso.example"
"""


def test_the_example_config_documents_every_key_and_loads():
    loaded = config.load(EXAMPLE)
    assert loaded.partners[0].profiles[0].team == ("anna@contoso.example",)
    text = EXAMPLE.read_text()
    for section, model in config.Config.model_fields.items():
        if section in ("base_dir", "partners"):
            continue
        for key, field in model.annotation.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, config.Section):
                assert f"\n[{section}.{key}]" in text, f"[{section}.{key}] is not documented"
                for inner in field.annotation.model_fields:
                    assert f"\n{inner} = " in text, f"[{section}.{key}] {inner} is not documented"
                continue
            assert f"\n{key} = " in text or f"\n{key} =" in text, f"[{section}] {key} is not documented"
    for key in config.Profile.model_fields:
        assert f"  {key} = " in text, f"profile key {key} is not documented"


def test_unknown_key_is_refused_with_its_path():
    assert error_of("[smtp]\nhots = 'x'\n") == 'config: smtp.hots: unknown key (did you mean "host"?)'
    assert error_of(PARTNER + "  colour = 'blue'\n") == "config: partners[0].profiles[0].colour: unknown key"


def test_every_problem_is_reported_at_once_with_the_nearest_key():
    with pytest.raises(ConfigError) as caught:
        parse("[smtp]\nhots = 'x'\n[timeouts]\nnew_hours = 0\n[smpt]\nport = 1\n"
              + PARTNER.replace("leads@contoso.example", "leads.contoso.example") + "  Team = []\n")
    assert caught.value.problems == [
        'config: smtp.hots: unknown key (did you mean "host"?)',
        "config: timeouts.new_hours: Input should be greater than or equal to 1",
        "config: partners[0].profiles[0].contact: not an email address (An email address must have an @-sign.)",
        'config: partners[0].profiles[0].Team: unknown key (did you mean "team"?)',
        'config: smpt: unknown key (did you mean "smtp"?)',
    ]
    assert str(caught.value).endswith("(and 4 more problems); `refbot config check` lists them all")
    assert error_of("[smtp]\ncolour = 'x'\n") == "config: smtp.colour: unknown key"  # nothing near it


def test_bad_contact_names_the_key():
    text = PARTNER.replace("leads@contoso.example", "not-an-email")
    assert error_of(text).startswith("config: partners[0].profiles[0].contact: not an email address (")


def test_second_partner_error_has_its_index():
    text = PARTNER + PARTNER.replace('"contoso"', '"fabrikam"').replace("region = \"DE\"", "region = \"\"")
    assert error_of(text).startswith("config: partners[1].profiles[0].region:")


def test_duplicate_partner_id_is_refused():
    assert error_of(PARTNER + PARTNER) == "config: partners[1].id: duplicate partner id 'contoso'"


def test_bad_values_are_explained():
    assert "unknown time zone" in error_of("[bot]\ntimezone = 'Mars/Olympus'\n")
    assert error_of("[smtp]\nsecurity = 'tls'\n").startswith("config: smtp.security: Input should be")
    assert "must be an email address containing {token}" in error_of("[smtp]\nreply_address = 'referrals@example.com'\n")
    assert "company_sizes" in error_of(PARTNER + "  company_sizes = ['huge']\n")
    assert error_of("[timeouts]\nnew_hours = 12\n").startswith("config: timeouts.new_reminder_hours:")


def test_not_toml_and_missing_file(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[bot\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(bad)
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "missing.toml")


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[database]\nurl = 'sqlite:///var/refbot.db'\n")
    loaded = config.load(path)
    assert loaded.database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'refbot.db'}"


def test_contact_addresses_are_kept_in_lower_case():
    profile = parse(PARTNER.replace("leads@", "Leads@")).partners[0].profiles[0]
    assert profile.contact == "leads@contoso.example"


def test_a_locale_refbot_does_not_speak_is_refused_with_the_ones_it_does():
    with pytest.raises(ConfigError, match=r"partners\[0\]\.profiles\[0\]\.locale: unknown locale 'xx' \(refbot speaks de, en"):
        parse(PARTNER + 'locale = "xx"\n')


def test_customer_notices_answer_to_reply_to_else_the_admin_address():
    admin = "[bot]\nadmin_address = 'Program@Example.com'\n"
    assert config.parse(tomllib.loads(admin)).customer_reply_to == "program@example.com"
    both = admin + "[customer_notices]\nreply_to = 'care@example.com'\nlocale = 'de'\n"
    assert config.parse(tomllib.loads(both)).customer_reply_to == "care@example.com"
    assert config.parse({}).customer_reply_to is None
    assert error_of("[customer_notices]\nlocale = 'es'\n").startswith("config: customer_notices.locale: unknown locale")
    assert error_of("[digest]\nweekday = 'funday'\n").startswith("config: digest.weekday:")
    assert error_of("[matching.weights]\nspeed = 1\n") == "config: matching.weights.speed: unknown key"
