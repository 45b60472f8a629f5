"""The command line as an admin uses it: exit codes, one-line reasons, JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import RFI


def submit_text(refbot, text: str):
    path = refbot.config.parent / "rfi.json"
    path.write_text(text, encoding="utf-8")
    return refbot("rfi", "submit", str(path))


def assert_one_line_error(result, *fragments):
    code, out, err = result
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_rfi_that_is_not_json(refbot):
    assert_one_line_error(submit_text(refbot, "{not json"), "not valid JSON")


def test_rfi_missing_a_field(refbot):
    data = {k: v for k, v in RFI.items() if k != "region"}
    assert_one_line_error(submit_text(refbot, json.dumps(data)), "region: required key is missing")


def test_customer_name_with_a_line_break(refbot, smtp_server):
    data = {**RFI, "customer": {**RFI["customer"], "name": "Erika\r\nBcc: all@example.org"}}
    assert_one_line_error(submit_text(refbot, json.dumps(data)), "customer.name", "line break")
    assert refbot.json("referrals", "list") == []
    assert smtp_server.catcher.received == []


def test_a_customer_locale_refbot_does_not_speak(refbot):
    data = {**RFI, "customer": {**RFI["customer"], "locale": "es"}}
    assert_one_line_error(submit_text(refbot, json.dumps(data)), "customer.locale", "'de', 'en' or 'fr'")
    assert refbot.json("referrals", "list") == []


def test_unknown_partner_and_unknown_region(refbot):
    assert_one_line_error(submit_text(refbot, json.dumps({**RFI, "partners": ["nobody"]})), "nobody: unknown partner")
    assert_one_line_error(submit_text(refbot, json.dumps({**RFI, "region": "US", "partners": []})), "region US")
    assert refbot.json("referrals", "list") == []


def test_partly_routed_rfi_reports_the_rest(refbot):
    result = refbot.submit(partners=["contoso", "nobody"])
    assert len(result["referrals"]) == 1
    assert result["unrouted"] == [{"partner": "nobody", "reason": "unknown partner"}]


def test_missing_rfi_file_and_bad_arguments(refbot):
    assert_one_line_error(refbot("rfi", "submit", "no-such-file.json"), "no-such-file.json")
    assert_one_line_error(refbot("referrals", "list", "--status", "sleeping"), "sleeping")
    assert_one_line_error(refbot("tick", "--now", "yesterday"), "ISO-8601")
    assert_one_line_error(refbot("referrals", "show", "R-NOPE1"), "no such referral")
    assert_one_line_error(refbot("frobnicate"), "frobnicate")


def test_bad_config_exits_2_with_the_key(refbot):
    refbot.config.write_text(refbot.config.read_text() + "\n[matching]\nmax_partner = 2\n")
    assert_one_line_error(refbot("config", "check"), "matching.max_partner: unknown key")


def test_config_check_prints_the_routing_table(refbot):
    code, out, err = refbot("config", "check")
    assert code == 0, err
    assert "leads-de@contoso.example" in out and "Berlin, Munich" in out and "every location" in out


def test_list_filters_and_json_shape(refbot, smtp_server):
    first = refbot.submit()["referrals"][0]["id"]
    refbot.submit(rfi_id="RFI-UK", region="UK", location="Leeds")
    refbot("referrals", "apply", first, "NO THANKS", "--as", "leads-de@contoso.example")
    everything = refbot.json("referrals", "list")
    assert {"id", "rfi_id", "partner", "region", "location", "contact", "status", "archived", "deal_value",
            "currency", "closing_date", "created_at", "deadline_at", "customer"} <= set(everything[0])
    assert "events" not in everything[0]
    assert [r["region"] for r in refbot.json("referrals", "list", "--active")] == ["UK"]
    assert [r["id"] for r in refbot.json("referrals", "list", "--archived")] == [first]
    assert [r["id"] for r in refbot.json("referrals", "list", "--status", "skipped", "--status", "won")] == [first]
    assert len(refbot.json("referrals", "list", "--region", "uk", "--partner", "contoso")) == 1
    shown = refbot.json("referrals", "show", first)
    assert shown["created_at"].endswith("Z") and shown["deadline_at"] is None
    assert {"at", "from", "to", "actor", "message_id"} <= set(shown["events"][0])


def test_human_output_shows_local_time(refbot, smtp_server):
    referral = refbot.submit()["referrals"][0]["id"]
    code, out, _ = refbot("referrals", "show", referral)
    assert code == 0 and "CET" in out and "Erika Mustermann" in out


def test_init_writes_a_working_starter(tmp_path):
    env = {**os.environ, "REFBOT_CONFIG": ""}
    run = subprocess.run([sys.executable, "-m", "bot", "init", str(tmp_path / "site")],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    config = tmp_path / "site" / "config.toml"
    assert (tmp_path / "site" / "var" / "refbot.db").exists()
    check = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "config", "check"],
                           capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stderr
    again = subprocess.run([sys.executable, "-m", "bot", "init", str(tmp_path / "site")], capture_output=True, text=True)
    assert again.returncode == 2 and "exists already" in again.stderr
    for args in (["inbox", "poll", "--json"], ["run", "--once", "--json"]):
        one_pass = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), *args],
                                  capture_output=True, text=True, env=env)
        assert one_pass.returncode == 0, one_pass.stderr
        assert json.loads(one_pass.stdout)["processed"] == []


def test_generated_secret_is_private(refbot, smtp_server):
    refbot.submit()
    secret = refbot.config.parent / "secret"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_database_problems_are_one_line(tmp_path):
    config = tmp_path / "config.toml"
    for url, status, words in (("nonsense", 2, "database.url"),
                               ("postgresql+psycopg://postgres:pw@127.0.0.1:1/none", 1, "Connection refused")):
        config.write_text(f'[database]\nurl = "{url}"\n')
        run = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "referrals", "list"],
                             capture_output=True, text=True)
        assert run.returncode == status and words in run.stderr
        assert run.stderr.count("\n") == 1 and ":pw@" not in run.stderr
