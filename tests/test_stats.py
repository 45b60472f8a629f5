"""`refbot stats` and `referrals list --csv` (SPEC §7) on eight weeks of a partner program
played through refbot's own code (tests/seed.py), whose every number is known."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import config as config_module
from bot import stats
from bot.app import App
from bot.clock import utcnow
from tests.seed import seed


def test_stats_counts_every_state_rate_value_and_reason(seeded):
    refbot = seeded.refbot
    found = refbot.json("stats")
    assert found["states"] == {"new": 2, "evaluating": 1, "negotiating": 3, "skipped": 8, "missed": 8, "declined": 8,
                               "expired": 7, "won": 7, "lost": 6}
    # First replies came after 2, 3, 5, 8 and 30 hours (eight RFIs each); 32 of the 49 referrals
    # older than a day were answered within it.
    assert found["first_response"] == {"median_hours": 5.0, "within_24h": round(32 / 49, 3)}
    assert found["acceptance_rate"] == round(16 / 47, 3) and found["win_rate"] == round(7 / 13, 3)
    assert found["pipeline"] == {"EUR": "105000"} and found["won"] == {"EUR": "189000"}
    assert found["reasons"] == {code: {"budget": 8, "other_vendor": 6}.get(code, 0) for code in stats.REASON_CODES}


def test_stats_by_partner_region_and_since(seeded):
    refbot, now = seeded.refbot, seeded.now
    northwind = refbot.json("stats", "--partner", "northwind")
    assert northwind["total"] == 12 and sum(northwind["states"].values()) == 12
    assert refbot.json("stats", "--region", "fr") == northwind
    week = (now - timedelta(days=7)).astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    recent = refbot.json("stats", "--since", week)
    assert 0 < recent["total"] < 50 and recent["states"]["new"] == 2
    nobody = refbot.json("stats", "--partner", "nobody")
    assert nobody["total"] == 0 and nobody["acceptance_rate"] is None and nobody["pipeline"] == {}
    assert refbot("stats", "--since", "last week")[0] == 2


def test_stats_reads_as_a_table(seeded):
    refbot = seeded.refbot
    code, out, err = refbot("stats")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Referrals: 50"
    assert "  won                            7" in lines and "  other                          0" in lines
    assert "First response, median    5 hours" in lines and "Acceptance rate           34%" in lines
    assert "Won                       €189,000.00" in lines


def test_referrals_since_a_day_as_csv(seeded):
    refbot, now = seeded.refbot, seeded.now
    day = (now - timedelta(days=14)).astimezone(ZoneInfo("Europe/Berlin")).date()
    code, out, err = refbot("referrals", "list", "--since", day.isoformat(), "--csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(row["created_at"] >= day.isoformat() for row in rows)
    assert set(rows[0]) == {"id", "rfi_id", "partner", "region", "location", "contact", "status", "archived",
                            "deal_value", "currency", "closing_date", "created_at", "status_since", "deadline_at",
                            "bounce"}
    everything = list(csv.DictReader(io.StringIO(refbot("referrals", "list", "--csv")[1])))
    assert len(everything) == 50 and len(rows) < 50
    assert refbot("referrals", "list", "--csv", "--json")[0] == 2


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_medians_are_counted_by_the_database_as_python_would(tmp_path, request, database):
    """The hours and the window-function medians are SQL of each dialect: checked against
    the same numbers worked out here from the timeline."""
    from statistics import median

    from sqlmodel import select

    from bot.db import transaction
    from bot.models import Event, Referral
    from tests.conftest import write_config

    url = request.getfixturevalue("postgres_url") if database == "postgresql" else "sqlite:///var/refbot.db"
    app = App.open(config_module.load(write_config(tmp_path, smtp_port=1, database=url)))
    try:
        seed(app, now=utcnow())
        with transaction(app.engine) as session:
            firsts: dict[str, list[float]] = {}
            for referral in session.exec(select(Referral)).all():
                answers = [e.at for e in session.exec(select(Event).where(Event.referral_id == referral.id)).all()
                           if e.from_status == "new" and e.to_status != "new" and e.actor != "system"]
                if answers:
                    hours = (min(answers) - referral.created_at).total_seconds() / 3600
                    firsts.setdefault(referral.partner_id, []).append(hours)
            answered = stats.first_responses(stats.Scope(), group=Referral.partner_id)
            assert stats.medians(session, answered, grouped=True) == {
                partner: round(median(hours), 1) for partner, hours in firsts.items()}
            everyone = [h for hours in firsts.values() for h in hours]
            assert stats.medians(session, stats.first_responses(stats.Scope()), grouped=False) == {
                None: round(median(everyone), 1)}
    finally:
        app.close()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_kept_counts_are_the_tables_counted_again_and_give_what_stats_give(tmp_path, request, database):
    """bot.tally keeps the dashboard's counts as referrals change, UNDO included: they equal
    the same counts made again from the tables, and the overview's numbers read from them
    equal `refbot stats` over the same referrals, for spans that start on and off the hour."""
    from sqlalchemy import select as core_select
    from sqlmodel import select

    from bot import tally
    from bot.db import transaction
    from bot.models import Referral, first_response, state_count
    from bot.models import tally as hourly
    from tests.conftest import write_config
    from tests.seed import _reply

    url = request.getfixturevalue("postgres_url") if database == "postgresql" else "sqlite:///var/refbot.db"
    app = App.open(config_module.load(write_config(tmp_path, smtp_port=1, database=url)))
    try:
        now = utcnow()
        seed(app, now=now)
        with transaction(app.engine) as session:
            fresh = session.exec(select(Referral.id).where(Referral.status == "new")).first()
        _reply(app, fresh, "NO THANKS", now)
        _reply(app, fresh, "UNDO", now + timedelta(minutes=1))

        def kept(connection):
            return [sorted(connection.execute(core_select(table)).all()) for table in (state_count, hourly)] + [
                sorted((row.referral_id, round(row.hours, 6)) for row in connection.execute(core_select(first_response)))]

        with app.engine.connect() as connection:
            with connection.begin() as outer:
                before = kept(connection)
                tally.rebuild(connection)
                assert [[row for row in table if not (hasattr(row, "total") and row.total == 0)] for table in before] \
                    == kept(connection)
                outer.rollback()
        with transaction(app.engine) as session:
            assert tally.states(session) == stats.count_states(session, stats.Scope())
            for since in (now - timedelta(days=60), now - timedelta(days=20, minutes=17), now - timedelta(hours=30)):
                starts = [since + timedelta(days=7 * n) for n in range(3)]
                found, weeks = stats.recent(session, starts, now=now)
                expected = stats.compute(session, stats.Scope(since=since), now=now, money=False)
                assert found == expected
                assert sum(sum(week[s] for s in found.states) for week in weeks) == expected.total
    finally:
        app.close()
