"""Logs carry ids, outcomes and codes, never a customer's contact data: a real `refbot run`,
a real Dovecot, and an SMTP server whose refusal names the customer."""

from __future__ import annotations

from tests.conftest import RFI, imap_config, write_config
from tests.replies import reply
from tests.test_daemon import Daemon, submit

CUSTOMER = RFI["customer"]


def test_a_refused_customer_notice_and_the_replies_leave_no_contact_data_in_the_log(tmp_path, smtp_server, dovecot):
    import os

    env = {**os.environ, "REFBOT_LOG_LEVEL": "DEBUG", "REFBOT_TEST_IMAP_PASSWORD": dovecot.password}
    no_undo_window = "\n[timeouts]\nundo_minutes = 0\n"  # the customer's notice goes out at once
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dovecot) + no_undo_window)
    smtp_server.catcher.refuse_recipients[CUSTOMER["email"]] = (
        f"550 5.1.1 <{CUSTOMER['email']}>: Recipient address rejected: {CUSTOMER['name']} unknown")
    submit(config, env)
    original = smtp_server.catcher.wait_for(1)[0].message
    daemon = Daemon(config, env)
    try:
        daemon.wait_for_event("imap connected")
        dovecot.append("INBOX", reply(original, f"Please call {CUSTOMER['phone']} first, thanks"))
        daemon.wait_for_event("inbound message")
        dovecot.append("INBOX", reply(original, "NEIN DANKE"))
        daemon.wait_for_event("outbox send failed", timeout=15)
    finally:
        assert daemon.stop() == 0
    log = daemon.log.read_text()
    assert "550" in log  # the failure is there, with its code
    for private in (CUSTOMER["email"], CUSTOMER["phone"], CUSTOMER["name"], "Mustermann"):
        assert private not in log
