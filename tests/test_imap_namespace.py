"""Folders on a server that keeps them under ``INBOX.`` (as Cyrus and Courier do): a real Dovecot
with the personal namespace ``INBOX.``, where creating a bare ``Processed`` is refused."""

from __future__ import annotations

import imapclient
import pytest

from tests.conftest import Refbot, imap_config, write_config
from tests.replies import reply


@pytest.fixture
def refbot(tmp_path, smtp_server, dotted_dovecot, capsys, monkeypatch) -> Refbot:
    monkeypatch.setenv("REFBOT_TEST_IMAP_PASSWORD", dotted_dovecot.password)
    return Refbot(write_config(tmp_path, smtp_port=smtp_server.port, extra=imap_config(dotted_dovecot)), capsys)


def test_the_server_refuses_folders_outside_its_namespace(dotted_dovecot):
    with dotted_dovecot.client() as client, pytest.raises(imapclient.exceptions.IMAPClientError,
                                                          match="nonexistent namespace"):
        client.create_folder("Processed")


def test_default_folder_names_work_under_an_inbox_prefix(refbot, smtp_server, dotted_dovecot):
    referral = refbot.submit()["referrals"][0]["id"]
    offer = smtp_server.catcher.wait_for(1)[-1].message
    dotted_dovecot.append("INBOX", reply(offer, "INTERESTED"))
    dotted_dovecot.append("INBOX", b"From: someone@example.net\r\nTo: referrals@example.com\r\nSubject: hello\r\n"
                                   b"Message-ID: <x1@example.net>\r\n\r\nHello?\r\n")
    done = refbot.json("inbox", "poll")["processed"]
    assert [d["outcome"] for d in done] == ["applied:INTERESTED", "uncorrelated"]
    assert refbot.json("referrals", "show", referral)["status"] == "evaluating"
    assert dotted_dovecot.messages("INBOX") == []
    assert len(dotted_dovecot.messages("INBOX.Processed")) == 1
    assert len(dotted_dovecot.messages("INBOX.Needs-Attention")) == 1


def test_names_with_the_prefix_are_used_as_written(refbot, dotted_dovecot):
    text = refbot.config.read_text().replace("poll_seconds = 1", 'poll_seconds = 1\nprocessed_folder = "INBOX.Done"')
    refbot.config.write_text(text)
    dotted_dovecot.append("INBOX", b"From: a@example.net\r\nSubject: x\r\nMessage-ID: <a1@example.net>\r\n\r\nx\r\n")
    assert refbot("inbox", "poll")[0] == 0
    with dotted_dovecot.client() as client:
        names = {name for _flags, _sep, name in client.list_folders()}
    assert "INBOX.Done" in names and "INBOX.INBOX.Done" not in names


def test_a_folder_that_cannot_be_created_names_the_key_and_what_the_server_has(refbot, dotted_dovecot):
    dotted_dovecot.append("INBOX.Archive", b"Subject: kept\r\n\r\nx\r\n")
    text = refbot.config.read_text().replace("poll_seconds = 1", 'poll_seconds = 1\nfailed_folder = "Archive/Held"')
    refbot.config.write_text(text)
    code, _out, err = refbot("inbox", "poll")
    assert code == 1 and "Traceback" not in err
    assert "inbound.failed_folder: 'Archive/Held' (on the server 'INBOX.Archive/Held') cannot be created" in err
    assert "Name must not have '/' characters" in err  # the server's own reason
    assert "separator '.'" in err and "INBOX.Archive" in err


def test_a_missing_inbound_folder_names_the_key(refbot, dotted_dovecot):
    text = refbot.config.read_text().replace("poll_seconds = 1", 'poll_seconds = 1\nfolder = "Replies"')
    refbot.config.write_text(text)
    code, _out, err = refbot("inbox", "poll")
    assert code == 1
    assert "inbound.folder: 'Replies' (on the server 'INBOX.Replies') does not exist" in err
    assert "personal namespace 'INBOX.'" in err
