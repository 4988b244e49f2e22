"""The `auth` blueprint: the contract's /auth endpoints, identical for both mechanisms.

Cookies change only through `reply`, which only answers success: a request that proved no
credential (a cross-site form carries none) gets its 401 and leaves the browser's cookies alone.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from .backend import Issued, Principal, Revocation, reply
from .errors import ApiError, StoreUnavailable
from .http import backend, json_body, login_required
from .users import UserService

bp = Blueprint("auth", __name__, url_prefix="/auth")
log = logging.getLogger(__name__)


def users() -> UserService:
    """The app's user service."""
    return current_app.extensions["authlab_users"]


@bp.post("/register")
def register():
    """Create an account. Registration does not log in: the login path stays the only way in."""
    body = json_body("email", "password", "name")
    user = users().register(body["email"], body["password"], body["name"])
    return jsonify(user=user), 201


@bp.post("/login")
def login():
    """Check the password, then issue a brand-new credential (rate-limited on failures)."""
    body = json_body("email", "password")
    user = users().authenticate(body["email"], body["password"])
    issued = backend().login(user, request)
    return reply({"user": user, **issued.body}, issued.cookies)


@bp.post("/logout")
@login_required
def logout():
    """End this credential and expire its cookies; say whether it is really dead on the server.
    Without a valid credential: 401 and no Set-Cookie, so another site cannot log anyone out."""
    revocation = backend().logout(g.principal)
    return reply(revocation.to_json(), backend().expired_cookies())


@bp.get("/me")
@login_required
def me():
    """The caller, as their credential describes them (no database read)."""
    return jsonify(user=g.principal.user)


@bp.post("/password")
@login_required
def change_password():
    """Change the password and end every credential of the user: both, or neither, and the
    answer says which. The caller continues under a fresh credential."""
    body = json_body("current_password", "new_password")
    principal: Principal = g.principal
    users().check_password(principal.user_id, body["current_password"])  # 400/401: no change
    new_hash = users().hash_password(body["new_password"], "new_password")  # 400: no change
    # The store first: while it is down nothing changes. Then SQL: a failure there leaves the
    # safe half (credentials revoked, password unchanged). Then the caller's fresh credential.
    revocation = revoke_for_password_change(principal.user_id)
    save_password_after(revocation, principal.user_id, new_hash)
    renewed = renew_after_password_change(principal, revocation)
    return reply(
        {"password_changed": True, **revocation.renewed_by(renewed).to_json()}, renewed.cookies
    )


def revoke_for_password_change(user_id: int) -> Revocation:
    """Revoke every credential of the user, or 503 with the password left as it was."""
    try:
        return backend().revoke_user(user_id)
    except StoreUnavailable:
        raise StoreUnavailable(
            "The password was NOT changed: the credential store did not answer, so the other "
            "sessions could not be ended (if it failed mid-way, some may have ended). Retry."
        ) from None


def save_password_after(revocation: Revocation, user_id: int, new_hash: str) -> None:
    """Commit the new password; if SQL fails now, say that the revocation did happen."""
    try:
        users().save_password_hash(user_id, new_hash)
    except SQLAlchemyError:
        log.exception("password of user %s not saved after its credentials were revoked", user_id)
        raise ApiError(
            503,
            "database_unavailable",
            "The password was NOT changed: the user database did not save it. The revocation "
            f"was done: {revocation.message} If this client was logged out, log in again with "
            "the current password; then retry.",
            {"Retry-After": "1"},
        ) from None


def renew_after_password_change(principal: Principal, revocation: Revocation) -> Issued:
    """The caller's fresh credential; if the store fails now, both halves are done: say so."""
    try:
        return backend().renew(principal, request)
    except StoreUnavailable:
        raise StoreUnavailable(
            f"The password WAS changed and the revocation was done: {revocation.message} The "
            "store did not answer, or no replica confirmed it, to issue this client a new "
            "credential: log in again with the new password."
        ) from None


@bp.get("/sessions")
@login_required
def list_sessions():
    """The caller's active sessions, where the mechanism keeps any."""
    return jsonify(backend().list_sessions(g.principal))


@bp.delete("/sessions/<session_id>")
@login_required
def revoke_session(session_id: str):
    """End one of the caller's own sessions."""
    revocation = backend().revoke_session(g.principal, session_id)
    if revocation is None:
        raise ApiError(404, "not_found", "No active session of yours has this id.")
    return jsonify(id=session_id, **revocation.to_json())


@bp.post("/logout-all")
@login_required
def logout_all():
    """End every credential of the caller, this one included, and expire its cookies."""
    revocation = backend().revoke_user(g.principal.user_id)
    return reply(revocation.to_json(), backend().expired_cookies())
