"""The stand-ins' HTTP servers: each answers on loopback from a thread of its own, so
a test or the demo starts and stops one in a line."""

from __future__ import annotations

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
