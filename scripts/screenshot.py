"""Screenshot an HTML report in Debian's headless chromium, offline (for docs/review.png).

.venv/bin/python scripts/screenshot.py PAGE.html OUT.png [--open-diff ID] [--height 2000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main() -> None:
    """Open the page from file://, optionally expand one diff, save a PNG."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    parser = argparse.ArgumentParser()
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--open-diff", dest="open_diff")
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--proxy-server=127.0.0.1:9",
        f"--window-size=1280,{args.height}",
    ):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            driver.get(args.page.resolve().as_uri())
            if args.open_diff:
                driver.find_element(By.CSS_SELECTOR, f"#{args.open_diff} summary").click()
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
    print(args.out)


if __name__ == "__main__":
    main()
