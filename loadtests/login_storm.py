"""login-storm: register, log in, log out, over and over.

bcrypt dominates every login (on purpose: its cost is the defence against password guessing),
and each mechanism writes something different at login and logout: the session server creates
and deletes a Redis record and its index entry; the JWT server signs a token and, depending on
its mode, writes a denylist entry or a refresh family. Compare the two servers' login rows.

Each user registers once, then churns: log out, log in again, check /auth/me (weight 4); now and
then a newcomer registers a fresh account and switches to it (weight 1).

Usage:
    python -m lab loadtest login-storm --server session -u 10 -t 30s --bcrypt-rounds 12
    locust -f loadtests/login_storm.py --headless -u 10 -r 5 -t 30s --host <lab url>
"""

from __future__ import annotations

from locust import task

from loadtests.common import AuthUser, unique_email


class LoginStormUser(AuthUser):
    """A user who keeps logging out and in again."""

    think_time = (0.0, 0.2)

    @task(4)
    def relogin(self) -> None:
        """Log out (the server says what it revoked), log in again, check who we are."""
        self.logout(self.client)
        self.login(self.client, self.email, self.password)
        self.me()

    @task(1)
    def newcomer(self) -> None:
        """Register a fresh account and move this user onto it."""
        self.logout(self.client)
        self.email = unique_email("storm")
        self.user = self.register(self.email, self.password)
        self.login(self.client, self.email, self.password)
        self.me()
