"""Ranking (SPEC §7): responsive profiles rise, a profile that declines a kind of RFI sinks for
that kind only, and a dropped RFI goes on to the next-best profile; through real mail and
`refbot partners search`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot import ranking
from bot.routing import normalized_words
from tests.conftest import RFI

# Two partners in Austria, equal in every fit; only their answers tell them apart.
AUSTRIA = """
[[partners]]
id = "alpha"
name = "Alpha GmbH"

  [[partners.profiles]]
  region = "AT"
  contact = "leads@alpha.example"
  locale = "en"
  keywords = ["erp", "crm"]

[[partners]]
id = "beta"
name = "Beta GmbH"

  [[partners.profiles]]
  region = "AT"
  contact = "leads@beta.example"
  locale = "en"
  keywords = ["erp", "crm"]
"""
CUSTOMER = "erika@example.org"


def rfi(number: int, keyword: str = "erp") -> dict:
    return dict(rfi_id=f"RFI-AT-{number}", region="AT", location="Wien", partners=[], keywords=[keyword],
                products=[], need="A new ERP for our warehouses")


def search(mail, keyword: str = "erp") -> list[dict]:
    return mail.refbot.json("partners", "search", "--region", "AT", "--keywords", keyword)


def both_get(mail, number: int, keyword: str = "erp"):
    mail.refbot.submit(**rfi(number, keyword))
    alpha, beta = mail.person("leads@alpha.example"), mail.person("leads@beta.example")
    alpha.expect(subject="New referral")
    beta.expect(subject="New referral")
    return alpha, beta


class TestRanking:
    @pytest.fixture
    def mail_config(self):
        return {"extra": AUSTRIA}

    def test_a_responsive_profile_outranks_an_otherwise_equal_slow_one(self, mail):
        assert [p["partner"] for p in search(mail)] == ["alpha", "beta"]  # equal: by name
        assert search(mail)[0]["score"] == search(mail)[1]["score"]
        alpha, beta = both_get(mail, 1)
        beta.replies("INTERESTED")
        beta.expect(subject="Customer details")
        later = (datetime.now(timezone.utc) + timedelta(hours=73)).isoformat()
        assert len(mail.refbot.json("tick", "--now", later)["timed_out"]) == 1  # alpha never answered
        ranked = search(mail)
        assert [p["partner"] for p in ranked] == ["beta", "alpha"] and ranked[0]["score"] > ranked[1]["score"]
        assert "answers 100 % within 24 h (1 referral)" in ranked[0]["reasons"]
        assert "answers 0 % within 24 h (1 referral)" in ranked[1]["reasons"]
        code, out, _ = mail.refbot("partners", "search", "--region", "AT", "--keywords", "ERPs")
        assert code == 0 and out.startswith("1. beta (AT, leads@beta.example)  score ") and "keywords: erp" in out

    def test_a_profile_that_declines_a_kind_of_rfi_sinks_for_that_kind_only(self, mail):
        alpha, beta = both_get(mail, 2, "erp")
        for person in (alpha, beta):
            person.replies("INTERESTED")
            person.expect(subject="Customer details")
        alpha.replies("DECLINE not our kind of project")
        alpha.expect(subject="declined")
        erp, crm = search(mail, "erp"), search(mail, "crm")
        assert [p["partner"] for p in erp] == ["beta", "alpha"]
        assert "declined 1 similar referral" in erp[1]["reasons"]
        assert [p["partner"] for p in crm] == ["alpha", "beta"] and crm[0]["score"] == crm[1]["score"]
        # A file of RFIs reads the history once (ranking.Window), and ranks every RFI as search does.
        path = mail.refbot.config.parent / "rfis.jsonl"
        path.write_text("\n".join(json.dumps({**RFI, **rfi(n, kind)}) for n, kind in ((3, "erp"), (4, "crm"), (5, "erp"))))
        results = mail.refbot.json("rfi", "submit", str(path))
        assert [[r["partner"] for r in result["referrals"]] for result in results] == \
            [["beta", "alpha"], ["alpha", "beta"], ["beta", "alpha"]]


class TestReoffer:
    @pytest.fixture
    def mail_config(self):
        return {"extra": AUSTRIA + "\n[matching]\nmax_partners = 1\nreoffer = true\nmax_offers = 2\n"
                                   "[timeouts]\nundo_minutes = 0\n"}

    def test_a_dropped_rfi_goes_on_to_the_next_best_profile_up_to_max_offers(self, mail):
        first = mail.refbot.submit(**rfi(3))["referrals"]
        assert [r["partner"] for r in first] == ["alpha"]
        alpha, beta, customer = (mail.person(a) for a in ("leads@alpha.example", "leads@beta.example", CUSTOMER))
        alpha.expect(subject="New referral")
        alpha.replies("NO THANKS")
        customer.expect(subject="Your request RFI-AT-3: passed on to another partner",
                        body_lacks=["https://example.com/find-a-partner"])
        (planned,) = mail.refbot.json("tick", "--dry-run")["planned"]
        assert planned == {"referral": first[0]["id"], "action": "offer on", "status": "skipped", "to": None,
                           "emails": ["partner/new_referral"], "profile": "beta/AT/*"}
        assert len(mail.refbot.json("tick")["reoffered"]) == 1
        beta.expect(subject="New referral")
        beta.replies("NO THANKS")  # two profiles had it: max_offers
        customer.expect(subject="Your request RFI-AT-3: choosing another partner",
                        body_contains=["https://example.com/find-a-partner"])
        assert mail.refbot.json("tick")["reoffered"] == []
        assert [r["partner"] for r in mail.refbot.json("referrals", "list")] == ["alpha", "beta"]


def test_keywords_compare_without_case_or_plural():
    assert normalized_words(["SQL Servers", "Databases", "processes", "Analytics"]) == \
        normalized_words(["sql server", "database", "process", "analytic"])


def test_a_window_counted_once_gives_each_rfi_the_records_a_full_reading_gives():
    """``ranking.Counted`` keeps each profile's responsiveness and looks similar referrals up by
    word; for any RFI that must equal reading every referral of the window for it."""
    now = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    hour = timedelta(hours=1)
    rows = [  # profile key, created, status, keywords, products, first answer
        ("a", now - 50 * hour, "negotiating", ["ERP", "crm"], [], now - 49 * hour),
        ("a", now - 40 * hour, "declined", ["erp"], ["Dynamics"], now - 10 * hour),
        ("a", now - 2 * hour, "new", ["erp"], [], None),
        ("b", now - 30 * hour, "skipped", ["crm"], ["CRMs"], now - 29 * hour),
        ("b", now - 80 * hour, "missed", ["erp"], [], None),
        ("b", now - 70 * hour, "won", [], ["dynamics"], now - 69 * hour),
    ]

    def full_reading(like: set[str]) -> dict[str, ranking.Record]:
        found: dict[str, ranking.Record] = {}
        for key, created, status, keywords, products, at in rows:
            record = found.setdefault(key, ranking.Record())
            if at is not None:
                record.hours.append((at - created).total_seconds() / 3600)
            if at is not None or now - created >= ranking.RECOMMENDED or status == "missed":
                record.decided += 1
                record.in_time += at is not None and at - created <= ranking.RECOMMENDED
            if like & normalized_words([*keywords, *products]):
                record.accepted_similar += status in ranking.ACCEPTED
                record.declined_similar += status in ranking.DECLINED
        return found

    counted = ranking.Counted(rows, now)
    for words in ([], ["erp"], ["CRM"], ["erp", "crm", "dynamics"], ["Dynamic"], ["other"]):
        like = normalized_words(words)
        assert counted.records(like) == full_reading(like), words
    assert counted.records(normalized_words(["erp"]))["a"].declined_similar == 1
    assert counted.base["a"].declined_similar == 0  # what one RFI counts is not kept for the next
