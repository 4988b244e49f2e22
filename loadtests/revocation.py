"""revocation: how long after a revocation is a stolen credential still let in, per replica?

Each trial: the victim logs in on a device; an attacker copies that device's cookie (a second
client, its own connection, which ignores Set-Cookie as a thief would). The attacker checks the
copy works, then the victim revokes it by one of three actions (`--action`):

- `logout`: the victim logs out on that device;
- `password`: the victim changes the password from a second device (which ends every *other*
  session: the stolen one);
- `admin`: an administrator revokes every credential of the victim (`--admin-email`,
  `--admin-password`, or AUTHLAB_ADMIN_EMAIL / AUTHLAB_ADMIN_PASSWORD; the runner passes the lab's).

Then the attacker keeps asking `GET /auth/me` every `--probe-interval` seconds until every
replica it reached has refused it (several refusals in a row), or `--revocation-timeout` passes.
For each replica (the `X-Replica` header) the window is the time from the revocation's answer to
the last answer that still let the attacker in, in milliseconds (0 when none did). It is
recorded twice:

- as a custom Locust metric: request type `REVOCATION`, name `window:<replica>`, the window as
  the "response time" (so Locust's tables, CSVs and distributed aggregation carry it);
- as one JSON line per trial and replica in `--revocation-file` (AUTHLAB_REVOCATION_FILE), with
  what the server claimed (`revoked`, `valid_until`); the runner puts it into summary.json.

With server-side sessions in Redis the window is 0: the next request after logout is refused.
JWT push mode (and the cached session store) answer `revoked: true` only once every replica has
confirmed, so their window should be 0 too; when a replica has not confirmed they answer
`revoked: false` with the `valid_until` their stale-feed bound guarantees (docs/push.md).
With stateless JWT it is bounded only by the access token's lifetime (plus the server's clock-skew
leeway), so the runner starts the lab with a short ACCESS_TOKEN_TTL for this scenario. Each line
also says whether the server's claim held: `past_valid_until_ms` > 0 would mean the attacker got
in after the `valid_until` the server announced.

Usage:
    python -m lab loadtest revocation --server jwt -u 4 -t 30s --action logout
    locust -f loadtests/revocation.py --headless -u 2 -r 2 -t 20s --host <lab url> \\
        --action admin --admin-email ... --admin-password ... --revocation-file /tmp/w.jsonl
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import gevent
from locust import events, task

from loadtests.answers import REFUSAL_CODES
from loadtests.common import PASSWORD, AuthUser, LoginFailed, body_of, credential_cookie, expect

#: The revocation actions a trial can take.
ACTIONS = ("logout", "password", "admin")

#: Stop probing after this many refusals in a row (at least twice the replicas seen).
MIN_REFUSALS = 4


@events.init_command_line_parser.add_listener
def add_revocation_arguments(parser) -> None:
    """The revocation scenario's options."""
    parser.add_argument(
        "--action",
        env_var="AUTHLAB_REVOCATION_ACTION",
        choices=ACTIONS,
        default="logout",
        help="How the victim revokes the stolen credential.",
    )
    parser.add_argument(
        "--admin-email", env_var="AUTHLAB_ADMIN_EMAIL", default="", help="Admin (--action admin)."
    )
    parser.add_argument(
        "--admin-password",
        env_var="AUTHLAB_ADMIN_PASSWORD",
        default="",
        is_secret=True,
        help="Admin's password (--action admin).",
    )
    parser.add_argument(
        "--revocation-timeout",
        env_var="AUTHLAB_REVOCATION_TIMEOUT",
        type=float,
        default=30.0,
        help="Give up probing after this many seconds (the window is then at least this).",
    )
    parser.add_argument(
        "--probe-interval",
        env_var="AUTHLAB_PROBE_INTERVAL",
        type=float,
        default=0.05,
        help="Seconds between the attacker's probes (the window's resolution).",
    )
    parser.add_argument(
        "--revocation-file",
        env_var="AUTHLAB_REVOCATION_FILE",
        default="",
        help="Append one JSON line per trial and replica to this file.",
    )


@dataclass
class ReplicaWindow:
    """What one replica did with the stolen credential after the revocation."""

    replica: str
    accepted_after: int = 0
    refused_after: int = 0
    #: Epoch seconds of the last answer that still let the attacker in.
    last_accepted: float | None = None
    #: Whether this replica's latest answer let the attacker in.
    still_open: bool = False

    def window_ms(self, revoked_at: float) -> float:
        """Milliseconds from the revocation's answer to the last accepted answer (0: none)."""
        if self.last_accepted is None:
            return 0.0
        return max(0.0, (self.last_accepted - revoked_at) * 1000)


