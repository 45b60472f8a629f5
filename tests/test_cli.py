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
    assert not (refbot.config.parent / "var" / "refbot.db").exists()  # refused before anything was made
    assert smtp_server.catcher.received == []


def test_a_customer_locale_refbot_does_not_speak(refbot):
    data = {**RFI, "customer": {**RFI["customer"], "locale": "es"}}
    assert_one_line_error(submit_text(refbot, json.dumps(data)), "customer.locale", "'de', 'en' or 'fr'")
    assert not (refbot.config.parent / "var" / "refbot.db").exists()  # refused before anything was made


def test_unknown_partner_and_unknown_region(refbot):
    assert_one_line_error(submit_text(refbot, json.dumps({**RFI, "partners": ["nobody"]})), "nobody: unknown partner")
    assert_one_line_error(submit_text(refbot, json.dumps({**RFI, "region": "US", "partners": []})), "region US")
    assert refbot.json("referrals", "list") == []


def test_partly_routed_rfi_reports_the_rest(refbot):
    result = refbot.submit(partners=["contoso", "nobody"])
    assert len(result["referrals"]) == 1
    assert result["unrouted"] == [{"partner": "nobody", "reason": "unknown partner"}]


def test_missing_rfi_file_and_bad_arguments(refbot):
    refbot.submit()
    assert_one_line_error(refbot("rfi", "submit", "no-such-file.json"), "no-such-file.json")
    assert_one_line_error(refbot("referrals", "list", "--status", "sleeping"), "sleeping")
    assert_one_line_error(refbot("tick", "--now", "yesterday"), "ISO-8601")
    assert_one_line_error(refbot("referrals", "show", "R-NOPE1"), "no such referral")
    assert_one_line_error(refbot("frobnicate"), "frobnicate")


def test_commands_that_read_never_create_a_database(refbot):
    database = refbot.config.parent / "var" / "refbot.db"
    for args in (["referrals", "list"], ["referrals", "show", "R-7K3Q9"], ["outbox", "list"], ["outbox", "flush"],
                 ["db", "upgrade"]):
        assert_one_line_error(refbot(*args), f"database {database}: no such file", "database.url")
    assert not database.parent.exists()


def test_version(refbot):
    code, out, _ = refbot("--version")
    assert code == 0 and out.startswith("refbot 0.") and "database schema 0" in out


def test_bad_config_exits_2_with_the_key(refbot):
    refbot.config.write_text(refbot.config.read_text() + "\n[matching]\nmax_partner = 2\n")
    assert_one_line_error(refbot("config", "check"), "matching.max_partner: unknown key")


def test_config_check_lists_every_problem_then_exits_2(refbot):
    text = refbot.config.read_text().replace("\nport = ", "\nprot = ").replace("Europe/Berlin", "Mars/Olympus")
    refbot.config.write_text(text.replace('contact = "sales@fabrikam.example"', 'contact = "sales at fabrikam"'))
    code, out, err = refbot("config", "check")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[-1] == f"refbot: error: {refbot.config}: 3 problems, listed above"
    assert any("smtp.prot: unknown key (did you mean \"port\"?)" in line for line in lines)
    assert any("bot.timezone: unknown time zone" in line for line in lines)
    assert any("partners[1].profiles[0].contact: not an email address" in line for line in lines)


def test_config_check_warns_about_what_will_fail_at_run_time(refbot, monkeypatch):
    monkeypatch.delenv("REFBOT_TEST_SMTP_PASSWORD", raising=False)
    text = refbot.config.read_text().replace('security = "none"', 'security = "none"\nusername = "bot"\n'
                                             'password_env = "REFBOT_TEST_SMTP_PASSWORD"')
    text = text.replace('url = "sqlite:///var/refbot.db"', 'url = "mysql://refbot@db.example.com/refbot"')
    refbot.config.write_text(text.replace('currency = "GBP"', 'currency = "XYZ"'))
    code, out, err = refbot("config", "check")
    assert code == 0 and out.startswith(f"{refbot.config}: valid, with 4 warnings (3 partners)\n")
    warnings = err.splitlines()
    assert [w.split(":")[1].strip() for w in warnings] == [
        "smtp.password_env", "inbound.password_env", "database.url", "partners[0].profiles[1].currency"]
    assert "REFBOT_TEST_SMTP_PASSWORD is not set here: every email will fail to send" in warnings[0]
    assert "driver is not installed" in warnings[2] and "XYZ is not an ISO 4217 currency" in warnings[3]
    monkeypatch.setenv("REFBOT_TEST_SMTP_PASSWORD", "secret")
    assert "smtp.password_env" not in refbot("config", "check")[2]


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


def test_the_systemd_unit_runs_refbot_as_its_own_user_and_reloads_with_sighup():
    import configparser
    from pathlib import Path

    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str
    unit.read(Path(__file__).resolve().parents[1] / "contrib" / "refbot.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("refbot run") and service["ExecStartPre"].endswith("refbot config check")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID" and service["KillSignal"] == "SIGTERM"
    assert (service["User"], service["Restart"], service["RestartPreventExitStatus"]) == ("refbot", "on-failure", "2")
    assert service["Environment"] == "REFBOT_CONFIG=/etc/refbot/config.toml"


def test_every_command_module_is_named_in_the_lazy_map():
    """The command line imports a command's module only when it is run: a command that is not
    in ``COMMANDS`` would be missing from `refbot --help` and could not be run."""
    import importlib
    import pkgutil

    import bot.cli
    from bot.cli.base import COMMANDS, cli
    for module in pkgutil.iter_modules(bot.cli.__path__):
        importlib.import_module(f"bot.cli.{module.name}")
    assert set(cli.commands) == set(COMMANDS)
    assert all(cli.commands[name].callback.__module__ == f"bot.cli.{COMMANDS[name]}" for name in COMMANDS)


def test_streamed_json_is_what_emit_prints(capsys):
    from bot.cli.base import StreamedJson, emit

    for items, rest in (([], {"sent": 0}),
                        ([{"message_id": "<a@x>", "outcome": "applied:ACCEPT", "referral": "R-1", "detail": "é\nb"},
                          {"message_id": "<b@x>", "outcome": "duplicate", "referral": None, "detail": None}],
                         {"sent": 2, "timed_out": ["R-2"], "nested": {"a": [1, {"b": []}]}})):
        emit({"processed": items, **rest}, True, None)
        whole = capsys.readouterr().out
        streamed = StreamedJson("processed")
        for item in items:
            streamed.item(item)
        streamed.end(rest)
        assert capsys.readouterr().out == whole
