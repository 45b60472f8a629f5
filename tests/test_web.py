"""The dashboard over plain HTTP (SPEC §8): `/healthz` (also 503 with the database down),
`/metrics` in the Prometheus text format, basic auth, read-only pages, and `refbot run`
serving it when `[web] enabled = true`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_ADMIN_URL, Refbot, write_config
from tests.mailcatcher import free_port
from tests.website import Site, get

PAGES = ("/", "/referrals", "/referrals?state=won&partner=contoso&region=de", "/partners", "/inbox", "/outbox",
         "/outbox?status=failed")


def test_healthz_and_metrics_report_the_program(seeded):
    site = Site(seeded.refbot.config).wait()
    try:
        health = get(site.url + "/healthz")
        assert (health.status, health.json()) == (200, {"status": "ok", "database": "ok"})
        metrics = get(site.url + "/metrics")
    finally:
        assert site.stop() == 0
    assert metrics.status == 200 and metrics.headers["content-type"].startswith("text/plain; version=")
    lines = metrics.body.splitlines()
    for state, count in (("new", 2), ("evaluating", 1), ("won", 7), ("lost", 6), ("missed", 8)):
        assert f'refbot_referrals{{state="{state}"}} {count}.0' in lines
    assert 'refbot_inbound_messages_total{outcome="uncorrelated"} 1.0' in lines
    queued = sum(1 for m in seeded.refbot.json("outbox", "list") if m["status"] == "queued")
    assert f"refbot_outbox_queued {queued}.0" in lines and queued > 0
    assert 'refbot_outbox_messages{status="failed"} 1.0' in lines and "refbot_inbound_held 1.0" in lines
    assert "# TYPE refbot_inbound_messages_total counter" in lines


def test_every_page_reads_and_nothing_changes(seeded):
    refbot = seeded.refbot
    before = refbot.json("stats"), refbot.json("outbox", "list")
    site = Site(refbot.config).wait()
    try:
        referral = seeded.made.referrals[0]
        for path in (*PAGES, f"/referrals/{referral}", f"/referrals/{referral.lower()}"):
            page = get(site.url + path)
            assert page.status == 200, (path, page.body)
            assert page.headers["content-security-policy"].startswith("default-src 'none'")
            assert "<script" not in page.body and "https://" not in page.body and "http://" not in page.body
        assert get(site.url + "/referrals/R-NONE0").status == 404
        assert get(site.url + "/referrals?state=sleeping").status == 400
        assert get(site.url + "/referrals", method="POST").status == 405
        assert get(site.url + "/healthz", method="DELETE").status == 405
    finally:
        site.stop()
    assert (refbot.json("stats"), refbot.json("outbox", "list")) == before


def test_basic_auth_guards_every_page_but_healthz(tmp_path, capsys):
    refbot = Refbot(write_config(tmp_path, smtp_port=1, extra='[web]\npassword_env = "REFBOT_TEST_WEB_PASSWORD"\n'),
                    capsys)
    refbot.submit()
    site = Site(refbot.config, env={"REFBOT_TEST_WEB_PASSWORD": "correct horse"}).wait()
    try:
        for path in ("/", "/metrics", "/referrals", "/partners"):
            refused = get(site.url + path)
            assert refused.status == 401 and refused.headers["www-authenticate"] == 'Basic realm="refbot"'
            assert get(site.url + path, user="admin", password="wrong").status == 401
            assert get(site.url + path, user="anna", password="correct horse").status == 401
            assert get(site.url + path, user="admin", password="correct horse").status == 200
        assert get(site.url + "/healthz").json() == {"status": "ok", "database": "ok"}
    finally:
        site.stop()


def test_the_dashboard_does_not_start_without_its_password(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("REFBOT_TEST_WEB_PASSWORD", raising=False)
    refbot = Refbot(write_config(tmp_path, smtp_port=1, extra='[web]\npassword_env = "REFBOT_TEST_WEB_PASSWORD"\n'),
                    capsys)
    refbot.submit()
    code, _, err = refbot("web", "--port", "0")
    assert code == 2 and "REFBOT_TEST_WEB_PASSWORD is not set" in err


def test_healthz_says_503_when_the_database_is_down(tmp_path, capsys, postgres_url):
    refbot = Refbot(write_config(tmp_path, smtp_port=1, database=postgres_url), capsys)
    refbot.submit()
    site = Site(refbot.config).wait()
    try:
        assert get(site.url + "/healthz").status == 200
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {postgres_url.rsplit('/', 1)[1]} WITH (FORCE)"))
        admin.dispose()
        down = get(site.url + "/healthz")
        assert (down.status, down.json()) == (503, {"status": "error", "database": "unavailable"})
        assert get(site.url + "/").status == 503 and get(site.url + "/metrics").status == 503
    finally:
        site.stop()


def test_refbot_run_serves_the_dashboard_when_enabled(refbot):
    refbot.submit()
    web, inbound = free_port(), free_port()
    refbot.config.write_text(refbot.config.read_text() + f'\n[inbound]\ntransport = "smtp"\nlisten_port = {inbound}\n'
                             f"\n[web]\nenabled = true\nlisten_port = {web}\n")
    log = refbot.config.parent / "run.log"
    with log.open("w") as stderr:
        daemon = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(refbot.config), "run"],
                                  stdout=subprocess.DEVNULL, stderr=stderr, env=dict(os.environ))
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    health = get(f"http://127.0.0.1:{web}/healthz")
                    break
                except OSError:
                    assert time.monotonic() < deadline and daemon.poll() is None, log.read_text()
                    time.sleep(0.1)
            assert health.json() == {"status": "ok", "database": "ok"}
            assert "1 in all" in get(f"http://127.0.0.1:{web}/").body
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=15) == 0, log.read_text()
