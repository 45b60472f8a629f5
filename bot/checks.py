"""What `refbot config check` warns about: a config that is valid but will fail at run time
(a password variable that is not set, a database driver that is not installed, a currency
nobody knows), each as ``key: what will happen``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from babel.numbers import is_currency
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import Config
from bot.db import sqlite_file


def warnings(config: Config, environ: Mapping[str, str]) -> list[str]:
    return [*_secrets(config, environ), *_database(config), *_currencies(config), *_dashboard(config)]


def _secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    needed = []  # (key, variable, what fails without it)
    smtp, inbound, web = config.smtp, config.inbound, config.web
    if smtp.transport == "smtp" and smtp.username:
        needed.append(("smtp.password_env", smtp.password_env, "every email will fail to send"))
    if inbound.transport == "imap":
        needed.append(("inbound.password_env", inbound.password_env, "no reply can be read"))
    if web.enabled and web.password_env:
        needed.append(("web.password_env", web.password_env, "the dashboard will not start"))
    found = []
    for key, variable, consequence in needed:
        if not variable:
            found.append(f"{key}: empty, so no password is given: {consequence}")
        elif not environ.get(variable):
            found.append(f"{key}: the variable {variable} is not set here: {consequence} unless it is set where "
                         "refbot runs")
    return found


def _database(config: Config) -> list[str]:
    url = config.database_url
    try:
        make_url(url).get_dialect().import_dbapi()
    except ArgumentError as exc:
        return [f"database.url: not a database URL ({exc})"]
    except ImportError as exc:
        return [f"database.url: its driver is not installed ({exc}): every command will fail (for PostgreSQL: "
                "pip install 'refbot[postgres]')"]
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return [f"database.url: {path} does not exist yet: `refbot run` will create it (is the path right?)"]
    return []


def _currencies(config: Config) -> list[str]:
    return [f"partners[{i}].profiles[{j}].currency: {profile.currency} is not an ISO 4217 currency: amounts "
            "will show the bare code and partners' values in it cannot be compared"
            for i, partner in enumerate(config.partners) for j, profile in enumerate(partner.profiles)
            if not is_currency(profile.currency)]


def _dashboard(config: Config) -> list[str]:
    web = config.web
    if not web.enabled or web.password_env:
        return []
    try:
        local = ipaddress.ip_address(web.listen_host).is_loopback
    except ValueError:
        local = web.listen_host == "localhost"
    return [] if local else [f"web.listen_host: {web.listen_host} without web.password_env: anyone who can reach "
                             "it sees every referral and customer"]
