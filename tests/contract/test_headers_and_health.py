"""Headers every response carries, the health check, and the published contract."""

import re

from openapi_spec_validator import validate

from tests.support.contract import OPENAPI, assert_matches

SERVER_TIMING = re.compile(r'^auth;dur=\d+(\.\d+)?;desc="store=(\d+)"$')


def test_health_reports_mechanism_and_store(client, server):
    response = client.get("/health")
    assert response.status_code == 200
    body = assert_matches(response, "/health", "get")
    assert body["mechanism"] == server.mechanism
    assert body["store"] == "up"
    assert body["replica"] == "test-1"


def test_every_response_names_its_replica(client, auth):
    auth.register()
    for response in (client.get("/health"), client.get("/nowhere"), client.get("/auth/me")):
        assert response.headers["X-Replica"] == "test-1"


def test_server_timing_shows_the_price_of_the_auth_check(auth):
    client = auth.user_client()
    response = client.get("/auth/me")
    match = SERVER_TIMING.match(response.headers["Server-Timing"])
    assert match, response.headers["Server-Timing"]
    assert "Server-Timing" not in client.get("/health").headers


def test_responses_are_not_cached(auth):
    client = auth.user_client()
    assert client.get("/auth/me").headers["Cache-Control"] == "no-store"


def test_the_contract_is_a_valid_openapi_document_and_is_served(client):
    validate(OPENAPI)
    served = client.get("/openapi.json").get_json()
    validate(served)
    # The file's operations, less those this server has no route for (refresh, JWKS).
    assert served == {**OPENAPI, "paths": {p: OPENAPI["paths"][p] for p in served["paths"]}}
    assert set(OPENAPI["paths"]) - set(served["paths"]) <= {
        "/auth/refresh",
        "/.well-known/jwks.json",
        "/auth/dbsc",
        "/auth/dbsc/register",
        "/auth/dbsc/refresh",
    }


def test_every_route_is_in_the_contract(app):
    documented = set(OPENAPI["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        path = path.replace("{user_id}", "{id}").replace("{session_id}", "{id}")
        assert path in documented, f"{rule.rule} is served but not documented"
