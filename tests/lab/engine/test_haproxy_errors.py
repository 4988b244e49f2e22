"""HAProxy's own answers are JSON in the servers' error shape: every error file is a valid HTTP
answer, and the errors HAProxy makes when a replica misbehaves (502, 504), when none is left
(503) or when a request is refused at the edge (413, 414, 431) are JSON on the wire.

HAProxy runs with the shared `deploy/haproxy.cfg` in front of two fake replicas that this test
controls: one answers bytes that are not HTTP (502), one never answers (504, with a 1 s server
timeout set in the test's own backend section).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.engine.haproxy import SHARED_CONFIG, argv, environment, executable
from lab.engine.processes import free_port
from servers.core.errors import HTTP_CODES
from tests.lab.engine.test_through_haproxy import assert_json_error, get, raw

ERRORS = SHARED_CONFIG.parent / "errors"


def fake_replica(answer: bytes | None) -> tuple[int, threading.Event]:
    """A TCP server that reads a request, then answers `answer` and closes (None: never
    answers, holds the connection until stopped)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        held = []
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            if answer is None:
                held.append(conn)
                continue
            try:
                conn.sendall(answer)
            finally:
                conn.close()
        for conn in held:
            conn.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], stop


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """HAProxy on the shared config: `session` -> a replica answering garbage, `jwt` -> one
    that never answers (server timeout 1 s). Yields the two frontends' ports."""
    binary = executable()
    if binary is None:
        pytest.skip("haproxy is not installed (make setup installs it)")
    work = tmp_path_factory.mktemp("edge")
    garbage, stop_garbage = fake_replica(b"this is not HTTP\r\n\r\n")
    silent, stop_silent = fake_replica(None)
    backends = work / "backends.cfg"
    backends.write_text(
        "backend session from lab\n"
        f"    server s1 127.0.0.1:{garbage} no-check\n"
        "backend jwt from lab\n"
        "    timeout server 1s\n"
        f"    server s1 127.0.0.1:{silent} no-check\n"
    )
    ports = {"session": free_port(), "jwt": free_port()}
    env = environment(
        session_port=ports["session"],
        jwt_port=ports["jwt"],
        stats_port=free_port(exclude=ports.values()),
        admin_socket=work / "admin.sock",
        lb_policy="roundrobin",
    )
    proc = subprocess.Popen(
        argv(binary, backends),
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["jwt"]), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "haproxy did not start"
                time.sleep(0.05)
        yield ports
    finally:
        proc.terminate()
        proc.wait(5)
        stop_garbage.set()
        stop_silent.set()


@pytest.mark.parametrize("path", sorted(ERRORS.glob("*.http")), ids=lambda p: p.stem)
def test_every_error_file_is_a_whole_json_answer_with_its_status(path: Path):
    head, _, body = path.read_bytes().partition(b"\r\n\r\n")
    if not body:  # written with \n line ends: HAProxy sends the file as it is, so refuse that
        pytest.fail(f"{path.name}: the head must end with CRLF CRLF")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert status == int(path.stem)
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    document = json.loads(body)
    assert set(document) == {"error", "message"}
    # The same code a replica answers for this status, where the servers have one (a 503 from
    # the edge means no replica is left, not that the store is down: its own code).
    if status != 503:
        assert document["error"] == HTTP_CODES.get(status, document["error"])


def test_every_error_file_is_loaded_by_the_shared_config():
    config = SHARED_CONFIG.read_text()
    # `errorfile <status> errors/<status>.http`, or a rule's `return status <s> errorfile ...`.
    loaded = set(re.findall(r"errorfile (?:\d+ )?errors/(\d+)\.http", config))
    assert {p.stem for p in ERRORS.glob("*.http")} <= loaded


def test_a_replica_answering_garbage_is_a_json_502(edge):
    port = edge["session"]
    document = assert_json_error(raw(port, get(port, "/auth/me")), 502)
    assert document["error"] == "bad_gateway"


def test_a_replica_that_never_answers_is_a_json_504(edge):
    port = edge["jwt"]
    document = assert_json_error(raw(port, get(port, "/auth/me")), 504)
    assert document["error"] == "gateway_timeout"


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        (f"X-Big: {'b' * 20000}\r\n", 431),  # a 20 KB header: refused at the edge
        ("".join(f"X-H{i}: {i}\r\n" for i in range(95)), 431),
        ("Content-Length: 20000\r\n", 413),
    ],
    ids=["20KB-header", "95-headers", "declared-body"],
)
def test_refused_at_the_edge_in_json(edge, extra, status):
    port = edge["jwt"]
    assert_json_error(raw(port, get(port, "/auth/login", extra)), status)


def test_a_connection_that_sends_nothing_is_closed_without_an_html_page(edge):
    """`option http-ignore-probes`: a browser's pre-connect that times out (5 s) gets no
    built-in HTML 408, just a close."""
    with socket.create_connection(("127.0.0.1", edge["jwt"]), timeout=10) as s:
        assert s.recv(65536) == b""
