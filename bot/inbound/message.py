"""Reading one inbound email: decode it, tell people from machines, find what the person wrote.

Nothing here raises on bad mail: broken MIME and wrong charsets are read as well as they
can be, and what cannot be read comes back empty.
"""

from __future__ import annotations

import email
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

import authres

from bot import words
from bot.inbound.html_text import html_to_text

SUBJECT_TAG = re.compile(r"\[Referral (R-[0-9A-Z]{5})\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_MAX_ID_LENGTH = 255  # a longer Message-ID is kept as its hash: it still tells duplicates apart
_ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+?)\s*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # no database keeps a NUL in text
_UNDECODED = re.compile(r"[\ud800-\udfff]")
_NOT_IN_ADDRESS = re.compile(r"[\s\x00-\x1f\x7f]+")
# What one message may cost to read, checked before the expensive steps: the standard
# parser's time grows with the square of the encoded words in a header, and only the top of
# a reply holds what the person wrote.
MAX_ENCODED_WORDS = 500
MAX_PARTS = 500  # a reply has a few; the parser's time grows with every one
MAX_CONTAINERS = 50  # multipart containers; the parser recurses into each (and overflows near 1,000 deep)
MAX_TEXT_CHARS = 200_000


class TooComplex(ValueError):
    """A message that would cost too much to read: it is set aside, unread."""
_REPLY_PREFIXES = re.compile(r"^\s*((re|aw|wg|fw|fwd|tr)\s*:\s*)+", re.IGNORECASE)
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
    bounce_text: str = ""  # the report's text and returned headers, to find a token or subject tag in
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
    """Read ``raw``; raises TooComplex for a message that would cost too much to read."""
    _check_cost(raw)
    message = email.message_from_bytes(raw, policy=default_policy)
    message_id = _first_id(_header(message, "Message-ID")) or hashed_id(raw)
    if len(message_id) > _MAX_ID_LENGTH:
        message_id = hashed_id(message_id.encode())
    recipients = [_clean(addr).lower() for name in ("To", "Cc", "Delivered-To", "X-Original-To")
                  for _, addr in getaddresses(_all_headers(message, name)) if addr]
    thread_ids = _MESSAGE_ID.findall(_header(message, "In-Reply-To")) + list(reversed(_MESSAGE_ID.findall(_header(message, "References"))))
    inbound = Inbound(
        message_id=message_id, sender=sender_address(_raw_header(message, "From")),
        subject=" ".join(_clean(_header(message, "Subject")).split()), recipients=recipients,
        thread_ids=[_clean(t) for t in dict.fromkeys(thread_ids) if len(t) <= _MAX_ID_LENGTH],
        auth_results=[_clean(h) for h in _all_headers(message, "Authentication-Results")],
    )
    if _is_delivery_report(message, inbound):
        inbound.machine = "delivery report"
        inbound.bounce_of, inbound.bounce_detail, inbound.bounce_text = _bounced(message)
        return inbound
    inbound.machine = machine_reason(message, inbound)
    if inbound.machine is None:
        inbound.body = readable_body(message)
    return inbound


def hashed_id(data: bytes) -> str:
    """A Message-ID for a message without a usable one, the same for the same bytes."""
    return f"<sha256-{hashlib.sha256(data).hexdigest()[:40]}@refbot.invalid>"


def sender_address(header: str) -> str:
    """The From address, lower case: the one in angle brackets when there is one. A display
    name may look like an address (`leads@contoso.example <mallory@evil.example>` is mallory),
    and the standard parser takes the display name then."""
    found = _ANGLE_ADDRESS.findall(header)
    address = found[-1] if found else parseaddr(header)[1]
    if address and address.lower() not in header.lower():
        # The lenient parser joined what the header keeps apart (`leads@con toso.example`,
        # `leads@con<US>toso.example`): a check upstream saw another domain, or none.
        address = _NOT_IN_ADDRESS.sub("\ufffd", header.strip())
    # A control character is not dropped either (`leads@con<NUL>toso.example`): it becomes
    # U+FFFD, and the address is nobody's.
    return _UNDECODED.sub("\ufffd", _CONTROL.sub("\ufffd", address)).lower()


def _check_cost(raw: bytes) -> None:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lower = raw.lower()
    for count, limit, what in ((head.count(b"=?"), MAX_ENCODED_WORDS, "encoded words in the headers"),
                               (lower.count(b"content-type:"), MAX_PARTS, "MIME parts"),
                               (lower.count(b"multipart/"), MAX_CONTAINERS, "multipart containers")):
        if count > limit:
            raise TooComplex(f"{count} {what} (at most {limit} are read)")


def _clean(text: str) -> str:
    # A byte the header's charset cannot decode comes out of the parser as a lone surrogate,
    # which no database can store: it becomes U+FFFD, so the value stays unlike any real one.
    return _UNDECODED.sub("\ufffd", _CONTROL.sub("", text))


