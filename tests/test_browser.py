"""The dashboard as an admin sees it (SPEC §8), in a real headless Chromium with JavaScript
off, against a real `refbot web` on eight weeks of a seeded program (tests/seed.py): the
numbers per state, what needs attention, charts that are there and not empty, a referral's
timeline and emails. Each page is saved as a screenshot with the test run's artifacts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from bot import config as config_module
from bot.app import App
from bot.clock import utcnow
from tests.browser import chromium, follow, requested_urls, save_page
from tests.conftest import SCREENSHOTS, write_config
from tests.seed import seed
from tests.website import Site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    config = write_config(folder, smtp_port=1)
    app = App.open(config_module.load(config))
    made = seed(app, now=utcnow())
    app.close()
    site = Site(config).wait()
    site.made = made
    site.stats = json.loads(subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "stats", "--json"],
                                           capture_output=True, text=True, check=True).stdout)
    yield site
    site.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    folder: Path = request.config.stash[SCREENSHOTS]

    def take(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        save_page(browser, path)
        assert path.stat().st_size > 10_000, path  # a page, not a blank
        return path

    return take


def visit(browser, url: str) -> list[str]:
    """Open ``url``; every http(s) request the page caused (all must stay on the dashboard)."""
    requested_urls(browser)
    browser.get(url)
    return [u for u in requested_urls(browser) if u.startswith(("http:", "https:"))]


def test_the_overview_shows_the_pipeline_what_needs_attention_and_charts(site, browser, screenshot):
    requests = visit(browser, site.url + "/")
    assert requests and all(u.startswith(site.url) for u in requests), requests
    cards = {card.get_attribute("data-state"): int(card.find_element(By.CLASS_NAME, "count").text)
             for card in browser.find_elements(By.CSS_SELECTOR, "a.card[data-state]")}
    assert cards == site.stats["states"] and sum(cards.values()) == 50
    attention = {card.get_attribute("data-attention"): int(card.find_element(By.CLASS_NAME, "count").text)
                 for card in browser.find_elements(By.CSS_SELECTOR, "[data-attention]")}
    assert attention == {"held": 1, "undeliverable": 1, "bounced": 1, "about-to-miss": 1}
    assert "missed at" in browser.find_element(By.TAG_NAME, "table").text
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert [c.get_attribute("aria-label") for c in charts] == [
        "Referrals per week, by how they stand now", "First response after the offer", "From offer to won"]
    for chart in charts:
        bars = chart.find_elements(By.CSS_SELECTOR, "rect.bar")
        assert bars and all(float(bar.get_attribute("height")) > 0 for bar in bars), chart.get_attribute("aria-label")
        assert chart.size["height"] > 100 and chart.size["width"] > 300  # drawn, not collapsed
    weekly = charts[0].find_element(By.TAG_NAME, "desc").get_attribute("textContent")
    assert sum(int(total) for total in re.findall(r": (\d+)", weekly)) == 50
    screenshot("overview")


def test_a_state_leads_to_its_referrals_and_one_to_its_timeline_and_emails(site, browser, screenshot):
    visit(browser, site.url + "/")
    follow(browser, browser.find_element(By.CSS_SELECTOR, 'a.card[data-state="won"]'))
    rows = browser.find_elements(By.CSS_SELECTOR, "#referrals tr")[1:]
    assert len(rows) == site.stats["states"]["won"] and all("won" in row.text for row in rows)
    referral = rows[-1].find_element(By.TAG_NAME, "a").text
    follow(browser, rows[-1].find_element(By.TAG_NAME, "a"))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"{referral} won"
    timeline = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in browser.find_elements(By.CSS_SELECTOR, "#timeline tr")[1:]]
    assert [(cells[1], cells[2]) for cells in timeline] == [
        ("—", "new"), ("new", "evaluating"), ("evaluating", "negotiating"), ("negotiating", "won")]
    assert timeline[1][3] == "admin for leads-de@contoso.example" and timeline[3][5] == "27000 EUR"
    sent = browser.find_elements(By.CSS_SELECTOR, "#sent tr")[1:]
    assert len(sent) == 4 and f"[Referral {referral}]" in sent[0].text
    sent[1].find_element(By.TAG_NAME, "summary").click()  # <details> opens without JavaScript
    assert "Erika Mustermann" in sent[1].find_element(By.TAG_NAME, "pre").text
    screenshot("referral")


def test_referrals_filter_by_partner_and_region(site, browser, screenshot):
    visit(browser, site.url + "/referrals")
    Select(browser.find_element(By.NAME, "partner")).select_by_visible_text("northwind")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    assert "partner=northwind" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "#referrals tr")[1:]
    assert len(rows) == 12 and all("northwind" in row.text and "FR/Paris" in row.text for row in rows)
    assert "page 1 of 1 · 12 in all" in browser.find_element(By.CLASS_NAME, "pager").text
    screenshot("referrals-northwind")
    browser.find_element(By.NAME, "region").send_keys("DE")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    assert browser.find_element(By.ID, "referrals").text.endswith("No referrals match.")


def test_partners_inbox_and_outbox(site, browser, screenshot):
    visit(browser, site.url + "/partners")
    rows = {row.find_elements(By.TAG_NAME, "td")[2].text: row.text
            for row in browser.find_elements(By.CSS_SELECTOR, "#partners tr")[1:]}
    assert len(rows) == 4
    assert rows["contact@northwind.example"].endswith("12 2 100% 3.0 h 67% 50%")
    screenshot("partners")
    visit(browser, site.url + "/inbox")
    (held,) = browser.find_elements(By.CSS_SELECTOR, "#held tr")[1:]
    assert "Question about last week's lead" in held.text and "uncorrelated" in held.text
    screenshot("inbox")
    visit(browser, site.url + "/outbox")
    follow(browser, browser.find_element(By.CSS_SELECTOR, 'a.card[data-status="failed"]'))
    (failed,) = browser.find_elements(By.CSS_SELECTOR, "#outbox tr")[1:]
    assert "550 5.1.1" in failed.text and site.made.bounced[0] in failed.text
    screenshot("outbox-failed")
