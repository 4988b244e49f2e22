"""HAProxy for the lab: the shared configuration, this run's server lists, and the runtime API.

`deploy/haproxy.cfg` says how to balance (round-robin or sticky, keep-alive, health checks, the
stats page) and is the same file docker-compose mounts. The lab adds a second file naming its
replicas, one `server` line per process on 127.0.0.1. The admin socket changes a running
HAProxy without a reload: `disable server session/s2` takes replica 2 out at once.
"""

from __future__ import annotations

import csv
import io
import shutil
import socket
from pathlib import Path

from .state import REPO_ROOT, LabError

#: How to balance: shared by the lab and docker-compose.yml.
SHARED_CONFIG = REPO_ROOT / "deploy" / "haproxy.cfg"

#: Docker's server lists (DNS server-template), loaded after SHARED_CONFIG by docker-compose.
DOCKER_BACKENDS = REPO_ROOT / "deploy" / "haproxy-docker.cfg"

INSTALL_HINT = (
    "haproxy is not installed. Run `make setup`, or install it yourself:\n"
    "  Debian/Ubuntu: sudo apt-get install haproxy\n"
    "  macOS:         brew install haproxy"
)

#: Unix socket paths are limited to about 104-108 bytes.
MAX_SOCKET_PATH = 100


def executable() -> str | None:
    """The haproxy binary, or None when it is not installed."""
    return shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )


def server_name(index: int) -> str:
    """HAProxy's name for replica `index` (1-based) of a backend: s1, s2, ..."""
    return f"s{index}"


def render_backends(replica_ports: dict[str, list[int]]) -> str:
    """The lab's server lists: one backend per server, one line per replica (ports by index)."""
    lines = [
        "# Written by lab/engine/haproxy.py for this run; loaded after deploy/haproxy.cfg.",
        "# One server per replica process on 127.0.0.1. The cookie values name the replica",
        "# a sticky client is pinned to (only used with LB_POLICY=sticky).",
    ]
    for backend, ports in replica_ports.items():
        lines += ["", f"backend {backend} from lab"]
        for index, port in enumerate(ports, start=1):
            name = server_name(index)
            lines.append(f"    server {name} 127.0.0.1:{port} cookie {name}")
    return "\n".join(lines) + "\n"


def environment(
    *, session_port: int, jwt_port: int, stats_port: int, admin_socket: Path, lb_policy: str
) -> dict[str, str]:
    """The variables deploy/haproxy.cfg expands: where to listen, the socket, the policy."""
    return {
        "SESSION_BIND": f"127.0.0.1:{session_port}",
        "JWT_BIND": f"127.0.0.1:{jwt_port}",
        "STATS_BIND": f"127.0.0.1:{stats_port}",
        "HAPROXY_ADMIN_SOCKET": str(admin_socket),
        "LB_POLICY": lb_policy,
    }


def argv(binary: str, backends_file: Path) -> list[str]:
    """Run in the foreground (-db) so the lab owns the pid; shared config first, then servers."""
    return [binary, "-db", "-f", str(SHARED_CONFIG), "-f", str(backends_file)]


def admin_socket_path(state_dir: Path) -> Path:
    """Where the admin socket lives: in the state directory when the path is short enough."""
    path = state_dir / "haproxy" / "admin.sock"
    if len(str(path)) > MAX_SOCKET_PATH:
        raise LabError(
            f"the state directory path is too long for a unix socket ({path}); "
            "use a shorter --state-dir"
        )
    return path


def command(admin_socket: Path | str, line: str, timeout: float = 2.0) -> str:
    """Send one command to the runtime API and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(admin_socket))
        except OSError as exc:
            raise LabError(
                f"HAProxy's admin socket does not answer ({exc}); is the lab up?"
            ) from exc
        s.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def set_server(admin_socket: Path | str, backend: str, index: int, enabled: bool) -> None:
    """`enable|disable server backend/sN`: in or out of the rotation, now, without a reload."""
    verb = "enable" if enabled else "disable"
    answer = command(admin_socket, f"{verb} server {backend}/{server_name(index)}").strip()
    if answer:  # HAProxy answers nothing on success
        raise LabError(f"HAProxy refused `{verb} server {backend}/{server_name(index)}`: {answer}")


def server_status(admin_socket: Path | str) -> dict[tuple[str, str], str]:
    """Each server's status as HAProxy sees it, e.g. {("session", "s1"): "UP"} (or DOWN, MAINT)."""
    text = command(admin_socket, "show stat").lstrip("# ")
    status = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("svname") not in (None, "FRONTEND", "BACKEND"):
            status[(row["pxname"], row["svname"])] = row["status"]
    return status
