"""Every partner email as a partner sees it on a phone (390 px) and on a desktop (800 px), in a
real headless Chromium (tests/browser.py), in every language: nothing scrolls sideways, nothing
is fetched from anywhere, each command valid now has exactly one button with its exact link, the
buttons are big enough to tap, and every text is readable on its background. The screenshots are
kept with the test run's artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from bot import lifecycle, words
from bot.locales import LOCALES
from bot.outbound import buttons
from bot.outbound.render import TEMPLATE_NAMES, Renderer
from bot.outbound.samples import SAMPLE_NOW, SAMPLE_REPLY_TO, sample_context
from tests.browser import chromium, requested_urls
from tests.conftest import SCREENSHOTS

PARTNER = [name for name in TEMPLATE_NAMES if name.startswith("partner/")]
WIDTHS = (390, 800)
# What a command that needs arguments prefills, as a partner of each language completes it.
SHAPES = {"en": " <value> <YYYY-MM-DD>", "de": " <Wert> <TT.MM.JJJJ>", "fr": " <montant> <AAAA-MM-JJ>"}

# Each text node's colour and the first background colour behind it that is not transparent,
# as the browser computed them; the email must set that background itself.
COLOURS = """
const found = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (!node.textContent.trim()) continue;
  const element = node.parentElement;
  let behind = element, background = null, setHere = false;
  while (behind) {
    const colour = getComputedStyle(behind).backgroundColor;
    if (colour && colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') {
      background = colour; setHere = (behind.getAttribute('style') || '').includes('background');
      break;
    }
    behind = behind.parentElement;
  }
  found.push([node.textContent.trim().slice(0, 40), getComputedStyle(element).color, background, setHere]);
}
return found;
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def emails(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emails")


def luminance(rgb: str) -> float:
    values = [int(part) / 255 for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def expected_links(name: str, locale: str, subject: str) -> list[str]:
    """The link of each command valid now, from the lifecycle table and the keywords, in order."""
    status = sample_context(name)["referral"].status
    links = []
    for command in lifecycle.valid_commands(status):
        body = words.keyword(command, locale) + (SHAPES[locale] if command in ("ACCEPT", "UPDATE") else "")
        links.append(buttons.mailto(SAMPLE_REPLY_TO, subject=f"Re: {subject}", body=body))
    return links


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", PARTNER)
def test_a_partner_email_reads_well_on_a_phone_and_a_desktop(browser, emails, request, name, locale):
    rendered = Renderer().render(name, locale=locale, now=SAMPLE_NOW, reply_to=SAMPLE_REPLY_TO, **sample_context(name))
    page = emails / f"{locale}-{name.replace('/', '-')}.html"
    page.write_text(rendered.html, encoding="utf-8")
    folder: Path = request.config.stash[SCREENSHOTS]
    folder.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
        requested_urls(browser)
        browser.get(page.as_uri())
        fetched = [url for url in requested_urls(browser) if not url.startswith(("file:", "data:", "about:"))]
        assert fetched == [], f"the email fetched {fetched}"

        metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
        assert metrics["cssContentSize"]["width"] <= metrics["cssLayoutViewport"]["clientWidth"], (
            f"{name} ({locale}) scrolls sideways at {width} px")

        links = [a for a in browser.find_elements(By.CSS_SELECTOR, "a[href^='mailto:']")
                 if a.get_attribute("href").startswith(f"mailto:{SAMPLE_REPLY_TO}?")]
        want = expected_links(name, locale, rendered.subject) if buttons.has_buttons(name) else []
        assert [a.get_attribute("href") for a in links] == want
        for a in links:
            assert a.size["height"] >= 44, f"{a.text!r} is {a.size['height']} px high"
            assert a.size["width"] >= 44

        for text, colour, background, set_here in browser.execute_script(COLOURS):
            assert background is not None and set_here, f"{text!r} has no background of the email's own"
            assert contrast(colour, background) >= 4.5, f"{text!r}: {colour} on {background}"

        height = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": int(height) + 1, "deviceScaleFactor": 1, "mobile": width < 600})
        shot = browser.get_screenshot_as_png()
        path = folder / f"email-{locale}-{name.replace('/', '-')}-{width}.png"
        path.write_bytes(shot)
        assert path.stat().st_size > 10_000
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
