"""Signed reply tokens: ``referrals+<token>@example.com`` names a referral and its profile.

A token is the referral id and an HMAC of the referral and profile with the bot's secret.
It is lower case on purpose: mail servers may fold the case of a local part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

SIGNATURE_CHARS = 16
_TOKEN = re.compile(r"(r-[0-9a-z]{5})-([a-z2-7]{%d})" % SIGNATURE_CHARS)


def sign(secret: bytes, referral_id: str, profile_key: str) -> str:
    digest = hmac.new(secret, f"{referral_id.upper()}\n{profile_key}".encode(), hashlib.sha256).digest()
    signature = base64.b32encode(digest).decode().lower()[:SIGNATURE_CHARS]
    return f"{referral_id.lower()}-{signature}"


def parse(token: str) -> tuple[str, str] | None:
    """The referral id and signature in ``token``, or None when it is not shaped like one."""
    match = _TOKEN.fullmatch(token.strip().lower())
    return (match.group(1).upper(), match.group(2)) if match else None


def verify(secret: bytes, token: str, profile_key: str) -> bool:
    parsed = parse(token)
    return bool(parsed) and hmac.compare_digest(sign(secret, parsed[0], profile_key), token.strip().lower())


def reply_address(template: str, token: str) -> str:
    return template.replace("{token}", token)


def find_in_address(template: str, address: str) -> str | None:
    """The token in an address built from the ``reply_address`` template, if any."""
    before, _, after = template.lower().partition("{token}")
    pattern = re.escape(before) + r"([^@\s]+)" + re.escape(after)
    match = re.fullmatch(pattern, address.strip().lower())
    return match.group(1) if match else None


def find_in_text(template: str, text: str) -> list[str]:
    """Every token in addresses built from the ``reply_address`` template within ``text``
    (the returned headers of a bounce, say)."""
    before, _, after = template.lower().partition("{token}")
    return re.findall(re.escape(before) + r"(r-[0-9a-z]{5}-[a-z2-7]{%d})" % SIGNATURE_CHARS + re.escape(after),
                      text.lower())


def load_secret(*, env_value: str | None, data_dir: Path) -> bytes:
    """The secret from the environment, else the one generated once into the data dir."""
    if env_value:
        return env_value.encode()
    path = data_dir / "secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32).encode()
    # O_EXCL: if two processes start at once, one writes and the other reads the winner.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with open(fd, "wb") as handle:
        handle.write(value + b"\n")
    return value

