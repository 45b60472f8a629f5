"""The version of the database schema: Alembic migrations in ``bot/migrations``.

A new database is made at ``HEAD`` from the models; an existing one must be at ``HEAD`` to be
used, and `refbot db upgrade` brings it there. A database made before migrations existed has
the tables of the first revision and no ``alembic_version``: it counts as that revision.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.errors import RefbotError

HEAD = "0005"  # the newest migration; a test holds it to bot/migrations
BASELINE = "0001"  # the schema of databases made before migrations
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaOutOfDate(RefbotError):
    """The database was made by another version of refbot."""


def revision(connection: Connection) -> str | None:
    """The database's schema revision; None for a database without refbot's tables."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return BASELINE if "referral" in tables else None


def create(connection: Connection) -> None:
    """Make refbot's tables in an empty database, at the newest revision."""
    from bot.models import all_tables

    all_tables().create_all(connection)
    _alembic("stamp", connection, HEAD)


def require_current(connection: Connection) -> None:
    found = revision(connection)
    if found == HEAD:
        return
    if found is None:
        raise SchemaOutOfDate("the database has no refbot tables: `refbot init` or `refbot run` makes them")
    if found is not None and found > HEAD:  # revisions are numbered 0001, 0002, ...
        raise SchemaOutOfDate(f"the database schema is at revision {found}, newer than this refbot knows "
                              f"({HEAD}): run the refbot version that made it")
    raise SchemaOutOfDate(f"the database schema is at revision {found}, this refbot needs {HEAD}: "
                          "back it up, then run `refbot db upgrade`")


def upgrade(connection: Connection) -> tuple[str | None, str]:
    """Bring the database to ``HEAD``; the revisions before and after."""
    before = revision(connection)
    if before == BASELINE and "alembic_version" not in inspect(connection).get_table_names():
        _alembic("stamp", connection, BASELINE)
    _alembic("upgrade", connection, "head")
    return before, revision(connection)


def _alembic(verb: str, connection: Connection, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, verb)(config, target)
