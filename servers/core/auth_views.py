"""The `auth` blueprint: the contract's /auth endpoints, identical for both mechanisms."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from .backend import Revocation
from .errors import ApiError
from .http import authenticate, backend, json_body, login_required, with_json
from .users import UserService

bp = Blueprint("auth", __name__, url_prefix="/auth")


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
    response = jsonify()
    extra = backend().login(user, request, response)
    return with_json(response, {"user": user, **extra})


@bp.post("/logout")
def logout():
    """End this credential and expire the cookie; say whether it is really dead on the server."""
    response = jsonify()
    principal = authenticate()
    if principal is None:
        # Still expire the cookies: a browser holding a dead one should drop it.
        backend().clear_cookies(response)
        return with_json(response, {"error": "unauthorized", "message": g.auth_reason}, 401)
    revocation = backend().logout(principal, response)
    return with_json(response, revocation.to_json())


@bp.get("/me")
@login_required
def me():
    """The caller, as their credential describes them (no database read)."""
    return jsonify(user=g.principal.user)


@bp.post("/password")
@login_required
def change_password():
    """Change the password and end every other credential of this user, keeping this one."""
    body = json_body("current_password", "new_password")
    users().change_password(g.principal.user_id, body["current_password"], body["new_password"])
    response = jsonify()
    revocation = backend().revoke_user(
        g.principal.user_id, keep=g.principal, request=request, response=response
    )
    return with_json(response, {"password_changed": True, **revocation.to_json()})


@bp.get("/sessions")
@login_required
def list_sessions():
    """The caller's active sessions, where the mechanism keeps any."""
    return jsonify(backend().list_sessions(g.principal))


@bp.delete("/sessions/<session_id>")
@login_required
def revoke_session(session_id: str):
    """End one of the caller's own sessions."""
    result = backend().revoke_session(g.principal, session_id)
    if not result:
        raise ApiError(404, "not_found", "No active session of yours has this id.")
    report = result.to_json() if isinstance(result, Revocation) else {"revoked": True}
    return jsonify(id=session_id, **report)


@bp.post("/logout-all")
@login_required
def logout_all():
    """End every credential of the caller, this one included."""
    response = jsonify()
    revocation = backend().revoke_user(g.principal.user_id, request=request, response=response)
    backend().clear_cookies(response)
    return with_json(response, revocation.to_json())
