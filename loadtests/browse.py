"""browse: log in once, then mostly GET /auth/me and GET /notes, some POST /notes.

The steady state of an app: what does each mechanism cost per authenticated request? Compare the
same run on both servers (and look at the `Server-Timing` header for the auth check alone).

Usage:
    python -m lab loadtest browse --server session -u 20 -t 30s --replicas 2
    locust -f loadtests/browse.py --host http://127.0.0.1:<session port>   # web UI
    locust -f loadtests/browse.py --headless -u 20 -r 5 -t 30s --host <lab url> --think-time 0
"""

from __future__ import annotations

from loadtests.common import BrowsingUser


class BrowseUser(BrowsingUser):
    """A logged-in user reading and writing notes (think time 0.1-0.5 s unless told)."""
