"""Cross-site request forgery defence: a state-changing request from another origin is refused.

SameSite=Lax keeps our cookies off cross-*site* POSTs, but a page on the same host at another
port (or a sibling subdomain) is the same *site*: its form POST carries our cookies. So every
POST/PUT/PATCH/DELETE is checked where the browser says where it comes from (OWASP's CSRF cheat
sheet, "Fetch Metadata" and "Verifying Origin With Standard Headers"):

1. an `Origin` listed in TRUSTED_ORIGINS is allowed;
2. else `Sec-Fetch-Site` (every current browser sends it) must be `same-origin` or `none`;
3. else an `Origin` must name this server (the `Host` the request was sent to);
4. a request with neither header is not from a browser page (curl, Python, Locust): allowed.

What it does not defend against is in docs/security.md (XSS on our own origin, old browsers
that send neither header, a TRUSTED_ORIGINS entry that is itself compromised).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from .errors import ApiError

#: Methods that change state. GET/HEAD/OPTIONS must never do so (and none of ours does).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Sec-Fetch-Site values a state-changing request may carry: our own page, or the user's own
#: action in the browser (typed URL, bookmark).
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def origin_refused() -> ApiError:
    """The one answer to a forged request: 403, before the view runs (nothing changes)."""
    return ApiError(
        403,
        "cross_origin_request",
        "State-changing requests from another origin are refused (CSRF defence).",
    )


def same_host(origin: str, host: str) -> bool:
    """Whether an Origin header names the host:port this request was sent to."""
    parts = urlsplit(origin)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == host.lower()


def origin_allowed(
    method: str, origin: str | None, fetch_site: str | None, host: str, trusted: tuple[str, ...]
) -> bool:
    """The decision, as a pure function of the request's headers (the order is the lesson)."""
    if method not in UNSAFE_METHODS:
        return True
    if origin is not None and origin.lower() in trusted:
        return True
    if fetch_site is not None:
        return fetch_site.lower() in ALLOWED_FETCH_SITES
    if origin is not None:
        # "null" (sandboxed frames, some redirects) names no host, so it never matches.
        return same_host(origin, host)
    return True


def install_origin_check(app: Flask) -> None:
    """Refuse cross-origin state-changing requests before any view (or cookie) runs."""
    # Origins compare as browsers send them: lower-case, no trailing slash.
    trusted = tuple(o.strip().rstrip("/").lower() for o in app.config["AUTHLAB"].trusted_origins)

    @app.before_request
    def _check_origin() -> None:
        method = request.method
        if method not in UNSAFE_METHODS:
            return  # what origin_allowed answers first, without reading three headers
        headers = request.headers
        if not origin_allowed(
            method,
            headers.get("Origin"),
            headers.get("Sec-Fetch-Site"),
            headers.get("Host", ""),
            trusted,
        ):
            raise origin_refused()
