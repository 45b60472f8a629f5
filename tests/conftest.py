"""Fixtures with real servers: aiosmtpd catches what refbot sends."""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from bot import config as config_module
from bot.app import App
from bot.db import transaction
from bot.models import OutboundMessage
from bot.rfi import RfiInput, submit
from tests.conversation import Mailbox, Mailroom
from tests.dovecot_server import DovecotServer
from tests.mailcatcher import SmtpServer

PARTNERS = """
[[partners]]
id = "contoso"
name = "Contoso Ltd"

  [[partners.profiles]]
  region = "DE"
  locations = ["Berlin", "Munich"]
  contact = "leads-de@contoso.example"
  team = ["anna@contoso.example"]
  backup = "sales-de@contoso.example"
  locale = "de"
  currency = "EUR"
  keywords = ["azure", "migration"]
  company_sizes = ["small", "medium"]

  [[partners.profiles]]
  region = "UK"
  contact = "leads-uk@contoso.example"
  locale = "en"
  currency = "GBP"

[[partners]]
id = "fabrikam"
name = "Fabrikam Inc"

  [[partners.profiles]]
  region = "DE"
  contact = "sales@fabrikam.example"
  locale = "en"
  currency = "EUR"
  keywords = ["sql server"]

[[partners]]
id = "northwind"
name = "Northwind Traders"

  [[partners.profiles]]
  region = "FR"
  contact = "contact@northwind.example"
  locale = "fr"
  currency = "EUR"
"""

RFI = {
    "rfi_id": "RFI-2026-0001",
    "customer": {"name": "Erika Mustermann", "email": "erika@example.org", "company": "Example GmbH",
                 "phone": "+49 30 1234567", "size": "medium"},
    "region": "DE",
    "location": "Berlin",
    "need": "Move our on-premises SQL Server to Azure",
    "products": ["Azure SQL"],
    "keywords": ["migration", "sql server"],
    "partners": ["contoso"],
    "consent_to_share_contact": True,
}


# Where the browser tests save their screenshots: $REFBOT_TEST_ARTIFACTS, else a folder of this
# run's pytest temporary directory; printed at the end of the run.
SCREENSHOTS = pytest.StashKey[Path]()


def pytest_configure(config):
    chosen = os.environ.get("REFBOT_TEST_ARTIFACTS")
    config.stash[SCREENSHOTS] = Path(chosen) / "screenshots" if chosen else None


@pytest.fixture(scope="session", autouse=True)
def _screenshot_folder(request, tmp_path_factory):
    if request.config.stash[SCREENSHOTS] is None:
        request.config.stash[SCREENSHOTS] = tmp_path_factory.getbasetemp() / "screenshots"


def pytest_terminal_summary(terminalreporter, config):
    folder = config.stash.get(SCREENSHOTS, None)
    if folder is not None and folder.is_dir():
        shots = sorted(p.name for p in folder.glob("*.png"))
        terminalreporter.write_line(f"dashboard screenshots ({len(shots)}): {folder}")


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


def write_config(folder: Path, *, smtp_port: int, extra: str = "", database: str = "sqlite:///var/refbot.db",
                 bot: str = "") -> Path:
    """The test config; ``bot`` adds lines to [bot], ``extra`` adds sections."""
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(f"""
        [bot]
        name = "Contoso Referrals"
        timezone = "Europe/Berlin"
        secret_env = "REFBOT_TEST_SECRET_UNSET"
        {bot}

        [database]
        url = "{database}"

        [smtp]
        transport = "smtp"
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        from_address = "referrals@example.com"
        reply_address = "referrals+{{token}}@example.com"
        retry_seconds = 60

        [customer_notices]
        enabled = true
        find_partner_url = "https://example.com/find-a-partner"
        """) + extra + PARTNERS, encoding="utf-8")
    return path


