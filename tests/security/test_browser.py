"""A real browser (Debian's Chromium, headless) against a real gunicorn of each server: what the
cookies' flags and the origin check do for a user, seen from where it matters.

Three origins: the API on http://127.0.0.1:API, an attacker's page on the same host at another
port (same *site*: SameSite cookies go along) and one on http://localhost:OTHER (another site).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

from tests.security.served import cookie_name, gunicorn

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Chromium is missing: `make setup` installs chromium and chromium-driver (apt)",
)

USER = {"email": "browser@example.com", "password": "correct-horse-1", "name": "Browser"}

#: A page that forges two state-changing requests to the API, as a hostile site would: a form
#: POST (the classic CSRF, no preflight) and a no-cors fetch with the browser's cookies.
ATTACK = """<!doctype html><title>cute cats</title>
<form id=f method=post action="{api}/auth/logout"></form>
<script>
fetch("{api}/auth/logout-all", {{method: "POST", mode: "no-cors", credentials: "include"}})
  .finally(() => fetch("{api}/notes", {{method: "POST", mode: "no-cors", credentials: "include",
       headers: {{"Content-Type": "text/plain"}}, body: '{{"text": "forged"}}'}}))
  .finally(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script>"""


class Pages(BaseHTTPRequestHandler):
    """Serves the attacker's page for whatever API the test names."""

    api = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = ATTACK.format(api=self.api).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def attacker() -> Iterator[int]:
    """The attacker's web server on a free port of 127.0.0.1 (reached as 127.0.0.1 or localhost)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Headless Chromium with a fresh profile, driven by chromedriver."""

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture(scope="module", params=["session", "jwt-stateless", "jwt-denylist", "jwt-refresh"])
def served(request, redis_proc, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A gunicorn of this configuration with one registered user (shared by this module's tests)."""
    with gunicorn(request.param, redis_proc.url, tmp_path_factory.mktemp("api")) as url:
        response = requests.post(f"{url}/auth/register", json=USER, timeout=10)
        assert response.status_code == 201, response.text
        yield url, request.param


@pytest.fixture
def api(served, browser) -> tuple[str, str]:
    """The served API, and a browser without cookies."""
    browser.delete_all_cookies()
    return served


def call(browser, method: str, path: str, body: dict | None = None) -> dict:
    """fetch() from a page of the API's own origin (what the lab's own front end would do)."""
    script = """
        const [method, path, body, done] = arguments;
        const init = {method, credentials: "same-origin", headers: {}};
        if (body !== null) { init.body = JSON.stringify(body);
                             init.headers["Content-Type"] = "application/json"; }
        fetch(path, init).then(async r => done({status: r.status, body: await r.json()}))
                         .catch(e => done({status: 0, body: String(e)}));
    """
    return browser.execute_async_script(script, method, path, body)


def credential(browser, name: str) -> dict:
    """The credential cookie as the browser stores it (what a thief with the disk would copy)."""
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert name in cookies, sorted(cookies)
    return cookies[name]


def logged_in(browser, url: str, server: str) -> dict:
    """Open the API's origin, log in with fetch, return the stored credential cookie."""
    browser.get(f"{url}/health")
    answer = call(
        browser, "POST", "/auth/login", {"email": USER["email"], "password": USER["password"]}
    )
    assert answer["status"] == 200, answer
    return credential(browser, cookie_name(server))


def test_the_credential_cookie_is_invisible_to_scripts_and_flagged(browser, api):
    url, server = api
    cookie = logged_in(browser, url, server)
    assert cookie["value"] not in browser.execute_script("return document.cookie")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/")
    assert cookie["secure"] is False  # plain http on 127.0.0.1: COOKIE_SECURE=0, as documented
    if server == "jwt-refresh":
        browser.get(f"{url}/auth/refresh")  # a page on its path (a GET: 405), to see it at all
        refresh = credential(browser, "refresh_token")
        assert (refresh["httpOnly"], refresh["sameSite"]) == (True, "Lax")
        assert refresh["path"] == "/auth/refresh"  # sent to that one endpoint only


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["same-site", "cross-site"])
def test_another_origin_cannot_change_state_or_cookies(browser, api, attacker, host):
    url, server = api
    before = logged_in(browser, url, server)
    Pages.api = url
    browser.get(f"http://{host}:{attacker}/cats.html")  # the form submits itself
    # The form's navigation lands on the API's answer: the origin check's 403, nothing else.
    WebDriverWait(browser, 15).until(lambda d: d.current_url.startswith(url))
    page = WebDriverWait(browser, 15).until(lambda d: d.find_element("tag name", "body").text)
    assert json.loads(page)["error"] == "cross_origin_request"
    browser.get(f"{url}/health")
    assert credential(browser, cookie_name(server))["value"] == before["value"]
    assert call(browser, "GET", "/auth/me")["status"] == 200  # still logged in
    assert call(browser, "GET", "/notes")["body"]["notes"] == []  # no forged note


def test_a_stolen_copy_after_logout_gets_what_the_logout_promised(browser, api):
    url, server = api
    stolen = logged_in(browser, url, server)["value"]
    answer = call(browser, "POST", "/auth/logout")
    assert answer["status"] == 200, answer
    promise = answer["body"]
    replay = requests.get(
        f"{url}/auth/me", cookies={cookie_name(server): stolen}, timeout=10
    ).status_code
    if promise["revoked"]:
        assert replay == 401, promise
    else:  # stateless JWT: the answer says the copy works until valid_until, and it does
        assert promise["valid_until"] is not None and replay == 200, promise
