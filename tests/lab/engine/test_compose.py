"""docker-compose.yml, tested without Docker: it parses, has every service the lab needs, fails
fast without its secrets, and mounts the HAProxy configuration the lab itself runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lab.engine import haproxy
from lab.engine.state import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
HAPROXY_DIR = "/usr/local/etc/haproxy"


def mounts(service: str) -> dict[str, str]:
    """Container path -> repository file, for a service's bind mounts."""
    found = {}
    for volume in SERVICES[service].get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = source[2:]
    return found


def test_every_service_the_lab_needs_is_there():
    wanted = {"redis", "postgres", "session", "jwt", "haproxy", "jupyter"}
    assert wanted <= set(SERVICES)
    assert SERVICES["locust-master"]["profiles"] == ["loadtest"]
    assert SERVICES["locust-worker"]["profiles"] == ["loadtest"]
    assert "--worker" in SERVICES["locust-worker"]["command"]
    assert "--master" in SERVICES["locust-master"]["command"]


@pytest.mark.parametrize("service", ["redis", "postgres", "session", "jwt"])
def test_stores_and_servers_are_health_checked(service):
    assert SERVICES[service]["healthcheck"]["test"]


@pytest.mark.parametrize("service", ["session", "jwt"])
def test_servers_start_after_healthy_stores_with_several_replicas(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert SERVICES[service]["deploy"]["replicas"] >= 2
    env = SERVICES[service]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    # The same factories the lab serves with gunicorn.
    assert f"servers.{service}_server:create_app()" in SERVICES[service]["command"]


@pytest.mark.parametrize("name", ["SECRET_KEY", "ADMIN_PASSWORD", "DATABASE_URL"])
@pytest.mark.parametrize("service", ["session", "jwt"])
def test_required_secrets_fail_fast(service, name):
    # ${VAR:?message}: compose refuses to start instead of running with an empty secret.
    assert re.search(r"\$\{[A-Z_]+:\?[^}]+\}", SERVICES[service]["environment"][name])


def test_no_secret_has_a_default():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "ADMIN_PASSWORD", "JUPYTER_TOKEN"):
        assert f"${{{secret}:-" not in text
        assert f"${{{secret}:?" in text


def test_haproxy_mounts_the_configuration_the_lab_runs():
    files = mounts("haproxy")
    shared = files[f"{HAPROXY_DIR}/haproxy.cfg"]
    assert REPO_ROOT / shared == haproxy.SHARED_CONFIG
    assert REPO_ROOT / files[f"{HAPROXY_DIR}/servers.cfg"] == haproxy.DOCKER_BACKENDS
    command = SERVICES["haproxy"]["command"]
    assert command[command.index("-f") + 1] == f"{HAPROXY_DIR}/haproxy.cfg"
    assert f"{HAPROXY_DIR}/servers.cfg" in command
    # Every variable the shared file expands is set for the container.
    lines = haproxy.SHARED_CONFIG.read_text().splitlines()
    config = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    wanted = set(re.findall(r"\$\{([A-Z_]+)\}", config))
    assert wanted == {"SESSION_BIND", "JWT_BIND", "STATS_BIND", "HAPROXY_ADMIN_SOCKET", "LB_POLICY"}
    assert wanted <= set(SERVICES["haproxy"]["environment"])


def test_haproxy_balances_to_the_compose_services():
    servers = haproxy.DOCKER_BACKENDS.read_text()
    for backend in ("session", "jwt"):
        assert re.search(
            rf"backend {backend} from lab\n\s+server-template \S+ \S+ {backend}:8000", servers
        )


def test_dockerfile_builds_the_image_the_services_use():
    dockerfile = REPO_ROOT / SERVICES["session"]["build"]["dockerfile"]
    text = dockerfile.read_text()
    assert "requirements.txt" in text
    assert re.search(r"^USER (?!root)", text, re.MULTILINE)  # never runs as root
    assert "haproxy" in text and "redis-server" in text  # the notebooks run a lab inside


needs_haproxy = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy missing")


def haproxy_check(tmp_path: Path, servers_file: Path, policy: str) -> subprocess.CompletedProcess:
    """`haproxy -c` on the shared file plus a server list, with the environment it expands."""
    env = haproxy.environment(
        session_port=18001,
        jwt_port=18002,
        stats_port=18404,
        admin_socket=tmp_path / "admin.sock",
        lb_policy=policy,
    )
    return subprocess.run(
        [shutil.which("haproxy") or "haproxy", "-c", "-f", str(haproxy.SHARED_CONFIG), "-f",
         str(servers_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip


@needs_haproxy
@pytest.mark.parametrize("policy", ["roundrobin", "sticky"])
def test_haproxy_accepts_the_docker_configuration(tmp_path, policy):
    result = haproxy_check(tmp_path, haproxy.DOCKER_BACKENDS, policy)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr


@needs_haproxy
@pytest.mark.parametrize("policy", ["roundrobin", "sticky"])
def test_haproxy_accepts_the_lab_configuration(tmp_path, policy):
    servers = tmp_path / "backends.cfg"
    servers.write_text(haproxy.render_backends({"session": [18101, 18102], "jwt": [18201]}))
    result = haproxy_check(tmp_path, servers, policy)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr


def test_the_sentinel_profile_has_the_labs_failover_topology():
    sentinels = [name for name in SERVICES if name.startswith("sentinel-")]
    assert len(sentinels) == 3
    assert "--replicaof" in SERVICES["redis-replica"]["command"]
    for name in [*sentinels, "redis-replica"]:
        assert SERVICES[name]["profiles"] == ["sentinel"]
    script = SERVICES["sentinel-1"]["command"][-1]
    assert "sentinel monitor authlab redis 6379 2" in script  # quorum 2 of 3
    for server in ("session", "jwt"):
        env = SERVICES[server]["environment"]
        assert env["REDIS_SENTINELS"] == "${REDIS_SENTINELS:-}"
        assert env["REDIS_SENTINEL_MASTER"] == "authlab"
