"""Schemathesis hooks (SCHEMATHESIS_HOOKS): every generated request is sent logged in, with a
credential from a real login; a 401 (the run logged itself out) fetches a fresh one."""

from __future__ import annotations

import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=None)
class LoginCookie:
    """Log in as the run's user; put the credential cookie on each case."""

    def get(self, case, context) -> str:
        """POST /auth/login and keep the cookie the server set."""
        response = requests.post(
            os.environ["AUTHLAB_ST_URL"] + "/auth/login",
            json={
                "email": os.environ["AUTHLAB_ST_EMAIL"],
                "password": os.environ["AUTHLAB_ST_PASSWORD"],
            },
            timeout=10,
        )
        response.raise_for_status()
        return response.cookies[os.environ["AUTHLAB_ST_COOKIE"]]

    def set(self, case, data: str, context) -> None:
        """Send it as the browser would: in the cookie."""
        case.cookies = {**(case.cookies or {}), os.environ["AUTHLAB_ST_COOKIE"]: data}