def authenticated(inbound: Inbound, *, authserv_id: str) -> bool:
    """Whether our own mail server (``authserv_id``) saw a DKIM or DMARC pass for the sender's
    domain. Headers from any other server are ignored: a sender can write whatever it likes."""
    domain = inbound.sender.rpartition("@")[2]
    for header in inbound.auth_results:
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(header.split()))
        except authres.AuthResError:
            continue  # unreadable: it proves nothing
        if parsed.authserv_id != authserv_id:
            continue
        for result in parsed.results:
            if result.method not in ("dkim", "dmarc") or str(result.result).lower() != "pass":
                continue
            for prop in result.properties:
                signer = str(prop.value).lstrip("@").rpartition("@")[2].lower()  # header.i may be an address
                if prop.type == "header" and prop.name in ("d", "i", "from") and (
                        domain == signer or domain.endswith("." + signer)):
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


_REPORT_PARTS = ("message/delivery-status", "message/global-delivery-status")
_DAEMONS = re.compile(r"<?\s*(mailer-daemon|postmaster)(@|\s*>|$)", re.IGNORECASE)


def _is_delivery_report(message: Message, inbound: Inbound) -> bool:
    """A bounce, by any of the signs mail servers give (SPEC §3): checked before the signs of
    other machine mail, so that a bounce is recorded on its referral."""
    if message.get_content_type() == "multipart/report":
        # Read receipts are reports too (disposition-notification): machine mail, not bounces.
        return (message.get_param("report-type") or "").lower() != "disposition-notification"
    if any(part.get_content_type() in _REPORT_PARTS for part in message.walk()):
        return True  # a report part inside multipart/mixed, as some servers send
    if _DAEMONS.match(inbound.sender) or _DAEMONS.match(_header(message, "Return-Path").strip()):
        return True  # qmail and appliances send plain text from the mailer daemon
    return words.bounce_subject(inbound.subject)


def _bounced(message: Message) -> tuple[list[str], str | None, str]:
    """The Message-IDs of the returned original, the server's reason, and the report's text."""
    ids = _MESSAGE_ID.findall(_header(message, "In-Reply-To")) + _MESSAGE_ID.findall(_header(message, "References"))
    detail, texts = None, []
    for part in message.walk():
        kind = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            continue
        text = _payload_text(part)[:MAX_TEXT_CHARS]
        if kind == "text/html":  # some servers report in HTML alone
            text = html.unescape(re.sub(r"<[^>]*>", " ", text))
        texts.append(text)
        if kind in _REPORT_PARTS:
            status = re.search(r"^Status:\s*(\S+)", text, re.MULTILINE | re.IGNORECASE)
            diagnostic = re.search(r"^Diagnostic-Code:\s*(.+)$", text, re.MULTILINE | re.IGNORECASE)
            detail = " ".join(x.group(1).strip() for x in (status, diagnostic) if x) or detail
            continue
        # The returned original: as a part of its own, or quoted inline in a plain-text bounce.
        ids += re.findall(r"^\s*Message-ID:\s*(<[^<>\s]+>)", text, re.MULTILINE | re.IGNORECASE)
        if detail is None and kind in ("text/plain", "text/html"):
            status = re.search(r"\b[45]\.\d{1,3}\.\d{1,3}\b", text)
            detail = status.group(0) if status else None
    return list(dict.fromkeys(_clean(i) for i in ids)), detail, _clean("\n".join(texts))[:MAX_TEXT_CHARS]


def _payload_text(part: Message) -> str:
    if part.is_multipart():
        # message/rfc822 parts carry the returned message as a sub-message.
        return "\n".join(f"{k}: {v}" for sub in part.get_payload() for k, v in sub.items()) + "\n" + "\n".join(
            _payload_text(sub) for sub in part.get_payload() if sub.get_content_maintype() != "multipart")
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return str(part.get_payload())


def plain_text(raw: bytes) -> str:
    """The plain-text part of a message refbot wrote."""
    message = email.message_from_bytes(raw, policy=default_policy)
    return _bodies(message)[0]


def our_words(raw: bytes) -> tuple[list[str], str]:
    """What a message refbot wrote says, as a reply may quote it: its plain text and its HTML
    part read as text (the button labels included), and its Reply-To address."""
    message = email.message_from_bytes(raw, policy=default_policy)
    plain, markup = _bodies(message)
    return [plain, html_to_text(markup)], _header(message, "Reply-To")


def readable_body(message: Message) -> str:
    """The text of a person's message: its plain part, or its HTML part as text. Only the top
    is read: a reply's own words come first, the quoted thread after."""
    plain, markup = _bodies(message)
    text = plain[:MAX_TEXT_CHARS] if plain.strip() else html_to_text(markup[:MAX_TEXT_CHARS])
    return _clean(text)


def _bodies(message: Message) -> tuple[str, str]:
    plain = markup = ""
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment" or part.get_filename():
            continue  # a file the person attached is not what they wrote
        kind = part.get_content_type()
        if kind == "text/plain" and not plain:
            plain = _decode(part)
        elif kind == "text/html" and not markup:
            markup = _decode(part)
    return plain, markup


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "cp1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header so broken the parser gives up on it
        return ""
    return "" if value is None else _clean(str(value))


def _raw_header(message: Message, name: str) -> str:
    """A header as written, before the library reads it (it reads some addresses wrongly), control
    characters and all: ``sender_address`` decides what they make of an address."""
    value = next((v for key, v in message.raw_items() if key.lower() == name.lower()), "")
    return " ".join(str(value).split())


def _all_headers(message: Message, name: str) -> list[str]:
    try:
        return [_clean(str(v)) for v in message.get_all(name, [])]
    except Exception:
        return []


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.findall(value)
    return found[0] if found else None
