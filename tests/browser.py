"""A real headless Chromium for the dashboard tests: Debian's `chromium` driven through its
`chromedriver` by Selenium, which downloads nothing. JavaScript is switched off, as the
dashboard must work without it, and every request the browser makes is recorded."""

from __future__ import annotations

import base64
import json
import math
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1280,1400")
MISSING = "{} is not installed: Debian's chromium and chromium-driver packages are needed (.ci/run installs them)"


def chromium(profile: Path) -> webdriver.Chrome:
    """A fresh headless Chromium with its own empty profile folder."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert browser, MISSING.format("chromium")
    assert driver, MISSING.format("chromedriver")
    options = Options()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def save_page(driver: webdriver.Chrome, path: Path) -> None:
    """A screenshot of the whole page, however long, through the DevTools protocol."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": int(size["width"]), "height": math.ceil(size["height"]), "deviceScaleFactor": 1, "mobile": False})
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.write_bytes(base64.b64decode(shot["data"]))


def follow(driver: webdriver.Chrome, element) -> None:
    """Click a link or a submit button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(lambda _: replaced(page))


def replaced(element) -> bool:
    """Whether ``element``'s page is gone. Caught mid-navigation, Chrome may answer "does not
    belong to the document" instead of calling the element stale: that is gone too."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """Every URL the browser asked for since the last call."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
