"""Folder names as the IMAP server knows them.

The config names folders relative to the account's personal namespace (IMAP NAMESPACE,
RFC 2342): ``Processed`` is ``Processed`` on a server that keeps folders at the top level, and
``INBOX.Processed`` on one that keeps them under ``INBOX.`` (Cyrus, Courier, Dovecot set up
that way), where creating a bare ``Processed`` is refused. ``INBOX`` itself, and a name that
already starts with the namespace's prefix, are used as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import imapclient

KEYS = ("folder", "processed_folder", "failed_folder")  # under [inbound]; the first is read, the others written


class FolderError(Exception):
    """A configured folder is missing on the server or cannot be created there."""


@dataclass(frozen=True)
class Namespace:
    prefix: str  # "" or, say, "INBOX."
    separator: str  # the hierarchy separator, "/" or "."

    def describe(self) -> str:
        return f"personal namespace {self.prefix!r} (separator {self.separator!r})"


def personal_namespace(client: imapclient.IMAPClient) -> Namespace:
    """The account's first personal namespace; the top level when the server does not say."""
    if client.has_capability("NAMESPACE"):
        personal = client.namespace().personal
        if personal:
            prefix, separator = personal[0]
            return Namespace(_text(prefix), _text(separator) or "/")
    return Namespace("", "/")


def server_name(name: str, namespace: Namespace) -> str:
    """The configured folder ``name`` as the server knows it."""
    if name.upper() == "INBOX" or not namespace.prefix or name.startswith(namespace.prefix):
        return name
    return namespace.prefix + name


@dataclass(frozen=True)
class Folders:
    """The three folders refbot uses, by their names on the server."""

    namespace: Namespace
    folder: str
    processed_folder: str
    failed_folder: str


def resolve(client: imapclient.IMAPClient, settings) -> Folders:
    namespace = personal_namespace(client)
    return Folders(namespace, *(server_name(getattr(settings, key), namespace) for key in KEYS))


def ensure(client: imapclient.IMAPClient, settings, folders: Folders) -> None:
    """Create the processed and failed folders when missing; FolderError says what to change
    when one cannot be created or the inbound folder does not exist."""
    for key in KEYS[1:]:
        name = getattr(folders, key)
        if client.folder_exists(name):
            continue
        try:
            client.create_folder(name)
        except imapclient.exceptions.IMAPClientError as exc:
            what = f"cannot be created: the server said {said(exc)}"
            raise FolderError(problem(client, settings, folders, key, what)) from None
    if not client.folder_exists(folders.folder):
        raise FolderError(problem(client, settings, folders, "folder", "does not exist"))


def problem(client: imapclient.IMAPClient, settings, folders: Folders, key: str, what: str) -> str:
    """One line naming the config key, the name on the server, the namespace and the folders
    the server has, so an admin can pick a name that works."""
    configured, name = getattr(settings, key), getattr(folders, key)
    on_server = f"{configured!r}" if configured == name else f"{configured!r} (on the server {name!r})"
    return (f"inbound.{key}: {on_server} {what}; {folders.namespace.describe()}; "
            f"the server has: {', '.join(existing(client)) or 'no folders'}")


def existing(client: imapclient.IMAPClient) -> list[str]:
    try:
        return sorted(_text(name) for _flags, _separator, name in client.list_folders())
    except imapclient.exceptions.IMAPClientError:
        return []


def said(exc: Exception) -> str:
    text = str(exc).removeprefix("create failed: ")
    return repr(re.sub(r"\s*\([0-9.+ ]+secs?\)\.?$", "", text.strip()))  # Dovecot's timing


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
