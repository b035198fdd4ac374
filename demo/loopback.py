"""The stand-ins' HTTP servers: each answers on loopback from a thread of its own, so
a test or the demo starts and stops one in a line."""

from __future__ import annotations

import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_in_thread(
    host: str, port: int, handler: type[BaseHTTPRequestHandler]
) -> ThreadingHTTPServer:
    """A server on ``host:port`` (0: any free port), already answering; its threads
    die with the process."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def close(server: ThreadingHTTPServer) -> None:
    """Stop answering and free the port."""
    server.shutdown()
    server.server_close()


STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def hold_stop_signals() -> None:
    """Block SIGTERM and SIGINT, before any server thread starts, so that every thread
    inherits the mask and a stop signal stays pending for ``wait_for_stop_signal``.

    (With a handler setting an Event instead, a SIGTERM that the kernel handed to a
    server's thread never woke the main thread's wait: a stand-in, and its port,
    outlived the demo that was killed.)"""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def wait_for_stop_signal() -> None:
    """Until SIGTERM or SIGINT (Ctrl-C), however early it came."""
    signal.sigwait(STOP_SIGNALS)
