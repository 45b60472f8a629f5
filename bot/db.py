"""Engine and transactions: one session per unit of work, committed or rolled back whole."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, create_engine, select

from bot import models, schema  # noqa: F401  (models registers the tables)
from bot.config import Config
from bot.errors import BadInput, ConfigError, NotFound, RefbotError

_STARTUP_LOCK = 0x726566626F74  # "refbot": one advisory lock id for schema set-up
READING = "refbot_reading"  # the execution option of an engine that only reads


class DatabaseError(RefbotError):
    """The database cannot be reached or set up."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1]
    return Path(path) if path and path != ":memory:" else None


def connect(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and write-ahead locking, others pass through."""
    if url.startswith("sqlite"):
        if path := sqlite_file(url):
            path.parent.mkdir(parents=True, exist_ok=True)
            # It holds customers' contact data: readable by its owner only. SQLite gives its
            # journal files the database file's mode.
            path.touch(mode=0o600, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_immediate_transactions(engine: Engine) -> None:
    # pysqlite opens transactions lazily, so two workers could both read a referral and
    # then race to write it. BEGIN IMMEDIATE takes the write lock up front instead.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A reader (see ``reading``) takes no lock: WAL gives it a snapshot while writers go on.
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READING) else "BEGIN IMMEDIATE")


def reading(engine: Engine) -> Engine:
    """The same database for code that only reads (the dashboard, reports): its transactions
    never wait for a writer's lock."""
    return engine.execution_options(**{READING: True})


def open_database(config: Config, *, create: bool = True, read_only: bool = False) -> Engine:
    """Connect, make the tables of a new database, check the schema of an existing one
    (`refbot db upgrade` updates it), and load partners and profiles from the config.

    Without ``create`` a missing SQLite file is an error: a mistyped path must not quietly
    become a new, empty database. ``read_only`` (reports, the dashboard) changes nothing at
    all, and returns an engine whose transactions wait for no writer (``reading``)."""
    if not create or read_only:
        require_existing(config)
    with _database_errors(config):
        engine = connect(config.database_url)
        if read_only:
            engine = reading(engine)
            with engine.begin() as connection:
                schema.require_current(connection)
            return engine
        with engine.begin() as connection:
            _one_at_a_time(connection)
            if schema.revision(connection) is None:
                schema.create(connection)
            schema.require_current(connection)
            with Session(bind=connection) as session:
                sync_profiles(session, config)
                session.flush()
    return engine


def upgrade_database(config: Config) -> tuple[str | None, str]:
    """`refbot db upgrade`: bring the schema to the newest revision; the revisions before and after."""
    require_existing(config)
    with _database_errors(config):
        engine = connect(config.database_url)
        try:
            with engine.begin() as connection:
                _one_at_a_time(connection)
                return schema.upgrade(connection)
        finally:
            engine.dispose()


def backup(config: Config, target: Path) -> int:
    """A consistent copy of the SQLite database into ``target`` (a new file, private to its
    owner), taken with SQLite's online backup while refbot goes on working; its referral count."""
    if sqlite_file(config.database_url) is None:
        raise BadInput(f"refbot backup copies SQLite databases; {safe_url(config.database_url)} is not one: use "
                       "the database's own tools (for PostgreSQL: pg_dump --format=custom)")
    if target.exists():
        raise BadInput(f"{target} exists already; choose a new file name")
    engine = open_database(config, read_only=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(target)
    try:
        os.chmod(target, 0o600)  # it holds customer data
        source = engine.raw_connection()
        try:
            source.driver_connection.backup(copy)
        finally:
            source.close()
        if copy.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise DatabaseError(f"{target}: the copy does not pass SQLite's integrity check")
        return copy.execute("SELECT count(*) FROM referral").fetchone()[0]
    finally:
        copy.close()
        engine.dispose()


def require_existing(config: Config) -> None:
    path = sqlite_file(config.database_url)
    if path is not None and not path.exists():
        raise NotFound(f"database {path}: no such file (check database.url; `refbot init` or `refbot run` makes a "
                       "new database)")


@contextmanager
def _database_errors(config: Config) -> Iterator[None]:
    """A bad URL or a missing driver is a config error; an unreachable server a runtime failure."""
    try:
        yield
    except (ArgumentError, ImportError) as exc:
        hint = " (install its driver; for PostgreSQL: pip install 'refbot[postgres]')" if isinstance(exc, ImportError) else ""
        raise ConfigError(f"database.url: cannot use {safe_url(config.database_url)}: {exc}{hint}") from None
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseError(f"database {safe_url(config.database_url)}: {exc.__class__.__name__}: {reason}") from None


def _one_at_a_time(connection) -> None:
    if connection.dialect.name == "postgresql":
        # Workers starting together would race to create or change the same tables and rows.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_STARTUP_LOCK})")


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database url>"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One transaction: everything in the block commits together or not at all."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def profile_key(partner_id: str, region: str, locations: tuple[str, ...] | list[str]) -> str:
    where = "+".join(sorted(place.casefold() for place in locations)) or "*"
    return f"{partner_id}/{region.upper()}/{where}"


def sync_profiles(session: Session, config: Config) -> None:
    """Make the partner and profile tables say what the config says."""
    from bot.models import PartnerRow, ProfileRow  # here: a command that only reads never defines them
    wanted: dict[str, ProfileRow] = {}
    for partner in config.partners:
        session.merge(PartnerRow(id=partner.id, name=partner.name))
        for profile in partner.profiles:
            key = profile_key(partner.id, profile.region, profile.locations)
            wanted[key] = ProfileRow(
                key=key, partner_id=partner.id, region=profile.region.upper(),
                locations=list(profile.locations), contact=profile.contact, team=list(profile.team),
                locale=profile.locale, currency=profile.currency, active=True, backup=profile.backup,
                digest=profile.digest,
            )
    for row in session.exec(select(ProfileRow)).all():
        if row.key not in wanted:
            row.active = False
    for row in wanted.values():
        session.merge(row)
