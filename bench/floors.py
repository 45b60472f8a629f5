"""The floors: plain scripts doing the same work as refbot with nothing but the libraries,
each run as its own process (``python -m bench.floors NAME JSON``) so that it pays what
refbot pays: starting Python and importing what it uses."""

from __future__ import annotations

import json
import sys


def inbound(host: str, port: int, user: str, password: str, folder: str, smtp_port: int, database: str,
            batch: int = 100) -> None:
    """imapclient fetches in batches, the stdlib parses each message, one SQLite WAL commit and
    one smtplib send per message over one connection."""
    import email
    import smtplib
    import sqlite3
    from email.message import EmailMessage
    from email.policy import default

    import imapclient

    db = sqlite3.connect(database)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS seen (message_id TEXT UNIQUE, sender TEXT, subject TEXT, body TEXT)")
    smtp = smtplib.SMTP("127.0.0.1", smtp_port)
    imap = imapclient.IMAPClient(host, port=port, ssl=False)
    imap.login(user, password)
    imap.select_folder(folder)
    uids = imap.search(["ALL"])
    for start in range(0, len(uids), batch):
        fetched = imap.fetch(uids[start:start + batch], ["BODY.PEEK[]"])
        for uid in sorted(fetched):
            message = email.message_from_bytes(fetched[uid][b"BODY[]"], policy=default)
            body = message.get_body(("plain",)).get_content()
            with db:
                db.execute("INSERT INTO seen VALUES (?, ?, ?, ?)",
                           (message["Message-ID"], message["From"], message["Subject"], body))
            answer = EmailMessage()
            answer["From"] = "referrals@example.com"
            answer["To"] = str(message["From"])
            answer["Subject"] = "Re: " + str(message["Subject"])
            answer["In-Reply-To"] = message["Message-ID"]
            answer.set_content("Thank you, noted.\n")
            smtp.send_message(answer)
    smtp.quit()
    imap.logout()


def outbound(database: str, smtp_port: int) -> None:
    """smtplib sends the rendered messages of refbot's outbox over one connection."""
    import smtplib
    import sqlite3

    db = sqlite3.connect(database)
    smtp = smtplib.SMTP("127.0.0.1", smtp_port)
    for recipient, raw in db.execute("SELECT recipient, raw FROM outbox WHERE status = 'queued' ORDER BY id"):
        smtp.sendmail("referrals@example.com", [recipient], raw)
    smtp.quit()


def intake(path: str, database: str, smtp_port: int | None = None) -> None:
    """Each JSON line parsed and stored, one SQLite WAL commit per RFI; with ``smtp_port``, also
    one short email per RFI sent by smtplib over one connection (``refbot rfi submit`` sends
    what it queued: this second floor shows how much of the gap is the sending)."""
    import smtplib
    import sqlite3
    from email.message import EmailMessage

    db = sqlite3.connect(database)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS rfi (id TEXT PRIMARY KEY, region TEXT, body TEXT)")
    smtp = smtplib.SMTP("127.0.0.1", smtp_port) if smtp_port else None
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            rfi = json.loads(line)
            with db:
                db.execute("INSERT INTO rfi VALUES (?, ?, ?)", (rfi["rfi_id"], rfi["region"], line))
            if smtp:
                offer = EmailMessage()
                offer["From"] = "referrals@example.com"
                offer["To"] = "leads@contoso.example"
                offer["Subject"] = f"New referral: {rfi['rfi_id']}"
                offer.set_content(f"{rfi['need']}\n")
                smtp.send_message(offer)
    if smtp:
        smtp.quit()


if __name__ == "__main__":
    globals()[sys.argv[1]](**json.loads(sys.argv[2]))
