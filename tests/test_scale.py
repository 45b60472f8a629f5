"""The dashboard and `refbot stats` on 100,000 referrals (tests/bulk.py): every page answers
with a small, fixed number of queries and pages of 50 rows, whatever the size of the program.
No timing is asserted; the numbers of queries and rows are what keeps a page fast."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from sqlalchemy import event

from bot import config as config_module
from bot.clock import utcnow
from bot.db import connect, reading
from bot.web.app import create_app
from tests import bulk
from tests.conftest import write_config

MAX_QUERIES = 15  # BEGIN included


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bulk")
    config_path = write_config(folder, smtp_port=1)
    bulk.build(config_path, now=utcnow())
    config = config_module.load(config_path)
    engine = connect(config.database_url)
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: queries.append(statement))
    client = create_app(config, reading(engine)).test_client()
    yield config_path, client, queries
    engine.dispose()


@pytest.mark.parametrize("path", ["/", "/referrals", "/referrals?page=2000", "/referrals?state=won&partner=contoso",
                                  "/referrals?region=fr&page=3", "/referrals/R-000123", "/partners", "/inbox",
                                  "/outbox", "/outbox?status=failed", "/metrics", "/healthz"])
def test_each_page_costs_a_few_queries_on_100000_referrals(program, path):
    _, client, queries = program
    queries.clear()
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert 0 < len(queries) <= MAX_QUERIES, queries
    assert len(re.findall(r'<tr><td><a href="/referrals/R-', page.text)) <= 50  # a page, never everything


def test_the_overview_counts_all_100000(program):
    _, client, _ = program
    text = client.get("/").text
    assert "(100000 in all)" in text
    for state, count in bulk.STATES.items():
        assert re.search(rf'data-state="{state}">\s*<span class="count">{count}</span>', text), state
    assert re.search(r'data-attention="held">\s*<span class="count">300</span>', text)


def test_the_referrals_list_pages_through_all_of_them(program):
    _, client, _ = program
    first = client.get("/referrals").text
    assert "page 1 of 2000 · 100000 in all" in first and first.count('href="/referrals/R-') == 50
    last = client.get("/referrals?page=2000").text
    assert "page 2000 of 2000" in last and 'rel="next"' not in last
    won = client.get("/referrals?state=won").text
    assert f"· {bulk.STATES['won']} in all" in won


def test_stats_on_100000_referrals(program):
    config_path, _, _ = program
    run = subprocess.run([sys.executable, "-m", "bot", "--config", str(config_path), "stats", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["states"] == bulk.STATES and found["total"] == bulk.REFERRALS
    won, lost = bulk.STATES["won"], bulk.STATES["lost"]
    assert found["win_rate"] == round(won / (won + lost), 3)