class RevocationUser(AuthUser):
    """A victim, a thief holding a copy of the victim's cookie, and (maybe) an admin."""

    think_time = (0.2, 0.5)

    def set_up(self) -> None:
        """Register the victim; check the admin can log in when the action needs one."""
        options = self.environment.parsed_options
        self.action = options.action
        self.email = f"victim-{uuid.uuid4().hex}@authlab.example.com"
        self.password = PASSWORD
        self.user = self.register(self.email, self.password)
        self.device = self.new_client()  # the victim's laptop: its cookie gets stolen
        self.attacker = self.new_client(keep_cookies=False)
        self.second_device = self.new_client()  # where the victim changes the password
        self.admin = self.new_client()
        if self.action == "admin":
            if not (options.admin_email and options.admin_password):
                raise LoginFailed(
                    "--action admin needs --admin-email and --admin-password "
                    "(AUTHLAB_ADMIN_EMAIL / AUTHLAB_ADMIN_PASSWORD); the runner passes the lab's"
                )
            self.login_admin()

    def login_admin(self) -> None:
        """Log the admin in (again each trial: a short-lived access token may have expired).

        The client keeps its cookie, so the session server ends the admin's previous session at
        each new login instead of piling them up.
        """
        options = self.environment.parsed_options
        with self.admin.post(
            "/auth/login",
            json={"email": options.admin_email, "password": options.admin_password},
            name="/auth/login (admin)",
            catch_response=True,
        ) as response:
            body = expect(response, 200, "user")
            if body is not None and body["user"].get("role") != "admin":
                response.failure(f"{options.admin_email} is not an admin: {body['user']}")
                body = None
        if body is None:
            raise LoginFailed(f"the admin {options.admin_email} cannot log in")

    @task
    def trial(self) -> None:
        """Steal, revoke, probe until refused everywhere; record the window per replica."""
        options = self.environment.parsed_options
        self.login(self.device, self.email, self.password, name="/auth/login (victim)")
        stolen = credential_cookie(self.device)
        assert stolen is not None  # login() checked it
        headers = {"Cookie": f"{stolen[0]}={stolen[1]}"}
        if self.probe(headers, "/auth/me (attacker, before)")[0] is not True:
            return  # the failure is recorded: a copied credential must work before revocation

        claim = self.revoke()
        if claim is None:
            return
        revoked_at = time.time()

        replicas: dict[str, ReplicaWindow] = {}
        refusals, timed_out = 0, False
        deadline = revoked_at + options.revocation_timeout
        while True:
            accepted, replica, answered_at = self.probe(headers, "/auth/me (attacker, after)")
            if accepted is None:
                return  # an error answer: recorded as a failure, the trial says nothing
            seen = replicas.setdefault(replica, ReplicaWindow(replica))
            if accepted:
                seen.accepted_after += 1
                seen.last_accepted = answered_at
                seen.still_open = True
                refusals = 0
            else:
                seen.refused_after += 1
                seen.still_open = False
                refusals += 1
            if refusals >= max(MIN_REFUSALS, 2 * len(replicas)):
                break
            if time.time() >= deadline:
                timed_out = True
                break
            gevent.sleep(options.probe_interval)

        for seen in replicas.values():
            self.record(seen, revoked_at, claim, timed_out)

    def probe(self, headers: dict[str, str], name: str) -> tuple[bool | None, str, float]:
        """One attacker request: (let in?, replica, when answered). None: a wrong answer."""
        with self.attacker.get(
            "/auth/me", headers=headers, name=name, catch_response=True
        ) as response:
            replica = (response.headers or {}).get("X-Replica", "unknown")
            answered_at = time.time()
            if response.status_code == 401:
                body = body_of(response)
                if body is None or body.get("error") not in REFUSAL_CODES:
                    response.failure(f"401 without the contract's error body: {body}")
                    return None, replica, answered_at
                response.success()  # being refused is the right answer after a revocation
                return False, replica, answered_at
            body = expect(response, 200, "user")
            if body is None:
                return None, replica, answered_at
            if body["user"].get("email") != self.email:
                response.failure(f"the stolen credential answered another user: {body['user']}")
                return None, replica, answered_at
            return True, replica, answered_at

    def revoke(self) -> dict[str, Any] | None:
        """Take the configured action; return the server's claim ({revoked, valid_until})."""
        if self.action == "logout":
            return self.logout(self.device, name="/auth/logout (victim)")
        if self.action == "password":
            self.login(self.second_device, self.email, self.password, name="/auth/login (victim)")
            new_password = f"{PASSWORD}-{uuid.uuid4().hex[:8]}"
            payload = {"current_password": self.password, "new_password": new_password}
            with self.second_device.post(
                "/auth/password", json=payload, name="/auth/password", catch_response=True
            ) as response:
                body = expect(response, 200, "password_changed", "revoked", "valid_until")
            if body is not None:
                self.password = new_password
            return body
        self.login_admin()
        with self.admin.post(
            f"/admin/users/{self.user['id']}/revoke",
            name="/admin/users/[id]/revoke",
            catch_response=True,
        ) as response:
            return expect(response, 200, "revoked", "valid_until")

    def record(
        self, seen: ReplicaWindow, revoked_at: float, claim: dict[str, Any], timed_out: bool
    ) -> None:
        """Fire the REVOCATION metric and append the JSON line."""
        window = seen.window_ms(revoked_at)
        self.environment.events.request.fire(
            request_type="REVOCATION",
            name=f"window:{seen.replica}",
            response_time=window,
            response_length=0,
            exception=None,
            context={"action": self.action},
        )
        path = self.environment.parsed_options.revocation_file
        if not path:
            return
        # Was the server's claim honest? Positive: let in after the `valid_until` it announced.
        past_valid_until = None
        if claim.get("valid_until") and seen.last_accepted is not None:
            until = datetime.fromisoformat(claim["valid_until"]).timestamp()
            past_valid_until = round((seen.last_accepted - until) * 1000, 3)
        line = {
            "time": revoked_at,
            "action": self.action,
            "host": self.host,
            "window_ms": round(window, 3),
            # Still let in when the probing gave up: the true window is longer than recorded.
            "open_at_end": timed_out and seen.still_open,
            "server_revoked": claim.get("revoked"),
            "server_valid_until": claim.get("valid_until"),
            "past_valid_until_ms": past_valid_until,
            **asdict(seen),
        }
        # One write() of one line, in append mode: safe with `--processes` workers too.
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
