"""End to end in a real Chromium: log in, open the cutover console, advance, spot-check a planted difference."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

from tests.migration.factories import PASSWORD, UserFactory, audit_pair

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DOCS = Path(__file__).resolve().parents[2] / "docs"
PLANTED_PK = 4242

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
    pytest.skip(
        f"no browser: {CHROMIUM} and {CHROMEDRIVER} are needed "
        "(apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile that never talks to the network on its own."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
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
    return WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height, 800), 4000))
    driver.save_screenshot(str(DOCS / f"console-{name}.png"))
    driver.set_window_size(1400, 1000)


@pytest.mark.django_db(transaction=True, databases=["default", "sqlite"])
def test_console_browser_advance_and_spotcheck(live_server: object, browser: webdriver.Chrome,
                                               planted_difference: int) -> None:
    user = UserFactory(username="operator", perms=["migration.change_phase", "migration.repair_rows"])

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, "#site-name")

    browser.find_element(By.LINK_TEXT, "Cutover console").click()
    wait_for(browser, "#cutover-console")
    screenshot(browser, "overview")

    before = browser.find_element(By.CSS_SELECTOR, "[data-phase]").text
    browser.find_element(By.ID, "advance").click()
    wait_for(browser, ".messagelist .success")
    after = browser.find_element(By.CSS_SELECTOR, "[data-phase]").text
    assert after != before
    screenshot(browser, "advanced")

    Select(browser.find_element(By.NAME, "model")).select_by_value("core.SecurityAuditLog")
    browser.find_element(By.NAME, "pk").send_keys(str(planted_difference))
    browser.find_element(By.NAME, "sample").clear()
    browser.find_element(By.ID, "run-spotcheck").click()
    row = wait_for(browser, f'table.spotcheck-row[data-pk="{planted_difference}"] tr[data-field="user_id"]')
    assert "differs" in row.get_attribute("class")
    assert row.value_of_css_property("background-color") != browser.find_element(
        By.CSS_SELECTOR, 'tr[data-field="action"] td'
    ).value_of_css_property("background-color")
    highlighted = browser.find_elements(By.CSS_SELECTOR, "tr.differs")
    assert [r.get_attribute("data-field") for r in highlighted] == ["user_id"]
    screenshot(browser, "spotcheck")
