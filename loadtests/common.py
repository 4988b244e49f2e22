"""What every AuthLab scenario shares: an account per user, login that fails loudly, checks.

Every user is a `FastHttpUser` (about twice the requests per CPU second of `HttpUser`, which
matters: the load generator shares the machine's cores with the lab). Every request is made with
`catch_response=True` and checked for its status *and* its body: a wrong answer is a Locust
failure, never a silent success. URLs are grouped with `name=` so the statistics have one row per
endpoint, not one per note id. How an answer is read and judged: loadtests/answers.py.

How users get in: each user registers a fresh account (a uuid email) and logs in. The lab raises
the servers' failed-login rate limit, and only failures count, so thousands of logins from one
address are fine. The credential is the cookie (`sid` on the session server, `access_token` on the
JWT server), exactly what a browser sends; FastHttpUser keeps cookies per user.

A replica whose password-hashing slots are all busy answers register and login with 503
`hashing_busy` and Retry-After (servers/core/passwords.py): the user waits as told and tries
again, and the busy answer is counted in its own row (`/auth/login (busy, retried)`), not as a
failure. Every request is recorded under its phase, setup, ramp or steady (loadtests/phases.py).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from typing import Any

from locust import FastHttpUser, events, task
from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager
from locust.runners import MasterRunner

from loadtests.answers import (
    CREDENTIAL_COOKIES,
    MAX_BUSY_RETRIES,
    body_of,
    busy_retry_after,
    credential_cookie,
    expect,
    login_hint,
    who_answered,
)
from loadtests.keyholder import binds_sessions, binds_tokens, hold_key, hold_session_key
from loadtests.phases import PHASES_DIR_ENV, PhaseRecorder

__all__ = [
    "CREDENTIAL_COOKIES",
    "DEFAULT_THINK_TIME",
    "MAX_BUSY_RETRIES",
    "PASSWORD",
    "AuthUser",
    "BrowsingUser",
    "LoginFailed",
    "body_of",
    "busy_retry_after",
    "credential_cookie",
    "expect",
    "login_hint",
    "parse_think_time",
    "unique_email",
    "who_answered",
]

#: Every load-test account shares this password (bcrypt's cost, not its value, is what we load).
PASSWORD = "load-test-password-1234"  # noqa: S105 (a throwaway test account)

#: This process's phase recorder (made at `init`, when the runner exists).
RECORDER = PhaseRecorder()

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


@events.init.add_listener
def record_phases(environment, **_kwargs) -> None:
    """Record every request of this process under its phase (setup, ramp, steady)."""
    RECORDER.runner = environment.runner
    environment.events.request.add_listener(RECORDER.on_request)


@events.test_stop.add_listener
def close_steady_window(**_kwargs) -> None:
    """The steady state ends when the test stops, not when the process quits."""
    RECORDER.stopped()


@events.quitting.add_listener
def write_phases(environment, **_kwargs) -> None:
    """Write this process's rows for the runner (a master makes no requests of its own)."""
    directory = os.environ.get(PHASES_DIR_ENV)
    if directory and not isinstance(environment.runner, MasterRunner):
        RECORDER.write(directory)


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


def hold_keys(client: FastHttpSession) -> FastHttpSession:
    """On a bound server, `client` holds a key of its own, as a binding-aware browser does:
    it signs a DPoP proof per request (JWT_BINDING=dpop), or registers and renews a DBSC
    session (SESSION_BINDING=dbsc). Unbound, it is left as it is."""
    if binds_tokens():
        return hold_key(client)
    if binds_sessions():
        return hold_session_key(client)
    return client


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

    #: "setup" while `on_start` runs, then "run": the phase recorder reads it from `context()`.
    phase = "run"

    def context(self) -> dict[str, Any]:
        """Every request carries its user's phase to the request event."""
        return {"phase": self.phase}

    def on_start(self) -> None:
        """Register a fresh account and log in (the setup phase); raise LoginFailed if not."""
        self.phase = "setup"
        hold_keys(self.client)
        RECORDER.setup_started()
        try:
            self.set_up()
        finally:
            self.phase = "run"
            RECORDER.setup_finished()

    def set_up(self) -> None:
        """What a user does before its tasks: an account and a logged-in cookie."""
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
        return hold_keys(client)

    # -- account actions, shared by every scenario ------------------------------------------

    def post_patiently(self, client: FastHttpSession, path: str, payload: dict, name: str, check):
        """POST, waiting out busy answers (503 hashing_busy + Retry-After) as a client should.

        A busy answer goes to its own row, `<name> (busy, retried)`, as a success: the server
        said "not now" on purpose. `check(response)` judges the real answer; returns
        (body or None, the last response).
        """
        for _ in range(MAX_BUSY_RETRIES + 1):
            with client.post(path, json=payload, name=name, catch_response=True) as response:
                wait = busy_retry_after(response)
                if wait is None:
                    return check(response), response
                response.request_meta["name"] = f"{name} (busy, retried)"
                response.success()
            time.sleep(wait)  # gevent's sleep: other users carry on
        return None, response

    def register(self, email: str, password: str) -> dict[str, Any]:
        """POST /auth/register; expect 201 and the user we asked for."""
        payload = {"email": email, "password": password, "name": "Load Test"}

        def check(response: ResponseContextManager) -> dict[str, Any] | None:
            body = expect(response, 201, "user")
            if body is not None and body["user"].get("email") != email:
                response.failure(f"registered {email} but the server answered {body['user']}")
                return None
            return body

        body, response = self.post_patiently(
            self.client, "/auth/register", payload, "/auth/register", check
        )
        if body is None:
            raise LoginFailed(f"could not register {email}: {login_hint(response)}")
        return body["user"]

    def login(
        self, client: FastHttpSession, email: str, password: str, name: str = "/auth/login"
    ) -> dict[str, Any]:
        """POST /auth/login on `client`; expect 200, our user, and a credential cookie."""
        payload = {"email": email, "password": password}

        def check(response: ResponseContextManager) -> dict[str, Any] | None:
            body = expect(response, 200, "user")
            if body is not None and body["user"].get("email") != email:
                response.failure(f"logged in as {email} but the server answered {body['user']}")
                return None
            if body is not None and credential_cookie(client) is None:
                response.failure(
                    f"200 without a credential cookie ({' or '.join(CREDENTIAL_COOKIES)})"
                )
                return None
            return body

        body, response = self.post_patiently(client, "/auth/login", payload, name, check)
        if body is None:
            raise LoginFailed(f"login as {email} failed: {login_hint(response)}")
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
