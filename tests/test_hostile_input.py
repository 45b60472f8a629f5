"""An admin's hostile or broken input gets a clear answer (exit 2, one line) and changes
nothing: RFI files nested thousands deep, blank or NUL-laden fields, a time far in the future,
and the same RFI submitted by two processes at the same moment (PostgreSQL)."""

from __future__ import annotations

import json
import threading

import pytest

from bot import config as config_module
from bot import rfi as rfi_module
from bot.app import App
from tests.conftest import NOW, RFI, Refbot, write_config


def one_line_error(result, *fragments: str) -> None:
    code, out, err = result
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, (code, err)
    for fragment in fragments:
        assert fragment in err


def submit_text(refbot, text: str):
    path = refbot.config.parent / "rfi.json"
    path.write_text(text, encoding="utf-8")
    return refbot("rfi", "submit", str(path))


@pytest.fixture
def refbot(refbot, smtp_server):
    """The command line on a database that holds one referral already."""
    refbot.submit(rfi_id="RFI-BEFORE")
    return refbot


def test_json_nested_a_hundred_thousand_deep_is_refused(refbot):
    one_line_error(submit_text(refbot, "[" * 100_000 + "]" * 100_000), "nested too deeply")
    one_line_error(submit_text(refbot, '{"a": ' * 100_000 + "1" + "}" * 100_000), "nested too deeply")
    assert len(refbot.json("referrals", "list")) == 1


@pytest.mark.parametrize("field, value, words", [
    ("need", "   \n\t ", "need"),
    ("name", "   ", "customer.name"),
    ("need", "Migrate\x00 our SQL Server", "control character"),
    ("name", "Erika\x07", "control character"),
])
def test_blank_and_control_characters_are_refused_with_the_field(refbot, field, value, words):
    data = {**RFI, "need": value} if field == "need" else {**RFI, "customer": {**RFI["customer"], "name": value}}
    code, out, err = submit_text(refbot, json.dumps(data))
    one_line_error((code, out, err), words.split(":")[0])
    assert len(refbot.json("referrals", "list")) == 1


def test_a_nul_in_the_need_on_postgresql_is_a_clear_refusal_not_a_database_error(tmp_path, smtp_server, capsys,
                                                                                  postgres_url):
    refbot = Refbot(write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url), capsys)
    code, out, err = submit_text(refbot, json.dumps({**RFI, "need": "SQL\x00Server"}))
    one_line_error((code, out, err), "need", "control character")
    assert "SQL:" not in err and "parameters" not in err


def test_a_time_far_in_the_future_is_refused_before_anything_changes(refbot, smtp_server):
    one_line_error(refbot("tick", "--now", "9999-12-31"), "too far in the future")
    assert refbot.json("referrals", "list")[0]["status"] == "new"
    assert len(smtp_server.catcher.received) == 1


def test_the_same_rfi_from_two_processes_at_once_makes_one_set_of_referrals(tmp_path, smtp_server, postgres_url,
                                                                           monkeypatch):
    config = config_module.load(write_config(tmp_path, smtp_port=smtp_server.port, database=postgres_url))
    apps = [App.open(config), App.open(config)]
    both_looked = threading.Barrier(2)
    route = rfi_module.route

    def route_when_both_have_looked(*args, **kwargs):  # both saw no such RFI before either inserts it
        both_looked.wait(timeout=10)
        return route(*args, **kwargs)

    monkeypatch.setattr(rfi_module, "route", route_when_both_have_looked)
    results = []
    threads = [threading.Thread(target=lambda a=a: results.append(rfi_module.submit(
        a.engine, a.mailer, config, rfi_module.RfiInput.model_validate(RFI), now=NOW))) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.created for r in results) == [False, True]
    assert {r.referrals[0].id for r in results} == {results[0].referrals[0].id}
    for app in apps:
        app.close()
