"""``opus-online app --workers N``: N booking-app processes on one port, each listening
on a socket of its own.

uvicorn's own ``--workers`` shares one listening socket among the processes. Whichever
wakes first accepts every connection waiting (asyncio accepts up to the backlog at a
time), so a burst of new connections (a reverse proxy opening its pool, a load test)
lands on one process while the others idle: of 64 connections opened at once, one of
two processes got all of them in two runs of three (``bench.site``, 2 workers).

Here each worker opens its own socket with ``SO_REUSEPORT``, and the kernel spreads new
connections across the workers' sockets evenly (by a hash of the connection's
addresses). The kernel allows that only among sockets of the same user, so no other
user's process can join the port. The parent listens on nothing: it keeps the port
bound (not listening, so no connection waits on it) to refuse a port that another
program holds before any worker starts, and otherwise stays uvicorn's supervisor
(workers restarted when they die, SIGHUP restarts them one by one, SIGTERM stops all).
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from uvicorn import Config
from uvicorn.supervisors import Multiprocess

log = logging.getLogger("uvicorn.error")  # beside uvicorn's own start-up lines


@dataclass(frozen=True)
class OwnSocket:
    """A worker's socket, made in the worker: uvicorn hands each worker process the
    parent's sockets by pickling them, and this one unpickles as a new socket of the
    worker's own, bound to the address. It starts listening (asyncio's server calls
    ``listen``) once the worker's app has started, so no connection waits on a worker
    that is still reading its snapshots."""

    host: str
    port: int

    def __reduce__(self):
        return (reuse_port_socket, (self.host, self.port))


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY on the connections of a
    # socket that says so, and without it every answer on a kept-alive connection
    # waited 40 ms for the client's delayed acknowledgement.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(config: Config) -> None:
    """Run ``config.workers`` processes of ``config``'s app on its host and port."""
    try:
        claim = reuse_port_socket(config.host, config.port)
    except OSError as error:
        raise SystemExit(
            f"cannot listen on {config.host}:{config.port}: {error.strerror}"
        ) from None
    with claim:
        log.info(
            "Uvicorn running on http://%s:%d, %d processes each on its own socket",
            config.host,
            config.port,
            config.workers,
        )
        Multiprocess(
            config,
            sockets=[OwnSocket(config.host, config.port)],  # type: ignore[list-item]
        ).run()
