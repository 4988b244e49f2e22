"""Classes 3 and 8 through the lab's real HAProxy: slow clients wait at the load balancer, not
on a replica's threads, and every answer a client can get is JSON in the one error shape."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import urllib.request
from collections.abc import Iterator

import pytest

from lab import Lab

#: A replica with two threads: two slow clients would be enough to stall it on its own.
THREADS = 2
SLOW_CLIENTS = 4


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One replica per server behind HAProxy, with a private Redis."""
    lab = Lab(
        replicas=1,
        threads=THREADS,
        bcrypt_rounds=4,
        state_dir=tmp_path_factory.mktemp("lab"),
        timeout=60,
    )
    with lab:
        yield lab


def port_of(url: str) -> int:
    """The port of an http://127.0.0.1:PORT URL."""
    return int(url.rsplit(":", 1)[1].strip("/"))


def raw(port: int, request: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are, read the answer until the server closes: status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and is_complete(b"".join(chunks)):
                    break
        except ConnectionResetError:
            pass
    return parse(b"".join(chunks))


def is_complete(data: bytes) -> bool:
    """Whether a response with Content-Length has all of its body."""
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Split a raw HTTP response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def get(port: int, target: str, extra: str = "") -> bytes:
    """A GET request as bytes."""
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"
    return (head + "Connection: close\r\n\r\n").encode()


def assert_json_error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict:
    """The answer has this status and is `{"error", "message"}` JSON."""
    code, headers, body = answer
    assert code == status, (code, body[:200])
    assert headers["content-type"].startswith("application/json"), headers
    document = json.loads(body)
    assert set(document) == {"error", "message"}
    return document


def health_answers(url: str, timeout: float = 2) -> bool:
    """GET /health answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def slow_clients(port: int, n: int) -> list[socket.socket]:
    """`n` connections that promise a 1000-byte body and send its first byte."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        socks.append(s)
    return socks


def dribble(socks: list[socket.socket]) -> None:
    """One more byte on every slow connection (ignoring those the server already closed)."""
    for s in socks:
        with contextlib.suppress(OSError):
            s.sendall(b" ")


def test_slow_clients_stall_a_bare_replica(lab):
    """The threat is real: a replica run by hand, without a proxy, is stalled by slow bodies."""
    replica = lab.replicas("session")[0]
    socks = slow_clients(replica.port, THREADS + 1)
    try:
        time.sleep(0.5)
        dribble(socks)
        assert not health_answers(replica.url, timeout=2)
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 30
    while not health_answers(replica.url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert health_answers(replica.url)


def test_slow_clients_wait_at_haproxy_and_get_a_json_408(lab):
    port = port_of(lab.session_url)
    socks = slow_clients(port, SLOW_CLIENTS)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 3:  # within HAProxy's 5 s `timeout http-request`
            dribble(socks)
            assert health_answers(lab.session_url)
            time.sleep(0.3)
        answers = []
        for s in socks:
            s.settimeout(10)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            answers.append(parse(data))
    finally:
        for s in socks:
            s.close()
    for answer in answers:
        assert assert_json_error(answer, 408)["error"] == "request_timeout"


def test_requests_gunicorn_would_answer_in_html_are_stopped_in_json(lab):
    port = port_of(lab.session_url)
    replica = lab.replicas("session")[0].port
    long_url = "/health?x=" + "a" * 5000
    # Without HAProxy, gunicorn's own page: not JSON. That is why HAProxy stops these first.
    assert (
        not raw(replica, get(replica, long_url))[1]
        .get("content-type", "")
        .startswith("application/json")
    )
    assert_json_error(raw(port, get(port, long_url)), 414)
    assert_json_error(raw(port, get(port, "/health", f"X-Big: {'b' * 9000}\r\n")), 431)
    many = "".join(f"X-H{i}: {i}\r\n" for i in range(95))
    assert_json_error(raw(port, get(port, "/health", many)), 431)
    too_big = b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n"
    assert_json_error(raw(port, too_big), 413)


def test_what_haproxy_cannot_parse_gets_its_builtin_400_and_never_reaches_a_replica(lab):
    """The documented exception (docs/security.md): HAProxy 2.6 answers a request its parser
    rejects (not HTTP, or headers beyond its 32 KB buffer) with a built-in HTML page; errorfiles
    apply only once a request was parsed. No replica ever sees such a request."""
    port = port_of(lab.session_url)
    huge = "".join(f"X-H{i}: {'c' * 7000}\r\n" for i in range(6))
    for request in (get(port, "/health", huge), b"NOT HTTP AT ALL\r\n\r\n"):
        status, headers, _ = raw(port, request)
        assert status == 400
        assert "x-replica" not in headers


def test_router_errors_and_options_are_json_through_haproxy(lab):
    port = port_of(lab.jwt_url)
    assert_json_error(raw(port, get(port, "/nowhere")), 404)
    put = f"PUT /auth/me HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    assert_json_error(raw(port, put.encode()), 405)
    options = f"OPTIONS /auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    status, headers, body = raw(port, options.encode())
    assert (status, json.loads(body)) == (200, {"allow": ["OPTIONS", "POST"]})
    assert headers["allow"] == "OPTIONS, POST"
    assert "access-control-allow-origin" not in headers  # no CORS: preflights find nothing


def test_no_replica_left_is_a_json_503(lab):
    port = port_of(lab.session_url)
    lab.lb_disable("session", 1)
    try:
        document = assert_json_error(raw(port, get(port, "/health")), 503)
    finally:
        lab.lb_enable("session", 1)
    assert document["error"] == "no_replica_available"
