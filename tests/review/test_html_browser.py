"""The HTML review in a real headless browser: offline from file://, ranked, expandable, self-contained."""

from __future__ import annotations

import os
from pathlib import Path

from exec_auto.cli import main
from tests.batch.support import add_ticket, agent_command, commit_all
from tests.conftest import make_project
from tests.review.browser import browser, requested_urls, require_browser

UNVERIFIED = 'title: "a"\nacceptance_criteria:\n  - criterion: "a-1.txt exists"\n    verify: "test -f a-1.txt"\n  - "Reads well"\nticket:\n  type: feature\n  status: planned\n'


def _artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EXEC_AUTO_TEST_ARTEFACTS", tmp_path / "artefacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _night(tmp_path: Path, monkeypatch) -> Path:
    """A batch of three: a (unverified claim), b (every step fails), c (clean); its HTML page."""
    root = tmp_path / "proj"
    root.mkdir()
    make_project(root, "a", ["One", "Two"], spec=UNVERIFIED)
    add_ticket(root, "b", ("One", "Two"))
    add_ticket(root, "c", ("One", "Two"))
    commit_all(root)
    monkeypatch.chdir(root)
    report_dir = tmp_path / "night"
    code = main(
        [
            "run", "a", "b", "c", "--agent", "command", "--agent-command",
            agent_command(fail=("b",), extra='printf "def f():\\n    return 1\\n" > "${T}_mod.py"'),
            "--no-gates", "--force", "--report-dir", str(report_dir),
        ]
    )  # fmt: skip
    assert code == 1
    return report_dir / "batch-report.html"


def test_batch_review_in_a_headless_browser(tmp_path, monkeypatch):
    require_browser()
    page = _night(tmp_path, monkeypatch)
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    from selenium.webdriver.common.by import By

    with browser(tmp_path / "profile") as driver:
        driver.get_log("performance")  # drain the browser's own start-up pages
        driver.get(page.as_uri())
        rows = driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
        ranked = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
        assert ranked == ["a", "b", "c"]
        verdicts = [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows]
        assert verdicts == ["partial", "failed", "proven"]
        assert "needs eyes" in rows[0].text and "needs eyes" not in rows[2].text
        crit = driver.find_elements(By.CSS_SELECTOR, "#t-a table.criteria tbody tr")
        assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in crit] == [
            "a-1.txt exists",
            "Reads well",
        ]
        assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in crit] == ["met", "unverified"]
        diff = driver.find_element(By.CSS_SELECTOR, "#diff-c-2")
        body = diff.find_element(By.CSS_SELECTOR, "pre.diff")
        assert diff.get_attribute("open") is None and not body.is_displayed()
        diff.find_element(By.TAG_NAME, "summary").click()
        assert diff.get_attribute("open") is not None and body.is_displayed()
        assert "c 2" in body.text
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(_artefacts(tmp_path) / "batch-review.png"))
        outside = [u for u in requested_urls(driver) if not u.startswith(("file:", "data:"))]
        assert outside == []
        # The ticket's own page, archived with it.
        driver.get_log("performance")
        driver.get((page.parents[1] / "proj" / "specs" / "archive" / "c" / "report.html").as_uri())
        assert len(driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")) == 1
        assert driver.find_element(By.CSS_SELECTOR, "#ended").text == "ran to the end"
        assert [u for u in requested_urls(driver) if not u.startswith(("file:", "data:"))] == []
