"""A real IMAP server for tests: a throwaway Dovecot 2.3 on 127.0.0.1, living in one folder.

    server = DovecotServer(tmp_path / "imap").start()
    try:
        server.append("INBOX", raw_bytes)
        with server.client() as imap:         # a logged-in imapclient.IMAPClient
            imap.select_folder("INBOX")
    finally:
        server.stop()

Everything Dovecot writes stays inside the folder: ``dovecot.conf``, ``users`` (passwd-file),
``run/`` (base_dir), ``state/`` (state_dir), ``dovecot.log`` and ``mail/Maildir``. The server
runs in the foreground (``dovecot -F -c FILE``) as a child process in its own process group, so
stopping it is terminating that group; ``stop()`` waits until no process of it is left.

Running as root (developers and CI): the mail user has the ``dovecot`` system user's uid/gid,
because Dovecot refuses uid 0 for mail access. pytest's temporary folders are ``0700`` and owned
by root, so that uid cannot reach a maildir inside them; the mail process is therefore chrooted
to ``mail/`` (Dovecot chroots as root, then drops privileges), and the auth process, which reads
``users``, runs as root. Running as another user, Dovecot runs rootless as that user.

Only Dovecot 2.3 is supported (Debian 12 installs 2.3.19): 2.4 changed the configuration syntax.
If ``dovecot`` is not installed, ``start()`` raises RuntimeError: tests fail, they never skip.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import imapclient

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
# Unix socket paths are limited to 107 bytes; Dovecot's longest name below base_dir is about
# "token-login/imap-urlauth-login" (30 bytes). A longer base_dir is moved to a short temp dir.
SOCKET_NAME_RESERVE = 40
SOCKET_PATH_MAX = 107


def find_dovecot() -> str:
    """The path of the ``dovecot`` binary, or RuntimeError saying what to install."""
    path = shutil.which("dovecot")
    if path is None:
        for folder in SBIN_DIRS:
            candidate = os.path.join(folder, "dovecot")
            if os.access(candidate, os.X_OK):
                path = candidate
                break
    if path is None:
        raise RuntimeError(
            "the 'dovecot' binary is not installed: the IMAP tests need a real Dovecot. "
            "Install it with: apt-get install -y dovecot-imapd")
    return path


def dovecot_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False)
    match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", out.stdout)
    if not match:
        raise RuntimeError(f"cannot read the Dovecot version from {binary} --version: "
                           f"{out.stdout.strip()!r} {out.stderr.strip()!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class DovecotServer:
    """A Dovecot IMAP server for one mail user, in ``folder``: plaintext IMAP on ``port``, and
    with ``tls=(cert_file, key_file)`` also STARTTLS there and implicit TLS on ``tls_port``;
    ``namespace=("INBOX.", ".")`` keeps the user's folders under ``INBOX.``."""

    def __init__(self, folder: str | os.PathLike, *, user: str = "referrals@example.com",
                 password: str = "imap-test-password", host: str = "127.0.0.1",
                 port: int | None = None, start_timeout: float = 10.0,
                 tls: tuple[str, str] | None = None, namespace: tuple[str, str] = ("", "/")) -> None:
        self.folder = Path(folder).resolve()
        self.host = host
        self.port = port or 0
        self.tls = tls
        self.tls_port = free_port(host) if tls else 0
        # The personal namespace (prefix, separator): ("INBOX.", ".") keeps every folder under
        # INBOX., as Cyrus and Courier do, and refuses to create one outside it.
        self.namespace = namespace
        self.user = user
        self.password = password
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.version: tuple[int, int, int] | None = None
        self._short_base_dir: str | None = None

    # -- paths ------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.folder / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.folder / "dovecot.log"

    @property
    def stderr_path(self) -> Path:
        return self.folder / "dovecot.stderr"

    @property
    def mail_root(self) -> Path:
        """The mail user's home; the Maildir is ``mail_root / "Maildir"``."""
        return self.folder / "mail"

    @property
    def maildir(self) -> Path:
        return self.mail_root / "Maildir"

    @property
    def base_dir(self) -> Path:
        return self.folder / "run"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> "DovecotServer":
        if self.process is not None:
            raise RuntimeError("DovecotServer is already running")
        binary = find_dovecot()
        self.version = dovecot_version(binary)
        if self.version[:2] != (2, 3):
            raise RuntimeError(
                f"Dovecot {'.'.join(map(str, self.version))} is installed, but tests/dovecot_server.py "
                "writes Dovecot 2.3 configuration (2.4 changed the syntax: auth_allow_cleartext, "
                "mail_driver/mail_path, passdb/userdb names ...). Install Debian's dovecot-imapd 2.3 "
                "or port the configuration.")
        self._prepare_folder()
        chosen = bool(self.port)
        try:
            for attempt in range(3):
                if not chosen:
                    self.port = free_port(self.host)
                try:
                    self._launch(binary)
                    return self
                except _PortInUse as error:
                    if chosen or attempt == 2:
                        raise RuntimeError(str(error)) from None
                    # lost a race for the free port: take another
            raise AssertionError("unreachable")
        except BaseException:
            self.stop()
            self._remove_short_base_dir()
            raise

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                # SIGTERM to the whole group: every Dovecot process stops at once (the master
                # alone would take a second to stop its children).
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        finally:
            self._kill_group(process.pid)
            self._remove_short_base_dir()

    def _remove_short_base_dir(self) -> None:
        if self._short_base_dir:
            shutil.rmtree(self._short_base_dir, ignore_errors=True)
            if self.base_dir.is_symlink():
                self.base_dir.unlink()
            self._short_base_dir = None

    def restart(self) -> "DovecotServer":
        """Stops and starts again on the same port, keeping the mail."""
        self.stop()
        return self.start()

    def __enter__(self) -> "DovecotServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """Live processes of this server (its process group), for checking that stop() ended all."""
        if self.process is None:
            return []
        return _group_members(self.process.pid)

    # -- mail helpers -----------------------------------------------------------------------

    def client(self, *, timeout: float = 10.0) -> imapclient.IMAPClient:
        """A new logged-in client; the caller logs out (it is also a context manager)."""
        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        try:
            client.login(self.user, self.password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, folder: str, raw: bytes, *, flags: tuple = (), create: bool = True) -> int | None:
        """Appends ``raw`` to ``folder`` (created if missing); the new message's UID."""
        with self.client() as client:
            if create and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags)
        match = re.search(rb"APPENDUID \d+ (\d+)", response or b"")
        return int(match.group(1)) if match else None

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw bytes of every message in ``folder``, in UID order (does not set \\Seen)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
        return [data[uid][b"BODY[]"] for uid in sorted(data)]

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.stderr_path, self.log_path):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                continue
            if text.strip():
                parts.append(f"--- {path.name} ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts) or "(Dovecot wrote no log)"

    # -- internals --------------------------------------------------------------------------

    def _prepare_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        as_root = os.geteuid() == 0
        if as_root:
            try:
                account = pwd.getpwnam("dovecot")
            except KeyError:
                raise RuntimeError("the 'dovecot' system user is missing: reinstall dovecot-core") from None
            uid, gid = account.pw_uid, account.pw_gid
        else:
            uid, gid = os.geteuid(), os.getegid()
        self.mail_uid, self.mail_gid = uid, gid

        state_dir = self.folder / "state"
        state_dir.mkdir(exist_ok=True)
        base_dir = str(self.base_dir)
        if len(base_dir) + SOCKET_NAME_RESERVE > SOCKET_PATH_MAX:
            # Socket paths would be too long: keep the sockets in a short private dir instead,
            # linked from the folder, and removed by stop().
            self._short_base_dir = tempfile.mkdtemp(prefix="dovecot-")
            if self.base_dir.is_symlink() or self.base_dir.exists():
                if self.base_dir.is_symlink() or self.base_dir.is_file():
                    self.base_dir.unlink()
                else:
                    shutil.rmtree(self.base_dir)
            self.base_dir.symlink_to(self._short_base_dir)
            base_dir = self._short_base_dir
        else:
            self.base_dir.mkdir(exist_ok=True)

        # The maildir lives under mail/, owned by the mail uid. As root the mail process is
        # chrooted there (home "mail/./" = chroot mail/, home / inside); tmp/ is its mail_temp_dir.
        for path in (self.mail_root, self.mail_root / "tmp"):
            path.mkdir(exist_ok=True)
        if as_root:
            for root, dirs, files in os.walk(self.mail_root):
                os.chown(root, uid, gid)
                for name in files:
                    os.chown(os.path.join(root, name), uid, gid)
            os.chmod(self.mail_root, 0o750)
            home = f"{self.mail_root}/./"
            temp_dir = "/tmp"  # inside the chroot: mail/tmp
        else:
            home = str(self.mail_root)
            temp_dir = str(self.mail_root / "tmp")

        users = self.folder / "users"
        if ":" in self.user or ":" in self.password or "\n" in self.user + self.password:
            raise ValueError("user and password must not contain ':' or newlines")
        users.write_text(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{home}::\n", encoding="utf-8")
        os.chmod(users, 0o600)
        self._config_params = dict(base_dir=base_dir, state_dir=str(state_dir), users=str(users),
                                   uid=uid, temp_dir=temp_dir, as_root=as_root)

    def _render_config(self, *, base_dir: str, state_dir: str, users: str, uid: int, temp_dir: str,
                       as_root: bool) -> str:
        if as_root:
            privileges = f"""
valid_chroot_dirs = {self.mail_root}
# auth reads {users} inside a 0700 folder: it must run as root
service auth {{
  user = root
}}
"""
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            privileges = f"""
# rootless: every process runs as {me}, no chroots
default_internal_user = {me}
default_internal_group = {grp.getgrgid(os.getegid()).gr_name}
default_login_user = {me}
service imap-login {{
  chroot =
}}
"""
        return f"""# written by tests/dovecot_server.py for Dovecot 2.3: a throwaway test server
protocols = imap
listen = {self.host}
base_dir = {base_dir}
state_dir = {state_dir}
instance_name = refbot-test-{self.port}
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}

{self._ssl_settings()}
disable_plaintext_auth = no
auth_mechanisms = plain login
# no delay after a failed login, and no penalty for later logins from 127.0.0.1
auth_failure_delay = 0
service anvil {{
  {"" if as_root else "chroot ="}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
first_valid_uid = {uid}
first_valid_gid = 1
{privileges}
mail_location = maildir:~/Maildir
mail_temp_dir = {temp_dir}
mail_fsync = never
namespace inbox {{
  inbox = yes
  prefix = {self.namespace[0]}
  separator = {self.namespace[1]}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}

service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
  }}
}}
"""

    def _ssl_settings(self) -> str:
        if not self.tls:
            return "ssl = no"
        cert, key = self.tls
        return f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"

    def _launch(self, binary: str) -> None:
        self.config_path.write_text(self._render_config(**self._config_params), encoding="utf-8")
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [binary, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                cwd=self.folder, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                pid, self.process = self.process.pid, None
                self._kill_group(pid)
                tail = self.log_tail()
                if "Address already in use" in tail:
                    raise _PortInUse(f"Dovecot could not listen on {self.host}:{self.port}:\n{tail}")
                raise RuntimeError(f"Dovecot exited with status {code} while starting:\n{tail}")
            if self._greets():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Dovecot did not accept IMAP connections on {self.host}:{self.port} "
                                   f"within {self.start_timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                greeting = sock.recv(512)
                sock.sendall(b"a LOGOUT\r\n")
                return greeting.startswith(b"* OK")
        except OSError:
            return False

    @staticmethod
    def _kill_group(pgid: int) -> None:
        """Ends whatever of the server is left (SIGKILL after 2 s), then waits until none is."""
        start = time.monotonic()
        killed = False
        while members := _group_members(pgid):
            elapsed = time.monotonic() - start
            if elapsed > 2 and not killed:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    return
                killed = True
            elif elapsed > 10:
                raise RuntimeError(f"Dovecot processes are left after stop: {members}")
            time.sleep(0.05)


class _PortInUse(RuntimeError):
    pass


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid``, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
        fields = stat[stat.rindex(b")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(int(entry))
    return members
