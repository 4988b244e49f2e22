"""What every AuthLab scenario shares: an account per user, login that fails loudly, checks.

Every user is a `FastHttpUser` (about twice the requests per CPU second of `HttpUser`, which
matters: the load generator shares the machine's cores with the lab). Every request is made with
`catch_response=True` and checked for its status *and* its body: a wrong answer is a Locust
failure, never a silent success. URLs are grouped with `name=` so the statistics have one row per
endpoint, not one per note id.

How users get in: each user registers a fresh account (a uuid email) and logs in. The lab raises
the servers' failed-login rate limit, and only failures count, so thousands of logins from one
address are fine. The credential is the cookie (`sid` on the session server, `access_token` on the
JWT server), exactly what a browser sends; FastHttpUser keeps cookies per user.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

from locust import FastHttpUser, events, task
from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager
from locust.runners import WorkerRunner
from locust.stats import StatsEntry

#: The cookies that carry a credential: the session server's id, the JWT server's access token.
CREDENTIAL_COOKIES = ("sid", "access_token")

#: Every load-test account shares this password (bcrypt's cost, not its value, is what we load).
PASSWORD = "load-test-password-1234"  # noqa: S105 (a throwaway test account)

#: Request types that are our own metrics, not HTTP requests (kept out of the HTTP summary).
CUSTOM_REQUEST_TYPES = ("REVOCATION",)

#: The runner asks for the HTTP-only summary here (see `write_http_summary`).
STATS_FILE_ENV = "AUTHLAB_STATS_FILE"

#: Think time between tasks, in seconds, when `--think-time` is not given.
DEFAULT_THINK_TIME = (0.1, 0.5)


class LoginFailed(RuntimeError):
    """A user could not get in: the scenario cannot measure anything meaningful without it."""


@events.init_command_line_parser.add_listener
def add_common_arguments(parser) -> None:
    """Options every scenario understands (also settable in the web UI and by env vars)."""
    parser.add_argument(
        "--think-time",
        env_var="AUTHLAB_THINK_TIME",
        default="",
        help="Seconds between a user's tasks, 'MIN,MAX' or one number; '0' for no pause "
        "(closed-loop saturation). Default: the scenario's own.",
    )


@events.quitting.add_listener
def write_http_summary(environment, **_kwargs) -> None:
    """Write the HTTP requests' totals and percentiles, without our custom metrics, as JSON.

    Locust's "Aggregated" row mixes every request type, so a revocation run's p95 would be the
    attackers' windows (seconds) rather than HTTP latency. The runner reads this file instead
    when it exists. Only the master (or the single process) writes it: it holds the merged stats.
    """
    path = os.environ.get(STATS_FILE_ENV)
    if not path or isinstance(environment.runner, WorkerRunner):
        return
    stats = environment.stats
    http = StatsEntry(stats, "HTTP", "")
    for entry in stats.entries.values():
        if entry.method not in CUSTOM_REQUEST_TYPES:
            http.extend(entry)
    summary = {
        "requests": http.num_requests,
        "failures": http.num_failures,
        "rps": http.total_rps,
        "avg_ms": http.avg_response_time,
        "max_ms": http.max_response_time,
    }
    for label, fraction in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        summary[label] = http.get_response_time_percentile(fraction) if http.num_requests else None
    with open(path, "w", encoding="utf-8") as out:
        json.dump(summary, out)


def parse_think_time(value: str, default: tuple[float, float]) -> tuple[float, float]:
    """'0.1,0.5' -> (0.1, 0.5); '1' -> (1, 1); '' -> the default."""
    if not value:
        return default
    parts = [float(p) for p in value.split(",")]
    low, high = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    if low < 0 or high < low:
        raise ValueError(f"--think-time {value!r}: want MIN,MAX with 0 <= MIN <= MAX")
    return low, high


def unique_email(prefix: str = "load") -> str:
    """A fresh address, so concurrent users and repeated runs never collide (409)."""
    return f"{prefix}-{uuid.uuid4().hex}@authlab.example.com"


def credential_cookie(client: FastHttpSession) -> tuple[str, str] | None:
    """The (name, value) of the credential cookie a client holds, if any."""
    for cookie in client.cookiejar:
        if cookie.name in CREDENTIAL_COOKIES and cookie.value:
            return cookie.name, cookie.value
    return None


def body_of(response: ResponseContextManager) -> dict[str, Any] | None:
    """The JSON object of a response, or None if it is not one."""
    try:
        body = json.loads(response.content or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def expect(response: ResponseContextManager, status: int, *keys: str) -> dict[str, Any] | None:
    """Check the status and that the JSON body has `keys`; mark a failure and return None if not.

    The failure message carries the server's own error code and message, so Locust's failures
    table says *why* (e.g. `401 unauthorized: This session has ended...`).
    """
    body = body_of(response)
    if response.status_code != status:
        detail = f"{body.get('error')}: {body.get('message')}" if body else "(no JSON body)"
        response.failure(f"expected {status}, got {response.status_code} {detail}")
        return None
    if body is None:
        response.failure(f"{status} without a JSON object body")
        return None
    missing = [key for key in keys if key not in body]
    if missing:
        response.failure(f"{status} body lacks {', '.join(missing)}")
        return None
    return body


class AuthUser(FastHttpUser):
    """A user with an account and a logged-in cookie. Subclasses add the task mix."""

    abstract = True

    #: The scenario's think time when `--think-time` is not given.
    think_time: tuple[float, float] = DEFAULT_THINK_TIME

    def wait_time(self) -> float:
        """Think time from `--think-time`, else the scenario's default."""
        options = self.environment.parsed_options
        low, high = parse_think_time(getattr(options, "think_time", ""), self.think_time)
        return random.uniform(low, high)

    def on_start(self) -> None:
        """Register a fresh account and log in; raise LoginFailed (loudly) if that fails."""
        self.email = unique_email()
        self.password = PASSWORD
        self.user = self.register(self.email, self.password)
        self.login(self.client, self.email, self.password)

    def new_client(self, keep_cookies: bool = True) -> FastHttpSession:
        """Another HTTP client for this user (a second device, an attacker, an admin).

        With `keep_cookies=False` the client ignores Set-Cookie: a thief replays the value they
        stole and does not obey the server's request to forget it.
        """
        client = FastHttpSession(
            base_url=self.host,
            request_event=self.environment.events.request,
            user=self,
            insecure=True,
            network_timeout=self.network_timeout,
            connection_timeout=self.connection_timeout,
            max_retries=0,
        )
        if not keep_cookies:
            client.client.cookiejar = None
        return client

    # -- account actions, shared by every scenario ------------------------------------------

    def register(self, email: str, password: str) -> dict[str, Any]:
        """POST /auth/register; expect 201 and the user we asked for."""
        payload = {"email": email, "password": password, "name": "Load Test"}
        with self.client.post(
            "/auth/register", json=payload, name="/auth/register", catch_response=True
        ) as response:
            body = expect(response, 201, "user")
            if body is not None and body["user"].get("email") != email:
                response.failure(f"registered {email} but the server answered {body['user']}")
                body = None
        if body is None:
            raise LoginFailed(f"could not register {email}: {response.status_code}")
        return body["user"]

    def login(
        self, client: FastHttpSession, email: str, password: str, name: str = "/auth/login"
    ) -> dict[str, Any]:
        """POST /auth/login on `client`; expect 200, our user, and a credential cookie."""
        payload = {"email": email, "password": password}
        with client.post("/auth/login", json=payload, name=name, catch_response=True) as response:
            body = expect(response, 200, "user")
            if body is not None and body["user"].get("email") != email:
                response.failure(f"logged in as {email} but the server answered {body['user']}")
                body = None
            elif body is not None and credential_cookie(client) is None:
                response.failure("200 without a credential cookie (sid or access_token)")
                body = None
        if body is None:
            raise LoginFailed(
                f"login as {email} failed ({response.status_code}): "
                "is the lab up, and its LOGIN_RATE_LIMIT raised?"
            )
        return body["user"]

    def logout(self, client: FastHttpSession, name: str = "/auth/logout") -> dict[str, Any] | None:
        """POST /auth/logout; expect 200 and the server's statement of what it revoked."""
        with client.post("/auth/logout", name=name, catch_response=True) as response:
            body = expect(response, 200, "revoked", "valid_until")
            if body is not None and not isinstance(body["revoked"], bool):
                response.failure(f"'revoked' is not a boolean: {body['revoked']!r}")
                body = None
        return body

    def me(self, client: FastHttpSession | None = None, name: str = "/auth/me") -> bool:
        """GET /auth/me; expect 200 and *our* user (a mixed-up session is a failure)."""
        client = client or self.client
        with client.get("/auth/me", name=name, catch_response=True) as response:
            body = expect(response, 200, "user")
            if body is not None and body["user"].get("email") != self.email:
                response.failure(f"/auth/me answered another user: {body['user']}")
                return False
        return body is not None


class BrowsingUser(AuthUser):
    """The steady state: logged in once, then mostly reads, some writes.

    The mix (6 : 3 : 1) keeps the auth check on every request while SQL work stays small, so
    the numbers show what each mechanism costs per request.
    """

    abstract = True

    @task(6)
    def who_am_i(self) -> None:
        """GET /auth/me: the auth check and nothing else."""
        self.me()

    @task(3)
    def list_notes(self) -> None:
        """GET /notes: the auth check and one small SQL read."""
        with self.client.get("/notes", name="/notes", catch_response=True) as response:
            body = expect(response, 200, "notes")
            if body is not None and not isinstance(body["notes"], list):
                response.failure("'notes' is not a list")

    @task(1)
    def add_note(self) -> None:
        """POST /notes: the auth check and one small SQL write."""
        text = f"note {uuid.uuid4().hex[:12]}"
        with self.client.post(
            "/notes", json={"text": text}, name="/notes", catch_response=True
        ) as response:
            body = expect(response, 201, "note")
            if body is not None and body["note"].get("text") != text:
                response.failure(f"stored note differs: {body['note']}")
