"""A real headless Chromium for page tests (Debian's chromium + chromedriver through selenium).

Network is off: an offline CDP network profile plus a proxy that goes nowhere, and the background
services that would phone home are disabled. Tests skip, saying why, when either binary is absent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("EXEC_AUTO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EXEC_AUTO_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--proxy-server=127.0.0.1:9",
    "--window-size=1280,1600",
)


def require_browser() -> None:
    """Skip the test (with the reason) unless chromium, chromedriver and selenium are there."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() or shutil.which(p))]
    if missing:
        pytest.skip(
            f"headless browser test needs {', '.join(missing)} (apt install chromium chromium-driver)"
        )
    pytest.importorskip(
        "selenium", reason="selenium is in the test extras: pip install -e '.[test]'"
    )


@contextmanager
def browser(profile: Path) -> Iterator[Any]:
    """A headless Chromium driven by selenium, offline, with a fresh profile."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: Any) -> list[str]:
    """Every URL the page asked for: CDP network events and the performance resource entries."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    urls += driver.execute_script(
        "return performance.getEntriesByType('resource').map(function(e){return e.name})"
    )
    return urls
