"""`refbot backup FILE` (SPEC §7): a consistent copy of a SQLite database while the bot runs;
for PostgreSQL it says to use pg_dump."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from tests.conftest import write_config
from tests.mailcatcher import free_port


def test_a_copy_taken_while_refbot_runs_and_writes_holds_what_was_committed(refbot, tmp_path):
    for number in range(3):
        refbot.submit(rfi_id=f"RFI-{number}")
    port = free_port()
    config = refbot.config
    config.write_text(config.read_text() + f'\n[inbound]\ntransport = "smtp"\nlisten_port = {port}\n')
    daemon = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "REFBOT_LOG_LEVEL": "INFO"})
    writer = sqlite3.connect(config.parent / "var" / "refbot.db", isolation_level=None)
    try:
        _wait_until_running(daemon)
        writer.execute("BEGIN IMMEDIATE")  # another worker in the middle of a change
        writer.execute("UPDATE referral SET status = 'won'")
        code, out, err = refbot("backup", str(tmp_path / "copies" / "refbot-copy.db"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=15)
    assert daemon.returncode == 0
    assert code == 0, err
    assert "(3 referrals)" in out
    copy = tmp_path / "copies" / "refbot-copy.db"
    assert copy.stat().st_mode & 0o777 == 0o600  # it holds customer data
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT DISTINCT status FROM referral").fetchall() == [("new",)]
    (tmp_path / "restored").mkdir()
    restored = write_config(tmp_path / "restored", smtp_port=1, database=f"sqlite:///{copy}")
    listed = subprocess.run([sys.executable, "-m", "bot", "--config", str(restored), "referrals", "list", "--json"],
                            capture_output=True, text=True)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 3


def _wait_until_running(daemon: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    for line in daemon.stderr:
        if '"refbot running"' in line:
            return
        assert time.monotonic() < deadline, "the daemon did not start"
    raise AssertionError("the daemon stopped before it ran")


def test_backup_never_overwrites_a_file(refbot):
    refbot.submit()
    target = refbot.config.parent / "taken.db"
    target.write_text("something else")
    code, _, err = refbot("backup", str(target))
    assert code == 2 and "exists already" in err and target.read_text() == "something else"


def test_backup_of_postgresql_points_to_pg_dump(tmp_path, capsys, postgres_url):
    from tests.conftest import Refbot

    refbot = Refbot(write_config(tmp_path, smtp_port=1, database=postgres_url), capsys)
    code, _, err = refbot("backup", str(tmp_path / "copy.db"))
    assert code == 2 and "pg_dump" in err and not (tmp_path / "copy.db").exists()
