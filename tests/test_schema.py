"""Schema migrations (SPEC §7 `refbot db upgrade`): the migrations make the tables the models
describe, on SQLite and PostgreSQL, and an existing database keeps its data."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot import models, schema  # noqa: F401  (models registers the tables)


def migrate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        schema.upgrade(connection)
    engine.dispose()


def differences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                 SQLModel.metadata)
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


def test_a_database_made_before_migrations_is_upgraded_and_keeps_its_data(refbot, smtp_server):
    referral = refbot.submit()["referrals"][0]["id"]
    database = refbot.config.parent / "var" / "refbot.db"
    with sqlite3.connect(database) as connection:  # as the versions before migrations left it
        connection.execute("DROP TABLE alembic_version")
    code, out, err = refbot("db", "upgrade")
    assert code == 0, err
    assert f"revision {schema.HEAD}" in out
    shown = refbot.json("referrals", "show", referral)
    assert shown["status"] == "new" and shown["customer"]["name"] == "Erika Mustermann"
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (schema.HEAD,)


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
