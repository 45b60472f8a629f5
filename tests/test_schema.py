"""Schema migrations (SPEC §7 `refbot db upgrade`): the migrations make the tables the models
describe, on SQLite and PostgreSQL, and an existing database keeps its data."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from bot import schema
from bot.models import all_tables


def migrate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        schema.upgrade(connection)
    engine.dispose()


def differences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                 all_tables())
    engine.dispose()
    return found


def test_head_is_the_newest_migration():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [schema.HEAD]


def test_the_migrations_make_the_tables_the_models_describe_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'refbot.db'}"
    migrate(url)
    assert differences(url) == []


def test_the_migrations_make_the_tables_the_models_describe_on_postgresql(postgres_url):
    migrate(postgres_url)
    assert differences(postgres_url) == []


def test_run_refuses_a_schema_newer_than_it_knows(refbot, smtp_server):
    refbot.submit()
    with sqlite3.connect(refbot.config.parent / "var" / "refbot.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    code, _, err = refbot("run", "--once")
    assert code == 1 and "revision 9999, newer than this refbot knows" in err and err.count("\n") == 1


def test_an_older_schema_is_refused_with_the_command_that_fixes_it(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'refbot.db'}"
    migrate(url)
    monkeypatch.setattr(schema, "HEAD", f"{int(schema.HEAD) + 1:04d}")  # as a newer refbot would see it
    engine = create_engine(url)
    with engine.connect() as connection, pytest.raises(schema.SchemaOutOfDate) as refused:
        schema.require_current(connection)
    assert "run `refbot db upgrade`" in str(refused.value)
    engine.dispose()


def test_a_new_database_is_made_at_the_newest_revision(refbot, smtp_server):
    refbot.submit()
    with sqlite3.connect(refbot.config.parent / "var" / "refbot.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (schema.HEAD,)
    assert refbot("db", "upgrade")[1] == f"The database schema is up to date (revision {schema.HEAD}).\n"
    engine = create_engine(f"sqlite:///{refbot.config.parent / 'var' / 'refbot.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM referral")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("made", ["by the first migration", "before migrations existed"])
def test_upgrading_from_the_first_schema_keeps_every_row_and_moves_old_reasons(tmp_path, capsys, made):
    """A database of the first schema, with a referral declined with a reason, upgraded."""
    from tests.conftest import Refbot, write_config

    url = f"sqlite:///{tmp_path / 'var' / 'refbot.db'}"
    (tmp_path / "var").mkdir()
    engine = create_engine(url)
    with engine.begin() as connection:
        schema._alembic("upgrade", connection, "0001")
        connection.execute(text(
            "INSERT INTO rfi (id, customer, region, need, products, keywords, consent_to_share_contact, submitted_at)"
            """ VALUES ('RFI-OLD', '{"name": "Erika", "email": "erika@example.org"}', 'DE', 'SQL',"""
            " '[]', '[]', 1, '2026-11-01 09:00:00')"))
        connection.execute(text(
            "INSERT INTO profile (key, partner_id, region, locations, contact, team, locale, currency, active)"
            " VALUES ('contoso/DE/berlin+munich', 'contoso', 'DE', '[]', 'leads-de@contoso.example', '[]', 'de',"
            " 'EUR', 1)"))
        connection.execute(text(
            "INSERT INTO referral (id, rfi_id, partner_id, profile_key, region, contact, locale, currency, status,"
            " status_since, deal_value, created_at) VALUES ('R-0LD00', 'RFI-OLD', 'contoso',"
            " 'contoso/DE/berlin+munich', 'DE', 'leads-de@contoso.example', 'de', 'EUR', 'declined',"
            " '2026-11-03 09:00:00', '25000.50', '2026-11-01 09:00:00')"))
        connection.execute(text(
            "INSERT INTO event (referral_id, at, from_status, to_status, actor, command, detail) VALUES"
            " ('R-0LD00', '2026-11-03 09:00:00', 'evaluating', 'declined', 'leads-de@contoso.example', 'DECLINE',"
            " 'zu klein für uns')"))
        if made == "before migrations existed":
            connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    refbot = Refbot(write_config(tmp_path, smtp_port=1), capsys)
    code, _, err = refbot("referrals", "show", "R-0LD00")
    assert code == 1 and "refbot db upgrade" in err
    code, out, err = refbot("db", "upgrade")
    assert code == 0 and f"from revision 0001 to {schema.HEAD}" in out, err
    shown = refbot.json("referrals", "show", "R-0LD00")
    assert (shown["status"], shown["deal_value"], shown["customer"]["name"]) == ("declined", "25000.50", "Erika")
    assert shown["events"][-1]["reason"] == "zu klein für uns"
    assert refbot("db", "upgrade")[1] == f"The database schema is up to date (revision {schema.HEAD}).\n"
