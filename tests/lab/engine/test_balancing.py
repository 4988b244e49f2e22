"""Round-robin spreads one client's requests; the memory store breaks behind it, sticky hides it."""

from __future__ import annotations

import pytest
import requests

from tests.support.lab_clients import hits, logged_in

pytestmark = pytest.mark.lab

REPLICAS = 3


@pytest.mark.parametrize("server", ["session", "jwt"])
def test_round_robin_reaches_every_replica(lab, server):
    client = requests.Session()  # one keep-alive connection: balancing is per request
    seen = [replica for _, replica in hits(client, lab.url(server) + "/health", 3 * REPLICAS)]
    assert set(seen) == {f"{server}-{i}" for i in range(1, REPLICAS + 1)}
    # Strict rotation: each window of 3 consecutive requests meets every replica once.
    assert all(len(set(seen[i : i + REPLICAS])) == REPLICAS for i in range(len(seen) - 2))


@pytest.mark.parametrize("server", ["session", "jwt"])
def test_shared_store_logged_in_client_is_never_refused(lab, server):
    client = logged_in(lab.url(server))
    results = hits(client, lab.url(server) + "/auth/me", 30)
    assert {status for status, _ in results} == {200}
    assert len({replica for _, replica in results}) == REPLICAS


def test_memory_store_round_robin_refuses_about_two_in_three(lab_as):
    lab = lab_as(session_store="memory")
    client = logged_in(lab.session_url)
    results = hits(client, lab.session_url + "/auth/me", 30)
    refused = [replica for status, replica in results if status == 401]
    served = {replica for status, replica in results if status == 200}
    # Only the replica that saw the login knows the session: the others refuse 2 requests in 3.
    assert served == {client.login_replica}
    assert 15 <= len(refused) <= 25
    assert client.login_replica not in refused
    # JWT is unaffected: every replica verifies the signature on its own.
    jwt_client = logged_in(lab.jwt_url)
    assert {status for status, _ in hits(jwt_client, lab.jwt_url + "/auth/me", 9)} == {200}


def test_memory_store_sticky_is_never_refused(lab_as):
    lab = lab_as(session_store="memory", lb_policy="sticky")
    client = logged_in(lab.session_url)
    assert "SERVERID" in client.cookies  # HAProxy's stickiness cookie
    results = hits(client, lab.session_url + "/auth/me", 30)
    assert results == [(200, client.login_replica)] * 30
    jwt_client = logged_in(lab.jwt_url)
    jwt_results = hits(jwt_client, lab.jwt_url + "/auth/me", 9)
    assert jwt_results == [(200, jwt_client.login_replica)] * 9
