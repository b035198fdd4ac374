"""``opus-online app --workers N`` (:mod:`opus_online.app_processes`): the workers
share the port with a socket each, so new connections are spread over all of them; a
worker that dies is replaced; SIGTERM stops them all; a port another program holds is
refused with a message. The processes are found, and their connections counted,
through ``/proc`` (Linux, as ``SO_REUSEPORT``'s spreading)."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from opus_online.app_processes import OwnSocket, reuse_port_socket
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
STARTED_WITHIN_S = 240.0
"""Imports take seconds of CPU per process, and the machine may be busy."""
CONNECTIONS = 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(port: int, store: Engine, tmp_path: Path, workers: int = 2) -> subprocess.Popen:
    env = {
        **os.environ,
        "OPUS_STORE_URL": store.url.render_as_string(hide_password=False),
        "OPUS_DATA_DIR": str(tmp_path),
        "OPUS_SECRET_KEY": "workers-share-one-secret-key-0123456789abcdef",
        "OPUS_APP_HOST": "127.0.0.1",
        "OPUS_APP_PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "opus_online.cli", "app", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def two_workers(postgres_store: Engine, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    port = _free_port()
    parent = _command(port, postgres_store, tmp_path)
    try:
        eventually(lambda: len(_listening_workers(parent.pid, port)) == 2, "two workers")
        yield parent, port
    finally:
        if parent.poll() is None:
            parent.kill()
            for pid in _children(parent.pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait()


def test_connections_are_spread_a_killed_worker_is_replaced_and_sigterm_stops_all(two_workers):
    """One test, one pair of workers: each start costs seconds of imports."""
    parent, port = two_workers
    held = _held_of(CONNECTIONS, parent.pid, port)
    # Spread by a hash: either worker holding fewer than 4 of 32 is a one-in-a-million.
    assert len(held) == 2 and min(held.values()) >= 4, held

    killed = min(_listening_workers(parent.pid, port))
    os.kill(killed, signal.SIGKILL)

    def replaced() -> bool:
        workers = _listening_workers(parent.pid, port)
        return len(workers) == 2 and killed not in workers

    eventually(replaced, "a new worker listening", STARTED_WITHIN_S)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200

    workers = _children(parent.pid)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=60) == 0
    eventually(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), "workers gone")


def _held_of(count: int, parent: int, port: int) -> dict[int, int]:
    """Open ``count`` connections at once, have each answered (so accepted by a worker
    that serves), and count each worker's."""
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    try:
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert connection.recv(64).startswith(b"HTTP/1.1 200")
        return _established(parent, port)
    finally:
        for connection in connections:
            connection.close()


def test_a_workers_socket_is_its_own_and_says_it_is_tcp():
    """Unpickled (as each worker gets it) into a new socket on the address, not yet
    listening, and with its protocol named: asyncio turns Nagle's algorithm off only on
    the connections of such a socket (else each kept-alive answer waited 40 ms)."""
    port = _free_port()
    with reuse_port_socket("127.0.0.1", port) as claim:
        first = pickle.loads(pickle.dumps(OwnSocket("127.0.0.1", port)))
        second = pickle.loads(pickle.dumps(OwnSocket("127.0.0.1", port)))
        with first, second:
            assert len({claim.fileno(), first.fileno(), second.fileno()}) == 3
            assert first.getsockname() == second.getsockname() == ("127.0.0.1", port)
            assert first.proto == socket.IPPROTO_TCP
            assert port not in {_port_of(line) for line in _tcp_lines("0A")}


def test_a_port_another_program_holds_is_refused(postgres_store: Engine, tmp_path: Path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        refused = _command(holder.getsockname()[1], postgres_store, tmp_path)
        output, _ = refused.communicate(timeout=120)
    assert refused.returncode != 0
    assert "cannot listen on 127.0.0.1" in output


# -- /proc --------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _sockets(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass  # the process has just gone
    return inodes


def _tcp_lines(state: str) -> list[list[str]]:
    """The IPv4 TCP sockets in ``state`` (0A listening, 01 established), as fields."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return [fields for fields in map(str.split, lines) if fields[3] == state]


def _port_of(fields: list[str]) -> int:
    return int(fields[1].split(":")[1], 16)


def _tcp(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on ``port`` in ``state``."""
    return {fields[9] for fields in _tcp_lines(state) if _port_of(fields) == port}


def _listening_workers(parent: int, port: int) -> list[int]:
    listening = _tcp(port, "0A")
    return [pid for pid in _children(parent) if _sockets(pid) & listening]


def _established(parent: int, port: int) -> dict[int, int]:
    established = _tcp(port, "01")
    return {pid: len(_sockets(pid) & established) for pid in _listening_workers(parent, port)}


def test_proc_helpers_see_this_process_listening():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            with accepted:
                time.sleep(0.05)
                assert _sockets(os.getpid()) & _tcp(port, "0A")
                assert len(_sockets(os.getpid()) & _tcp(port, "01")) == 1  # the accepted end
