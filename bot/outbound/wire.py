"""Our emails' bytes, built straight from what the mailer knows: headers, a plain-text and an
HTML part, each quoted-printable, in one multipart/alternative.

Building an ``EmailMessage`` and flattening it parses every header value through the email
package's header registry and folds it back, twice for the MIME headers: a third of the cost
of answering a reply. Most of our header values are plain ASCII that the registry would give
back unchanged; those are written as they are, and any other value (non-ASCII, an encoded-word
look-alike, very long, an address with a display name that needs quoting) still goes through
the registry, so the bytes are the ones the email package makes (tests/test_wire.py compares
them). As with the email package, a header value with a line break is refused.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from email import quoprimime
from email.headerregistry import Address
from email.policy import SMTP, EmailPolicy

# Bodies are encoded when the message is built (quoted-printable, 76 columns); on the wire,
# headers fold only past 998 characters, because folding a short subject before its first
# word, as the 78-column default does, leaves some clients a subject with a leading space.
WIRE_POLICY = SMTP.clone(max_line_length=998)
UTF8_POLICY = WIRE_POLICY.clone(utf8=True)
_BODY_LINE = SMTP.max_line_length  # the quoted-printable lines' limit, as the email package sets them

# Printable ASCII words separated by single spaces, no encoded-word look-alike: a value the
# registry leaves as it is.
_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*\Z")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")
_DISPLAY_NAME = re.compile(rf"{_ATEXT}(?: {_ATEXT})*\Z")
_FOLDS_AT = 900  # below the 998 where the registry would fold, with room for the name
_ADDRESS_HEADERS = {"from", "to", "reply-to", "cc", "bcc", "sender"}
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))


@dataclass(frozen=True)
class Composed:
    """A message ready for the outbox: its bytes and what the outbox row records of it."""

    raw: bytes
    message_id: str
    recipient: str
    subject: str


def compose(headers: list[tuple[str, str | Address]], *, text: str, html: str, after: list[tuple[str, str]] = ()
            ) -> Composed:
    """``headers`` (To and Message-ID among them), then the MIME headers, then ``after``; the
    text and HTML parts. An address beyond ASCII in To makes the message SMTPUTF8 (RFC 6531):
    its headers cannot encode it any other way."""
    values = {name.lower(): value for name, value in headers}
    to = values["to"]
    recipient = to if _ADDR_SPEC.match(to) else WIRE_POLICY.header_factory("To", to).addresses[0].addr_spec
    policy = WIRE_POLICY if recipient.isascii() else UTF8_POLICY
    subject = values.get("subject", "")
    lines = [_header(name, value, policy) for name, value in headers]
    parts = [_part("plain", text, mime_version=False), _part("html", html, mime_version=True)]
    boundary = _boundary(parts)
    lines.append(b"MIME-Version: 1.0\r\n")
    lines.append(b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n')
    lines += [_header(name, value, policy) for name, value in after]
    delimiter = b"--" + boundary
    body = delimiter + b"\r\n" + (b"\r\n" + delimiter + b"\r\n").join(parts) + b"\r\n" + delimiter + b"--\r\n"
    return Composed(raw=b"".join(lines) + b"\r\n" + body, message_id=values["message-id"], recipient=recipient,
                    subject=subject if _fast("subject", subject) else str(policy.header_factory("Subject", subject)))


def address(display_name: str, addr_spec: str) -> str | Address:
    """``Name <addr>``, as a header value."""
    if _DISPLAY_NAME.match(display_name) and _ADDR_SPEC.match(addr_spec):
        return f"{display_name} <{addr_spec}>"
    return Address(display_name, addr_spec=addr_spec)


def _fast(name: str, value: str | Address) -> bool:
    """Whether the registry would give ``value`` back as it is."""
    if not isinstance(value, str) or len(value) + len(name) > _FOLDS_AT:
        return False
    if name.lower() in _ADDRESS_HEADERS:
        return bool(_ADDR_SPEC.match(value)) or _named(value)
    return bool(_PLAIN.match(value)) and "=?" not in value


def _named(value: str) -> bool:
    """``Name <addr>`` as ``address`` writes it."""
    name, _, rest = value.partition(" <")
    return rest.endswith(">") and bool(_DISPLAY_NAME.match(name)) and bool(_ADDR_SPEC.match(rest[:-1]))


def _header(name: str, value: str | Address, policy: EmailPolicy) -> bytes:
    if _fast(name, value):
        return f"{name}: {value}\r\n".encode("ascii")
    # The registry's own path, which also refuses a value with a line break.
    return policy.fold_binary(*policy.header_store_parse(name, value))


def _part(subtype: str, content: str, *, mime_version: bool) -> bytes:
    """One text part, its lines quoted-printable, as ``set_content`` and ``add_alternative``
    make it (the second part gets a MIME-Version of its own there too)."""
    lines = content.encode("utf-8").splitlines()
    encoded = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _BODY_LINE)
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
            + ("MIME-Version: 1.0\r\n" if mime_version else ""))
    body = "\r\n".join(encoded.split("\n"))
    return (head + "\r\n" + body).encode("ascii")


def _boundary(parts: list[bytes]) -> bytes:
    """A boundary in the email package's form that none of the parts contains."""
    while True:
        boundary = ("=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "==").encode("ascii")
        if not any(boundary in part for part in parts):
            return boundary
