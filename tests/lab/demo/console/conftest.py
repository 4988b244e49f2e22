"""Fixtures for the console tests: the shared experiment lab, the console server, Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from lab import Lab
from lab.demo.console import start
from lab.demo.console.app import create_app
from lab.demo.console.scenario import Scenario
from lab.engine.state import REPO_ROOT
from tests.support import shared_lab

#: Short tokens keep the stateless window (lifetime + leeway) a few seconds long.
ACCESS_TTL = 8
#: A bound session's short cookie: its stolen copy dies this soon (the experiments' quick
#: scale runs the same, so the shared lab restarts for neither).
DBSC_COOKIE_TTL = 2
QUICK_ENV = {"JWT_LEEWAY": "1", "JWT_REFRESH_GRACE": "1", "DBSC_COOKIE_TTL": str(DBSC_COOKIE_TTL)}

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def console_lab() -> Iterator[Lab]:
    """The lab shared with the experiment tests, unbound (notebook 09 may have left it bound; the
    page keeps a mode's binding as the lab runs it), put back as it was afterwards."""
    lab = shared_lab.acquire()
    saved = asdict(lab.config)
    lab.reconfigure(env={**lab.config.env, **QUICK_ENV}, session_binding="none", jwt_binding="none")
    try:
        yield lab
    finally:
        try:
            lab.reconfigure(**saved)
        finally:
            shared_lab.release()


@pytest.fixture(scope="module")
def console_url(console_lab: Lab) -> Iterator[str]:
    """The console, served on a free port of 127.0.0.1 for the lab."""
    server, url = start(console_lab, access_ttl=ACCESS_TTL)
    yield url
    server.shutdown()


@pytest.fixture
def console_client(console_lab: Lab):
    """Flask's test client on the console app (no browser)."""
    return create_app(Scenario(console_lab, access_ttl=ACCESS_TTL)).test_client()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Debian's Chromium, headless, with a fresh profile, driven by Selenium."""
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMEDRIVER)):
        pytest.fail("Chromium is missing: `make setup` installs chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1600,1200",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


#: Where the screenshots are kept (results/ is git-ignored); CI can archive the folder.
ARTEFACTS = REPO_ROOT / "results" / "browser-test"


@pytest.fixture(scope="module")
def artefacts() -> Path:
    """The screenshot folder, emptied of the previous run's pictures."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob("*.png"):
        old.unlink()
    return ARTEFACTS