class Refbot:
    """Runs the refbot command line in-process, as an admin would type it."""

    def __init__(self, config: Path, capsys) -> None:
        self.config = config
        self.capsys = capsys

    def __call__(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        from bot import cli

        self.capsys.readouterr()
        if stdin is not None:
            import io
            import sys

            old, sys.stdin = sys.stdin, io.StringIO(stdin)
            try:
                code = cli.main(["--config", str(self.config), *args])
            finally:
                sys.stdin = old
        else:
            code = cli.main(["--config", str(self.config), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str, stdin: str | None = None):
        code, out, err = self(*args, "--json", stdin=stdin)
        assert code == 0, err
        return json.loads(out)

    def submit(self, rfi: dict | None = None, **changes) -> dict:
        data = {**(rfi or RFI), **changes}
        path = self.config.parent / f"rfi-{data['rfi_id']}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return self.json("rfi", "submit", str(path))


@pytest.fixture
def refbot(tmp_path, smtp_server, capsys) -> Refbot:
    return Refbot(write_config(tmp_path, smtp_port=smtp_server.port), capsys)


@dataclass
class Seeded:
    refbot: Refbot
    now: datetime
    made: object  # tests.seed.Seeded: the referrals, held mail and undeliverable email it made


@pytest.fixture
def seeded(refbot) -> Seeded:
    """The `refbot` site with eight weeks of a partner program behind it, ending now (tests/seed.py)."""
    from bot.clock import utcnow
    from tests.seed import seed

    app = App.open(config_module.load(refbot.config))
    try:
        now = utcnow()
        return Seeded(refbot, now, seed(app, now=now))
    finally:
        app.close()


POSTGRES_ADMIN_URL = os.environ.get("REFBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database for one test, dropped afterwards. Fails without a server."""
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"refbot_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


# The .eml fixtures are dated late November 2026 and answer referral R-7K3Q9.
NOW = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A referral R-7K3Q9 for Contoso DE whose first email had Message-ID <ref-R-7K3Q9-1@example.com>."""
    monkeypatch.setattr("bot.models.new_referral_id", lambda: "R-7K3Q9")
    config = config_module.load(write_config(tmp_path, smtp_port=1))
    app = App.open(config)
    submit(app.engine, app.mailer, config, RfiInput.model_validate(RFI), now=NOW)
    with transaction(app.engine) as session:
        session.execute(update(OutboundMessage).values(message_id="<ref-R-7K3Q9-1@example.com>"))
    yield app
    app.close()


# -- a real IMAP inbox, and conversations through the real daemon ------------------------------


@pytest.fixture
def dovecot(tmp_path):
    server = DovecotServer(tmp_path / "imap").start()
    yield server
    server.stop()


@pytest.fixture
def dotted_dovecot(tmp_path):
    """A Dovecot that keeps the user's folders under ``INBOX.`` (as Cyrus and Courier do)."""
    server = DovecotServer(tmp_path / "imap-dotted", namespace=("INBOX.", ".")).start()
    yield server
    server.stop()


def imap_config(dovecot, idle: bool = True) -> str:
    return f"""
[inbound]
transport = "imap"
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
username = "{dovecot.user}"
password_env = "REFBOT_TEST_IMAP_PASSWORD"
idle = {str(idle).lower()}
poll_seconds = 1
"""


@pytest.fixture
def mail_config() -> dict:
    """More config for the `mail` fixture: {"bot": lines for [bot], "extra": sections}; a test
    module overrides it."""
    return {}


@pytest.fixture
def mail(tmp_path, smtp_server, dovecot, capsys, monkeypatch, mail_config):
    """refbot running as `refbot run` does, on a real Dovecot (IDLE) and a real aiosmtpd."""
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", dovecot.password)
    extra = imap_config(dovecot) + mail_config.get("extra", "")
    refbot = Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=extra, bot=mail_config.get("bot", "")),
                    capsys)
    room = Mailroom(refbot=refbot, dovecot=dovecot, smtp=smtp_server).start()
    yield room
    room.stop()


@dataclass
class Scene:
    """A referral, and the people writing about it; each has read every email so far."""

    referral: str
    partner: Mailbox  # the profile's contact
    customer: Mailbox


@pytest.fixture
def referral_in_new(mail) -> Scene:
    """Contoso's German desk got a new referral (from RFI-2026-0001) and has read it."""
    scene = Scene(mail.submit(), mail.person("leads-de@contoso.example"), mail.person(RFI["customer"]["email"]))
    scene.partner.expect(subject="Neue Empfehlung", about=scene.referral)
    return scene


@pytest.fixture
def referral_in_evaluating(referral_in_new) -> Scene:
    """...then answered INTERESSIERT and has read the customer's details."""
    referral_in_new.partner.replies("INTERESSIERT", client="outlook-de")
    referral_in_new.partner.expect(body_contains=["Erika Mustermann"])
    return referral_in_new


@pytest.fixture
def referral_in_negotiating(referral_in_evaluating) -> Scene:
    """...then accepted it at 25.000 EUR, closing at the end of 2030, and read the confirmation."""
    referral_in_evaluating.partner.replies("ANNEHMEN 25.000 EUR 31.12.2030")
    referral_in_evaluating.partner.expect(body_contains=["25.000,00"])
    return referral_in_evaluating
