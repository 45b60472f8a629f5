"""`refbot config check --connect`: log in to the IMAP and SMTP servers the config names, and
report what refbot will use there (the personal namespace, each folder by its name on the
server, the capabilities that matter) and every problem, each naming the key to change.

It leaves the servers as it found them: a missing folder is created to prove that it can be,
then removed again (refbot creates it when it starts).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field

import imapclient

from bot.config import Config, InboundSettings, SmtpSettings, secret_from_env
from bot.inbound import folders, imap
from bot.outbound import transports

IMAP_CAPABILITIES = {  # what each is for, when the server lacks it
    "IDLE": "no IMAP IDLE: refbot polls every inbound.poll_seconds instead",
    "MOVE": "no MOVE: refbot copies each message, flags it deleted and expunges it",
    "UIDPLUS": "no UIDPLUS: without MOVE, an expunge also removes other messages flagged deleted in the folder",
}


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)  # what was found, for the admin to read
    problems: list[str] = field(default_factory=list)  # what will fail, each naming the key to change

    def add(self, other: Report) -> None:
        self.lines += other.lines
        self.problems += other.problems


def check(config: Config) -> Report:
    report = Report()
    inbound = config.inbound
    own = f"inbound: refbot's own SMTP server on {inbound.listen_host}:{inbound.listen_port}: nothing to log in to"
    report.add(check_imap(inbound) if inbound.transport == "imap" else Report([own]))
    report.add(check_smtp(config.smtp) if config.smtp.transport == "smtp" else Report(
        [f"smtp: maildir {config.path(config.smtp.maildir)}: nothing to log in to"]))
    return report


def check_imap(s: InboundSettings) -> Report:
    report = Report([f"imap {s.host}:{s.port} ({s.security}) as {s.username or '(no user)'}:"])
    password = secret_from_env(s.password_env)
    if not password:
        report.problems.append(f"inbound.password_env: the variable {s.password_env or '(empty)'} is not set here: "
                               "cannot log in")
        return report
    try:
        client = imap.login(s, password)
    except imap.client_errors() as exc:
        report.problems.append(f"imap {imap.explain(exc, s)}")
        return report
    try:
        found = folders.resolve(client, s)
        report.lines.append(f"  logged in; {found.namespace.describe()}")
        for key in folders.KEYS:
            report.add(_folder(client, s, found, key))
        for name, without in IMAP_CAPABILITIES.items():
            has = client.has_capability(name)
            report.lines.append(f"  {name}: {'yes' if has else 'no (' + without + ')'}")
    except imap.client_errors() as exc:
        report.problems.append(f"imap {imap.explain(exc, s)}")
    finally:
        try:
            client.logout()
        except imap.client_errors():
            pass
    return report


def _folder(client: imapclient.IMAPClient, s: InboundSettings, found: folders.Folders, key: str) -> Report:
    configured, name = getattr(s, key), getattr(found, key)
    label = f"  inbound.{key:<17} {configured!r}" + ("" if configured == name else f" -> {name!r}")
    if client.folder_exists(name):
        return Report([f"{label}: exists"])
    if key == "folder":
        return Report([f"{label}: MISSING"], [folders.problem(client, s, found, key, "does not exist")])
    try:
        client.create_folder(name)
    except imapclient.exceptions.IMAPClientError as exc:
        said = f"cannot be created: the server said {folders.said(exc)}"
        return Report([f"{label}: missing, cannot be created"], [folders.problem(client, s, found, key, said)])
    client.delete_folder(name)  # leave the server as it was; refbot creates it when it starts
    return Report([f"{label}: missing, can be created (refbot creates it when it starts)"])


def check_smtp(s: SmtpSettings) -> Report:
    report = Report([f"smtp {s.host}:{s.port} ({s.security}) as {s.username or '(no login)'}:"])
    password = secret_from_env(s.password_env)
    if s.username and not password:
        report.problems.append(f"smtp.password_env: the variable {s.password_env or '(empty)'} is not set here: "
                               "cannot log in")
        return report
    connection = None
    try:
        connection = transports.connect(s)
        connection.ehlo_or_helo_if_needed()
        if s.username:
            connection.login(s.username, password)
        report.lines.append("  logged in" if s.username else "  connected (no login)")
        utf8 = "yes" if connection.has_extn("smtputf8") else "no (addresses beyond ASCII will fail)"
        report.lines.append(f"  SMTPUTF8: {utf8}")
        size = connection.esmtp_features.get("size", "")
        report.lines.append(f"  SIZE: {size + ' bytes' if size.strip('0') else 'no limit announced'}")
    except (OSError, smtplib.SMTPException) as exc:
        report.problems.append(f"smtp {transports.explain(exc, s)}")
    finally:
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
    return report
