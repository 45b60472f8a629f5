"""Reading one inbound email: decode it, tell people from machines, find what the person wrote.

Nothing here raises on bad mail: broken MIME and wrong charsets are read as well as they
can be, and what cannot be read comes back empty.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

from bs4 import BeautifulSoup
from mailparser_reply import EmailReplyParser

from bot import words
from bot.locales import LOCALES

SUBJECT_TAG = re.compile(r"\[Referral (R-[0-9A-Z]{5})\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIXES = re.compile(r"^\s*((re|aw|wg|fw|fwd|tr)\s*:\s*)+", re.IGNORECASE)
_SIGNATURE = re.compile(r"--|_{5,}")  # a line that starts a signature or an unquoted original
_NOT_AUTO_REPLIES = ("delivery report", "report", "mailing list", "Return-Path", "machine sender")
_MACHINE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+@.-]|$)", re.IGNORECASE)


@dataclass
class Inbound:
    """What refbot needs of one email."""

    message_id: str
    sender: str  # the From address, lower case ("" when there is none)
    subject: str
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To
    thread_ids: list[str]  # In-Reply-To first, then References, newest first
    machine: str | None = None  # why this is machine mail, or None for a person
    bounce_of: list[str] = field(default_factory=list)  # Message-IDs a delivery report is about
    bounce_detail: str | None = None
    body: str = ""  # the text of a person's message (the plain part, or the HTML part as text)
    auth_results: list[str] = field(default_factory=list)  # Authentication-Results headers

    @property
    def is_bounce(self) -> bool:
        return self.machine == "delivery report"

    @property
    def is_auto_reply(self) -> bool:
        """Written by a person's mail client on their behalf (out-of-office, vacation): not a
        report, a mailing list or a machine's own address."""
        return bool(self.machine) and not self.machine.startswith(_NOT_AUTO_REPLIES)

    @property
    def subject_referral(self) -> str | None:
        match = SUBJECT_TAG.search(self.subject)
        return match.group(1).upper() if match else None


def parse(raw: bytes) -> Inbound:
    message = email.message_from_bytes(raw, policy=default_policy)
    message_id = _first_id(_header(message, "Message-ID")) or "<sha256-%s@refbot.invalid>" % hashlib.sha256(raw).hexdigest()[:40]
    recipients = [addr.lower() for name in ("To", "Cc", "Delivered-To", "X-Original-To")
                  for _, addr in getaddresses(_all_headers(message, name)) if addr]
    thread_ids = _MESSAGE_ID.findall(_header(message, "In-Reply-To")) + list(reversed(_MESSAGE_ID.findall(_header(message, "References"))))
    inbound = Inbound(
        message_id=message_id, sender=parseaddr(_header(message, "From"))[1].lower(),
        subject=" ".join(_header(message, "Subject").split()), recipients=recipients, thread_ids=list(dict.fromkeys(thread_ids)),
        auth_results=_all_headers(message, "Authentication-Results"),
    )
    if _is_delivery_report(message, inbound):
        inbound.machine = "delivery report"
        inbound.bounce_of, inbound.bounce_detail = _bounced(message)
        return inbound
    inbound.machine = machine_reason(message, inbound)
    if inbound.machine is None:
        inbound.body = readable_body(message)
    return inbound


def authenticated(inbound: Inbound, *, authserv_id: str) -> bool:
    """Whether our own mail server (``authserv_id``) saw a DKIM or DMARC pass for the sender's
    domain. Headers from any other server are ignored: a sender can write whatever it likes."""
    domain = inbound.sender.rpartition("@")[2]
    for header in inbound.auth_results:
        server, _, results = header.partition(";")
        if server.split()[:1] != [authserv_id]:
            continue
        for method, value, aligned in re.findall(r"\b(dkim|dmarc)\s*=\s*(\w+)[^;]*?header\.(?:d|i|from)\s*=\s*@?([\w.-]+)", results, re.IGNORECASE):
            if value.lower() == "pass" and (aligned.lower() == domain or domain.endswith("." + aligned.lower())):
                return True
    return False


def machine_reason(message: Message, inbound: Inbound) -> str | None:
    """Why this message was written by a machine (RFC 3834 and what real responders do), or None."""
    if message.get_content_type() == "multipart/report":
        return "report (read receipt)"
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if _header(message, name):
            return name
    if _header(message, "X-MS-Exchange-Generated-Message-Source") or _header(message, "X-MS-Exchange-Inbox-Rules-Loop"):
        return "Exchange-generated"
    for name in ("List-Id", "List-Unsubscribe", "List-Post"):
        if _header(message, name):
            return f"mailing list ({name})"
    if _header(message, "Return-Path").strip() == "<>":
        return "Return-Path <>"
    if _MACHINE_SENDERS.match(inbound.sender) or not inbound.sender:
        return f"machine sender {inbound.sender or '(none)'}"
    if words.auto_reply_subject(_REPLY_PREFIXES.sub("", inbound.subject).strip()):
        return "auto-reply subject"
    return None


