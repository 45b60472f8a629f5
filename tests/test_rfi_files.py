"""`refbot rfi submit` of many RFIs (SPEC §7): a JSON array or JSON lines, one result per RFI,
a bad one reported with its line while the others are still taken, exit 2 if any was refused,
and progress on a terminal."""

from __future__ import annotations

import json
import os
import sys

from tests.conftest import RFI
from tests.terminal import run_in_terminal


def rfi(number: int, **changes) -> dict:
    return {**RFI, "rfi_id": f"RFI-{number:04d}", **changes}


def write(refbot, name: str, text: str):
    path = refbot.config.parent / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_json_array_gives_one_result_per_rfi_and_the_bad_one_its_line(refbot, smtp_server):
    items = [rfi(1), {k: v for k, v in rfi(2).items() if k != "region"}, rfi(3, partners=["nobody"]), rfi(4)]
    text = json.dumps(items, indent=2)
    starts = [number for number, line in enumerate(text.splitlines(), start=1) if line == "  {"]
    path = write(refbot, "rfis.json", text)
    code, out, err = refbot("rfi", "submit", str(path), "--json")
    assert code == 2 and err == f"refbot: error: {path}: 2 of 4 RFIs refused; the others were taken\n"
    results = json.loads(out)
    assert [r["rfi_id"] for r in results] == ["RFI-0001", "RFI-0002", "RFI-0003", "RFI-0004"]
    assert results[1] == {"line": starts[1], "rfi_id": "RFI-0002",
                          "error": f"{path} line {starts[1]}: region: required key is missing"}
    assert results[2]["line"] == starts[2] and "nobody: unknown partner" in results[2]["error"]
    assert [len(r["referrals"]) for r in (results[0], results[3])] == [1, 1]
    assert sorted(r["rfi_id"] for r in refbot.json("referrals", "list")) == ["RFI-0001", "RFI-0004"]
    assert len(smtp_server.catcher.wait_for(2)) == 2


def test_json_lines_report_each_bad_line_and_take_the_rest(refbot):
    lines = [json.dumps(rfi(1)), "{not json", "", json.dumps(rfi(3, region="US", partners=[])), json.dumps(rfi(4)), "[]"]
    path = write(refbot, "rfis.jsonl", "\n".join(lines) + "\n")
    code, out, err = refbot("rfi", "submit", str(path))
    assert code == 2
    assert out.count("RFI-0001  R-") == 1 and out.count("RFI-0004  R-") == 1
    assert err.splitlines() == [
        f"refused: {path} line 2: not valid JSON: Expecting property name enclosed in double quotes (column 2)",
        f"refused: {path} line 4: RFI-0003: not routed to any partner (no partner profile serves region US, location Berlin)",
        f"refused: {path} line 6: expected a JSON object with rfi_id, customer, region and need",
        f"refbot: error: {path}: 3 of 5 RFIs refused, listed above; the others were taken",
    ]


def test_every_rfi_taken_is_exit_0_and_a_repeat_creates_nothing(refbot):
    path = write(refbot, "rfis.jsonl", "\n".join(json.dumps(rfi(n)) for n in range(1, 4)))
    first = refbot.json("rfi", "submit", str(path))
    assert [r["rfi_id"] for r in first] == ["RFI-0001", "RFI-0002", "RFI-0003"]
    again = refbot.json("rfi", "submit", str(path))
    assert [r["referrals"] for r in again] == [r["referrals"] for r in first]
    assert len(refbot.json("referrals", "list")) == 3


def test_a_broken_array_keeps_the_rfis_before_the_break(refbot):
    text = "[\n" + json.dumps(rfi(1)) + ",\n" + json.dumps(rfi(2))[:-1] + "\n" + json.dumps(rfi(3)) + "\n]"
    code, out, _ = refbot("rfi", "submit", str(write(refbot, "rfis.json", text)), "--json")
    results = json.loads(out)
    assert code == 2 and len(results) == 2 and results[0]["rfi_id"] == "RFI-0001"
    assert results[1]["line"] == 3 and "the RFIs after it were not read" in results[1]["error"]


def test_a_single_rfi_prints_one_object_as_before(refbot):
    result = refbot.json("rfi", "submit", str(write(refbot, "rfi.json", json.dumps(rfi(1), indent=2))))
    assert set(result) == {"rfi_id", "referrals", "unrouted"}


def test_a_large_file_shows_progress_on_a_terminal(refbot):
    path = write(refbot, "rfis.jsonl", "\n".join(json.dumps(rfi(n)) for n in range(1, 41)))
    command = [sys.executable, "-m", "bot", "--config", str(refbot.config), "rfi", "submit", str(path)]
    code, out, terminal = run_in_terminal(command, env=dict(os.environ))
    assert code == 0 and out.count("  R-") == 40
    assert "Routing RFIs" in terminal and "100%" in terminal and "Sending" in terminal
    piped = refbot("rfi", "submit", str(path))  # not a terminal: no progress bar
    assert piped[0] == 0 and piped[2] == ""


def test_an_rfi_twice_in_one_file_is_taken_once(refbot):
    path = write(refbot, "rfis.jsonl", "\n".join(json.dumps(rfi(n)) for n in (1, 2, 1)))
    results = refbot.json("rfi", "submit", str(path))
    assert [r["rfi_id"] for r in results] == ["RFI-0001", "RFI-0002", "RFI-0001"]
    assert results[2]["referrals"] == results[0]["referrals"]
    assert len(refbot.json("referrals", "list")) == 2


def test_an_rfi_stored_after_the_file_was_read_is_not_stored_again(app):
    """A file's ids are looked up once (``unseen``); another process may store one of them
    before its turn, and then it is found on the second attempt, not stored twice."""
    from bot.rfi import RfiInput, submit, unseen
    from tests.conftest import NOW

    assert unseen(app.engine, [RFI["rfi_id"], "RFI-NEW"]) == {"RFI-NEW"}
    again = submit(app.engine, app.mailer, app.config, RfiInput.model_validate(RFI), now=NOW, unseen=True)
    assert not again.created and [r.id for r in again.referrals] == ["R-7K3Q9"]
