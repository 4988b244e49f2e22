"""The console's web app: one static page and a small JSON API over a `Scenario`.

The page's buttons POST JSON here; the console does the HTTP with the victim's or the
attacker's jar and answers what happened. State-changing requests must come from the page
itself: a JSON body (a cross-site form cannot send one without a CORS preflight, which this app
never answers) and, when the browser sends one, an Origin equal to the console's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from .scenario import Scenario, ScenarioError

#: The page, its stylesheet and its script: plain files, no build step.
STATIC = Path(__file__).parent / "static"

api = Blueprint("console_api", __name__, url_prefix="/api")


def scenario() -> Scenario:
    """The scenario this app drives."""
    return current_app.extensions["authlab_console"]


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@api.get("/lab")
def lab_info():
    """The lab, the settings the page offers, and where the story is."""
    return jsonify(scenario().describe())


@api.post("/use")
def use():
    """Switch server or mode, and its binding (`none`, `dbsc`, `dpop`; absent: as it runs)."""
    body = _json_body()
    binding = body.get("binding")
    return jsonify(
        scenario().use(str(body.get("key", "")), None if binding is None else str(binding))
    )


@api.post("/login")
def login():
    """The victim logs in."""
    return jsonify(scenario().login())


@api.post("/steal")
def steal():
    """The attacker copies the victim's cookies."""
    return jsonify(scenario().steal())


@api.post("/act")
def act():
    """Logout, password change, logout everywhere, or the admin's revoke."""
    return jsonify(scenario().act(str(_json_body().get("action", ""))))


@api.post("/probe")
def probe():
    """GET /auth/me with one jar (through HAProxy, or on every replica)."""
    body = _json_body()
    return jsonify(scenario().probe(str(body.get("who", "")), bool(body.get("everywhere"))))


@api.post("/refresh")
def refresh():
    """POST /auth/refresh with one jar."""
    return jsonify(scenario().refresh(str(_json_body().get("who", ""))))


def _same_origin_json():
    """Refuse a state-changing request that did not come from this page."""
    if request.method != "POST":
        return None
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        return _error(403, "forbidden_origin", f"requests from {origin} are not accepted here")
    if not request.is_json:
        return _error(
            415, "unsupported_media_type", "send a JSON body (Content-Type: application/json)"
        )
    return None


def _error(status: int, code: str, message: str):
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def create_app(the_scenario: Scenario) -> Flask:
    """The console app for one scenario (one lab)."""
    app = Flask(__name__, static_folder=None)
    app.extensions["authlab_console"] = the_scenario
    app.register_blueprint(api)
    app.before_request(_same_origin_json)

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str):
        return send_from_directory(STATIC, name)

    @app.errorhandler(ScenarioError)
    def out_of_order(exc: ScenarioError):
        return _error(409, "out_of_order", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(Exception)
    def failure(exc: Exception):
        # The lab said no (a replica down, Redis stopped): tell the page, keep the console up.
        return _error(503, "lab_error", f"{type(exc).__name__}: {exc}")

    @app.after_request
    def headers(response):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app
