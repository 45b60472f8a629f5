"""The scheduler's sweep applies what fell due in batches of referrals that share a commit: each
referral's change and its emails are kept together, a failure or a crash before the commit
loses nothing, and nothing is applied twice."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot import config as config_module
from bot import referrals, scheduler, tally
from bot.app import App
from bot.db import transaction
from bot.models import Event, OutboundMessage, Referral
from bot.rfi import RfiInput, submit
from tests.conftest import RFI, write_config

NOW = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=4)  # past every new referral's 72 hours
COUNT = 6


@pytest.fixture(params=["sqlite", "postgres"])
def app(request, tmp_path):
    database = request.getfixturevalue("postgres_url") if request.param == "postgres" else "sqlite:///var/refbot.db"
    config = config_module.load(write_config(tmp_path, smtp_port=1, database=database))
    app = App.open(config)
    for n in range(COUNT):
        submit(app.engine, app.mailer, config, RfiInput.model_validate({**RFI, "rfi_id": f"RFI-SWEEP-{n}"}), now=NOW)
    yield app
    app.close()


def sweep(app: App) -> scheduler.Sweep:
    return scheduler.sweep(app.engine, app.mailer, app.config, now=LATER)


def state(app: App) -> tuple[dict[str, str], Counter, Counter]:
    """Each referral's state, its timeouts on the timeline, and its emails queued by the sweep."""
    with transaction(app.engine) as session:
        statuses = {r.id: r.status for r in session.exec(select(Referral)).all()}
        timeouts = Counter(e.referral_id for e in session.exec(select(Event).where(Event.command == "TIMEOUT")))
        emails = Counter(m.referral_id for m in session.exec(select(OutboundMessage)
                                                             .where(OutboundMessage.created_at == LATER)))
    return statuses, timeouts, emails


def assert_counts_kept(app: App) -> None:
    """The dashboard's kept counts say what the table holds: a rolled-back savepoint counts nothing."""
    with transaction(app.engine) as session:
        kept = {status: n for status, n in tally.states(session).items() if n}
    assert kept == Counter(state(app)[0].values())


def assert_all_timed_out_once(app: App) -> None:
    assert_counts_kept(app)
    statuses, timeouts, emails = state(app)
    assert len(statuses) == COUNT and set(statuses.values()) == {"missed"}
    assert timeouts == Counter(dict.fromkeys(statuses, 1))
    assert emails == Counter(dict.fromkeys(statuses, 2))  # the partner's and the customer's notice


@pytest.mark.parametrize("batch_seconds", [0, 60])
def test_every_due_referral_times_out_once_with_its_emails_however_the_batches_fall(app, monkeypatch, batch_seconds):
    monkeypatch.setattr(scheduler, "BATCH_SECONDS", batch_seconds)
    assert len(sweep(app).timed_out) == COUNT
    assert sweep(app).timed_out == []
    assert_all_timed_out_once(app)


def test_a_referral_that_fails_keeps_the_ones_before_it_and_the_rest_stay_due(app, monkeypatch):
    apply, seen = referrals.apply_trigger, []

    def failing_third(session, mailer, config, referral, *args, **kwargs):
        seen.append(referral.id)
        result = apply(session, mailer, config, referral, *args, **kwargs)
        if len(seen) == 3:
            raise RuntimeError("the third referral breaks after its changes")
        return result

    monkeypatch.setattr(referrals, "apply_trigger", failing_third)
    with pytest.raises(RuntimeError):
        sweep(app)
    statuses, timeouts, emails = state(app)
    assert [statuses[r] for r in seen] == ["missed", "missed", "new"]
    assert set(timeouts) == set(emails) == set(seen[:2])
    assert_counts_kept(app)

    monkeypatch.setattr(referrals, "apply_trigger", apply)
    assert sorted(sweep(app).timed_out) == sorted(set(statuses) - set(seen[:2]))
    assert_all_timed_out_once(app)


def test_a_batch_whose_commit_fails_leaves_everything_due_and_is_applied_once_later(app, monkeypatch):
    commit = Session.commit

    def lost(self):
        if self.exec(select(Event).where(Event.command == "TIMEOUT")).first():  # a batch, not a read
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        return commit(self)

    monkeypatch.setattr(Session, "commit", lost)
    with pytest.raises(OperationalError):
        sweep(app)
    statuses, timeouts, emails = state(app)
    assert set(statuses.values()) == {"new"} and not timeouts and not emails

    monkeypatch.setattr(Session, "commit", commit)
    assert len(sweep(app).timed_out) == COUNT
    assert_all_timed_out_once(app)


def test_stopping_commits_what_was_done_and_leaves_the_rest_due(app):
    asked = []
    done = scheduler.sweep(app.engine, app.mailer, app.config, now=LATER,
                           stopping=lambda: asked.append(1) or len(asked) > 2)
    assert len(done.timed_out) == 2
    statuses, timeouts, _ = state(app)
    assert Counter(statuses.values()) == {"missed": 2, "new": COUNT - 2} and len(timeouts) == 2
    assert len(sweep(app).timed_out) == COUNT - 2
    assert_all_timed_out_once(app)


def test_a_sweep_with_nothing_due_only_reads_and_takes_no_write_lock(app):
    sweep(app)
    statements = []
    event.listen(app.engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0]))
    assert sweep(app) == scheduler.Sweep()
    assert set(statements) <= {"BEGIN", "SELECT"}  # SQLite's BEGIN IMMEDIATE would wait for writers
    assert statements.count("SELECT") == 4  # what is due by each of three columns, and whose digest
