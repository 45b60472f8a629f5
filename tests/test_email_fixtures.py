"""The inbound email fixtures in tests/data/emails are complete, parseable and consistent.

The fixtures are raw replies as real clients write them; expected.toml says what refbot must
make of each (see its header). These tests check the fixtures themselves, not refbot.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from bot.inbound.message import sender_address

FOLDER = Path(__file__).parent / "data" / "emails"
EXPECTED = tomllib.loads((FOLDER / "expected.toml").read_text(encoding="utf-8"))
FILES = sorted(path.name for path in FOLDER.glob("*.eml"))

OUTCOMES = {"command", "machine", "out_of_office", "bounce", "stranger", "forged", "no_command", "bad_command",
            "duplicate_of", "set_aside"}
COMMANDS = {"INTERESTED", "NO THANKS", "ACCEPT", "DECLINE", "WON", "LOST", "STATUS", "HELP"}
MATCHED_BY = {"token", "in_reply_to", "subject"}
ERRORS = {"value", "ambiguous_date", "missing_date", "past_date"}
ORIGINAL_ID = "<ref-R-7K3Q9-1@example.com>"
PLACEHOLDER = b"{{token}}"
SAMPLE_TOKEN = b"r-7k3q9-abcdefghijklmnop"
TOKEN_SHAPE = re.compile(r"r-[0-9a-z]{5}-[a-z2-7]{16}")


def parse(name: str, *, substitute: bool = True) -> email.message.EmailMessage:
    raw = (FOLDER / name).read_bytes()
    if substitute:
        raw = raw.replace(PLACEHOLDER, SAMPLE_TOKEN)
    return email.message_from_bytes(raw, policy=email.policy.default)


def addresses(message, *names: str) -> list[str]:
    values = [str(value) for name in names for value in message.get_all(name, [])]
    return [address.lower() for _, address in email.utils.getaddresses(values)]


def test_there_are_enough_fixtures():
    assert len(FILES) >= 45


def test_every_file_is_listed_and_every_listing_has_a_file():
    assert sorted(EXPECTED) == FILES


@pytest.mark.parametrize("name", FILES)
def test_file_parses(name):
    for substitute in (False, True):
        message = parse(name, substitute=substitute)
        for _key, value in message.items():  # headers are parsed on access
            str(value)
        assert message["Message-ID"]
        assert message["From"]
        for part in message.walk():
            part.get_content_type()
            part.get_content_charset()


def test_message_ids_are_unique_except_declared_duplicates():
    by_id: dict[str, list[str]] = {}
    for name in FILES:
        by_id.setdefault(str(parse(name)["Message-ID"]).strip(), []).append(name)
    for message_id, names in by_id.items():
        if len(names) == 1:
            continue
        firsts = [n for n in names if EXPECTED[n]["outcome"] != "duplicate_of"]
        assert len(firsts) == 1, (message_id, names)
        for name in names:
            if name != firsts[0]:
                assert EXPECTED[name]["duplicate_of"] == firsts[0], name
    for name in FILES:
        if EXPECTED[name]["outcome"] == "duplicate_of":
            first = EXPECTED[name]["duplicate_of"]
            assert parse(name)["Message-ID"] == parse(first)["Message-ID"], name


@pytest.mark.parametrize("name", FILES)
def test_expectation_is_well_formed_and_matches_the_file(name):
    entry = EXPECTED[name]
    message = parse(name, substitute=False)
    raw = (FOLDER / name).read_bytes()
    outcome = entry["outcome"]
    assert outcome in OUTCOMES
    assert sender_address(next(v for k, v in message.raw_items() if k.lower() == "from")) == entry["sender"]

    if outcome in {"command", "bad_command"}:
        assert entry["command"] in COMMANDS
    else:
        assert "command" not in entry
    if outcome == "bad_command":
        assert entry["error"] in ERRORS
    if "value" in entry:
        assert Decimal(entry["value"]) > 0 and entry["currency"].isupper() and len(entry["currency"]) == 3
        assert entry["command"] in {"ACCEPT", "WON"}
    if entry.get("command") == "ACCEPT" and outcome == "command":
        closing = datetime.date.fromisoformat(entry["closing_date"])
        assert closing.year == 2027 and "value" in entry
    if "reason" in entry:
        assert entry["command"] in {"DECLINE", "LOST"} and entry["reason"] == entry["reason"].strip()

    token_headers = addresses(message, "To", "Cc", "Delivered-To", "X-Original-To")
    has_placeholder = any("{{token}}" in a for a in token_headers)
    threads = " ".join(str(message.get(h, "")) for h in ("In-Reply-To", "References"))
    matched_by = entry.get("matched_by")
    if outcome in {"command", "bad_command", "no_command", "stranger"}:
        assert matched_by in MATCHED_BY
        assert entry["referral"] == "R-7K3Q9"
    if matched_by == "token":
        assert has_placeholder, "the token address must be in To, Cc or Delivered-To"
    elif matched_by == "in_reply_to":
        assert PLACEHOLDER not in raw and ORIGINAL_ID in threads
    elif matched_by == "subject":
        assert PLACEHOLDER not in raw and ORIGINAL_ID not in threads
        assert "[Referral R-7K3Q9]" in str(message["Subject"])

    if outcome == "forged":
        assert TOKEN_SHAPE.fullmatch(entry["token"])
        assert f"referrals+{entry['token']}@example.com" in token_headers
        assert not has_placeholder
    if outcome == "stranger":
        assert entry["sender"] not in {"leads-de@contoso.example", "anna@contoso.example"}
    if outcome in {"command", "bad_command", "no_command"}:
        assert entry["sender"] in {"leads-de@contoso.example", "anna@contoso.example"}
    if outcome == "bounce":  # found by the returned Message-ID, else by a token or the subject tag
        assert entry.get("original_message_id", "{{token}}").encode() in raw or b"[Referral R-7K3Q9]" in raw
        assert entry["recipient"].encode() in raw
    if outcome == "duplicate_of":
        assert entry["duplicate_of"] in EXPECTED and entry["duplicate_of"] != name
    if outcome == "set_aside":
        assert entry["held"] in {"too_complex", "failed", "too_large"}
    if outcome in {"machine", "out_of_office", "bounce", "duplicate_of", "set_aside"}:
        assert "answer" not in entry  # never answer a machine, never answer twice
    if outcome in {"no_command", "bad_command"}:
        assert entry["answer"] == "partner/refusal"
    if outcome == "command":
        assert entry["answer"].startswith("partner/") and entry["answer"] != "partner/refusal"
    if "quotes" in entry:
        assert entry["answer"] == "partner/refusal" and entry["quotes"] == entry["quotes"].strip()


def test_the_variety_the_parser_must_handle_is_there():
    outcomes = {entry["outcome"] for entry in EXPECTED.values()}
    assert outcomes == OUTCOMES
    commands = {e["command"] for e in EXPECTED.values() if e["outcome"] == "command"}
    assert commands == COMMANDS
    assert {e["matched_by"] for e in EXPECTED.values() if e["outcome"] == "command"} == MATCHED_BY
    assert {e.get("lang") for e in EXPECTED.values() if e["outcome"] == "command"} >= {"en", "de"}
    assert len(FILES) >= 90
    assert {e["error"] for e in EXPECTED.values() if e["outcome"] == "bad_command"} >= {"value", "ambiguous_date"}
