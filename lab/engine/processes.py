"""Start, find and stop the lab's processes by pid, and wait for them to listen.

Each process starts in its own session (so its own process group): stopping it signals the whole
group, which takes gunicorn's workers down with their master. Stopping is SIGTERM, a grace
period, then SIGKILL. A pid is only signalled while psutil finds the same process there (the pid
and its create time), so a pid recycled by the system after a crash is never hit.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import psutil

from .state import REPO_ROOT, LabError

#: Children started by this Python process, so they can be reaped (no zombies in notebooks).
_children: dict[int, subprocess.Popen[bytes]] = {}

#: Environment variables the lab passes through to its processes; everything else is explicit,
#: so a stray SESSION_STORE in the user's shell cannot change what the lab runs.
PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV")


def base_env() -> dict[str, str]:
    """The small environment every lab process starts from."""
    return {name: os.environ[name] for name in PASSTHROUGH_ENV if name in os.environ}


def spawn(argv: list[str], *, env: Mapping[str, str], log: Path, cwd: Path = REPO_ROOT) -> int:
    """Start `argv` in a new process group, output appended to `log`; returns the pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one signal stops it all
        )
    _children[proc.pid] = proc
    return proc.pid


def _reaped(pid: int) -> bool:
    """Collect the exit status if `pid` is our dead child; True when it has exited."""
    proc = _children.get(pid)
    if proc is not None:
        if proc.poll() is None:
            return False
        _children.pop(pid, None)
        return True
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: someone else reaps it
        return False
    return done == pid


def create_time(pid: int) -> float | None:
    """When the process started (psutil's identity: pid plus create time), or None if gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def is_running(pid: int | None, started: float | None = None) -> bool:
    """Whether `pid` is alive (not a zombie) and, given `started`, still the process we started.

    A pid the system recycled after a crash has another create time, so it never matches.
    """
    if not pid or _reaped(pid):
        return False
    try:
        proc = psutil.Process(pid)
        # A zombie has exited: it holds no port and must not count as running.
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or proc.create_time() == started
    except psutil.Error:
        return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal a process group (the pid leads it), or the process if it has no group."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    except PermissionError:
        pass


#: A process as psutil identifies it: (pid, create time).
Identity = tuple[int | None, float | None]


def stop(processes: Iterable[Identity], timeout: float = 5.0) -> None:
    """Stop processes given as (pid, create time): SIGTERM to each group, then SIGKILL."""
    targets = [(pid, started) for pid, started in processes if is_running(pid, started)]
    leaders = [pid for pid, _ in targets if pid]
    for pid, _ in targets:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        targets = [(pid, started) for pid, started in targets if is_running(pid, started)]
        if not targets:
            break
        time.sleep(0.05)
    for pid, _ in targets:
        _signal_group(pid, signal.SIGKILL)
    for pid, started in targets:
        wait_until(lambda p=pid, s=started: not is_running(p, s), 5.0, f"pid {pid} to exit")
    for pid in leaders:
        # Workers of a killed master (or children that ignore SIGTERM) may outlive their leader
        # in its group: kill what is left and wait until none of it runs (SIGKILL is delivered
        # asynchronously, so a port may still be held for a moment after kill() returns).
        _end_group(pid)


def _end_group(pgid: int) -> None:
    """SIGKILL whatever still runs in group `pgid` and wait until none of it does."""
    if _group_members(pgid):
        _signal_group(pgid, signal.SIGKILL)
        wait_until(lambda: not _group_members(pgid), 5.0, f"group {pgid} to exit")


def _group_members(pgid: int) -> list[int]:
    """Pids still running (not zombies) in process group `pgid`."""
    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


def kill(pid: int | None, started: float | None) -> None:
    """SIGKILL a process group at once: a crash, not a shutdown."""
    if pid and is_running(pid, started):
        _signal_group(pid, signal.SIGKILL)
        wait_until(lambda: not is_running(pid, started), 5.0, f"pid {pid} to die")
        _end_group(pid)


def terminate(
    proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 5.0, group: bool = False
) -> None:
    """Stop a child we hold a Popen for: `sig` (to its group if `group`), then SIGKILL."""

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum) if group else proc.send_signal(signum)

    if proc.poll() is not None:
        return
    send(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(5)


#: Where the lab's ports come from: below Linux's ephemeral range (32768-60999), where the kernel
#: picks the source port of every outgoing connection. A port found free there (bind to 0) can
#: be taken by any client's connection before our server binds it; with the test suite running
#: in parallel, one was (HAProxy: "Address already in use").
PORT_RANGE = (20000, 32767)


def free_port(exclude: Iterable[int] = ()) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (and not in `exclude`), drawn
    at random from PORT_RANGE so that parallel labs and client connections do not meet."""
    excluded = set(exclude)
    for _ in range(1000):
        port = random.randint(*PORT_RANGE)
        if port in excluded:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise LabError(f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} on 127.0.0.1")


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_until(
    check: Callable[[], object], timeout: float, what: str, interval: float = 0.1
) -> object:
    """Poll `check` until it returns something truthy; LabError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def log_tail(path: str | Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
