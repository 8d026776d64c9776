"""End to end in a real Chromium: log in, open the console, advance, spot-check a planted difference."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

from migration import phase
from tests.support.factories import PASSWORD, UserFactory, audit_pair, fresh_flags  # noqa: F401 (fixture)

# Debian's packages; the variables point elsewhere (or nowhere, to see the skip).
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("E2E_CHROMEDRIVER", "/usr/bin/chromedriver")
# Screenshots refresh the ones shown in the README only when asked (SCREENSHOTS=docs); otherwise
# they go to var/screenshots so a test run leaves the tracked files alone.
DOCS = Path(__file__).resolve().parents[2] / ("docs" if os.environ.get("SCREENSHOTS") == "docs" else "var/screenshots")
PLANTED_PK = 4242

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e .[test])"
)
if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
    pytest.skip(
        f"no browser: {CHROMIUM} and {CHROMEDRIVER} are needed "
        "(apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile that never talks to the network on its own."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options
    )
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def planted_difference() -> Iterator[int]:
    """One audit row on both databases whose e-mail differs in case; removed afterwards from SQLite,
    which the transactional flush does not touch (Django does not manage the legacy tables there)."""
    audit_pair(PLANTED_PK, user_id="ayse@example.com")
    yield PLANTED_PK
    with connections["sqlite"].cursor() as cursor:
        cursor.execute("DELETE FROM security_audit_logs WHERE id = %s", [PLANTED_PK])


def wait_for(driver: webdriver.Chrome, css: str) -> object:
    return WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    """The whole page, not just the viewport, as docs/console-<name>.png."""
    DOCS.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], 4000),
                "scale": 1,
            },
        },
    )
    (DOCS / f"console-{name}.png").write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.django_db(transaction=True, databases=["default", "sqlite"])
@pytest.mark.usefixtures("fresh_flags")
def test_console_browser_advance_spotcheck_and_repair(
    live_server: object, browser: webdriver.Chrome, planted_difference: int
) -> None:
    user = UserFactory(
        username="operator",
        perms=[
            "migration.change_phase",
            "migration.repair_rows",
            "core.view_securityauditlog",
            "core.add_securityauditlog",
            "core.change_securityauditlog",
        ],
    )

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, "#site-name")

    browser.find_element(By.LINK_TEXT, "Cutover console").click()
    wait_for(browser, "#cutover-console")
    screenshot(browser, "overview")

    assert browser.find_element(By.CSS_SELECTOR, "[data-phase]").text == "0 sqlite"
    gate = browser.find_element(By.CSS_SELECTOR, '[data-gate="outbox"]')
    assert gate.get_attribute("data-passed") == "yes"
    browser.find_element(By.ID, "advance").click()
    message = wait_for(browser, ".messagelist .success")
    assert "Advanced the cutover from 0 sqlite to 1 dual-write" in message.text
    assert browser.find_element(By.CSS_SELECTOR, "[data-phase]").text == "1 dual-write"
    assert phase.current_state_fresh().phase == phase.Phase.DUAL_WRITE
    screenshot(browser, "advanced")

    Select(browser.find_element(By.NAME, "model")).select_by_value("core.SecurityAuditLog")
    browser.find_element(By.NAME, "pk").send_keys(str(planted_difference))
    browser.find_element(By.NAME, "sample").clear()
    browser.find_element(By.ID, "run-spotcheck").click()
    row = wait_for(
        browser, f'table.spotcheck-row[data-pk="{planted_difference}"] tr[data-field="user_id"]'
    )
    assert "differs" in row.get_attribute("class")
    assert row.value_of_css_property("background-color") != browser.find_element(
        By.CSS_SELECTOR, 'tr[data-field="action"] td'
    ).value_of_css_property("background-color")
    highlighted = browser.find_elements(By.CSS_SELECTOR, "tr.differs")
    assert [r.get_attribute("data-field") for r in highlighted] == ["user_id"]
    screenshot(browser, "spotcheck")

    browser.find_element(By.CSS_SELECTOR, f'.repair-row[data-pk="{planted_difference}"]').click()
    wait_for(browser, "#confirm-repair")
    assert "differs in user_id" in browser.find_element(By.ID, "repair-confirm").text
    screenshot(browser, "repair-confirm")
    browser.find_element(By.ID, "confirm-repair").click()
    message = wait_for(browser, ".messagelist .success")
    assert f"updated {planted_difference}" in message.text
    heading = browser.find_element(
        By.CSS_SELECTOR, f'h2.row-heading[data-pk="{planted_difference}"]'
    )
    assert heading.get_attribute("data-differs") == "no"
    assert not browser.find_elements(By.CSS_SELECTOR, "tr.differs")
    screenshot(browser, "repaired")

    browser.get(f"{live_server.url}/admin/core/securityauditlog/?db=sqlite")
    wait_for(browser, "#changelist")
    assert browser.find_elements(
        By.CSS_SELECTOR, ".object-tools .addlink"
    )  # sqlite is the primary in phase 1
    browser.get(f"{live_server.url}/admin/core/securityauditlog/?db=default")
    wait_for(browser, "#changelist")
    assert (
        "not the primary: read-only" in browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    )
    assert not browser.find_elements(By.CSS_SELECTOR, ".object-tools .addlink")
    screenshot(browser, "toggle")