def _is_delivery_report(message: Message, inbound: Inbound) -> bool:
    if message.get_content_type() == "multipart/report":
        # Read receipts are reports too (disposition-notification): machine mail, not bounces.
        return (message.get_param("report-type") or "").lower() == "delivery-status"
    # Older servers (qmail, some appliances) send bounces as plain text from the mailer daemon.
    return bool(re.match(r"^(mailer-daemon|postmaster)@", inbound.sender))


def _bounced(message: Message) -> tuple[list[str], str | None]:
    """The Message-IDs of the returned original, and the server's reason."""
    ids: list[str] = []
    detail = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            text = _payload_text(part)
            status = re.search(r"^Status:\s*(\S+)", text, re.MULTILINE | re.IGNORECASE)
            diagnostic = re.search(r"^Diagnostic-Code:\s*(.+)$", text, re.MULTILINE | re.IGNORECASE)
            detail = " ".join(x.group(1).strip() for x in (status, diagnostic) if x) or detail
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "text/plain"):
            # A plain-text bounce quotes the original inline, headers and all.
            text = _payload_text(part)
            ids += re.findall(r"^Message-ID:\s*(<[^<>\s]+>)", text, re.MULTILINE | re.IGNORECASE)
            if detail is None and kind == "text/plain":
                status = re.search(r"\b[45]\.\d{1,3}\.\d{1,3}\b", text)
                detail = status.group(0) if status else None
    return list(dict.fromkeys(ids)), detail


def _payload_text(part: Message) -> str:
    if part.is_multipart():
        # message/rfc822 parts carry the returned message as a sub-message.
        return "\n".join(f"{k}: {v}" for sub in part.get_payload() for k, v in sub.items()) + "\n" + "\n".join(
            _payload_text(sub) for sub in part.get_payload() if sub.get_content_maintype() != "multipart")
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return str(part.get_payload())


def readable_body(message: Message) -> str:
    """The text of a person's message: its plain part, or its HTML part as text."""
    plain, html = _bodies(message)
    return plain if plain.strip() else html_to_text(html)


def visible_text(body: str) -> str:
    """The reply as the person wrote it: without the quoted original, the signature and client
    boilerplate. The reply parser knows the reply headers of many clients and languages; what
    it leaves, a '>'-quoted block or a client's unquoted copy of the original, is cut here."""
    reply = EmailReplyParser(languages=list(LOCALES)).read(body)
    return own_text(reply.replies[0].body if reply.replies else body)


def own_text(text: str) -> str:
    """The lines above the first signature or copy of the original, without '>' quotes."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(">"):
            continue  # quoted original: its instructions ("reply INTERESTED ...") are no command
        if _SIGNATURE.fullmatch(line) or words.begins_original(line):
            break
        lines.append(raw.rstrip())
    return "\n".join(lines).strip()


def _bodies(message: Message) -> tuple[str, str]:
    plain = html = ""
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not plain:
            plain = _decode(part)
        elif kind == "text/html" and not html:
            html = _decode(part)
    return plain, html


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "cp1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


# Containers that mail clients put the quoted original in.
_QUOTE_SELECTORS = ("blockquote", ".gmail_quote", "#divRplyFwdMsg", "#appendonsend", ".moz-cite-prefix",
                    "#mail-editor-reference-message-container", ".yahoo_quoted", "div[type=cite]")


def html_to_text(html: str) -> str:
    """Text of an HTML reply, with the quoted original and everything after it removed."""
    if not html.strip():
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["head", "style", "script", "title"]):
        tag.decompose()
    for selector in _QUOTE_SELECTORS:
        for quote in soup.select(selector):
            for later in list(quote.find_all_next()):
                later.decompose()
            quote.decompose()
    for hr in soup.find_all("hr"):  # Outlook puts the original after a rule
        for later in list(hr.find_all_next()):
            later.decompose()
        hr.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table"]):
        block.insert_after("\n")
    lines = [line.strip() for line in soup.get_text().replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header so broken the parser gives up on it
        return ""
    return "" if value is None else str(value)


def _all_headers(message: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in message.get_all(name, [])]
    except Exception:
        return []


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.findall(value)
    return found[0] if found else None
