"""The demo's child processes: started each in a process group of its own that dies
with the runner, stopped together within a deadline however many signals arrive, and
the ports they need checked first. Light imports: the stop tests run it often."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from demo.clinic_site import DEMO_CLINIC_SITE_PORT

if TYPE_CHECKING:
    from opus_online.config import Settings

DEMO_BANKID_PORT = 8443
MAIL_CATCHER_WEB_PORT = 8025
STOP_WITHIN_S = 7.0
"""How long the children get to stop after SIGTERM before SIGKILL."""


def demo_ports(settings: Settings) -> dict[int, str]:
    """Every port the demo listens on, with what listens there."""
    return {
        settings.app_port: "the booking app (OPUS_APP_PORT)",
        settings.prefect_port: "the Prefect server (OPUS_PREFECT_PORT)",
        settings.smtp_port: "the mail catcher's SMTP (OPUS_SMTP_PORT)",
        MAIL_CATCHER_WEB_PORT: "the mail catcher's page",
        urlsplit(settings.sms_gateway_url).port or 80: "the SMS stand-in (OPUS_SMS_GATEWAY_URL)",
        urlsplit(settings.marketplace_url).port
        or 80: "the Boka vård stand-in (OPUS_MARKETPLACE_URL)",
        DEMO_BANKID_PORT: "the BankID stand-in",
        DEMO_CLINIC_SITE_PORT: "the clinic's own website (demo/clinic_site.py)",
    }


def busy_port(settings: Settings) -> str | None:
    """One line naming the first demo port something else listens on, or None."""
    for port, what in demo_ports(settings).items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return (
                    f"Port {port}, for {what}, is already in use: stop what listens there "
                    f"(`ss -ltnp 'sport = :{port}'` names it; often an earlier demo still "
                    "running) and start the demo again."
                )
    return None


PR_SET_PDEATHSIG = 1


def _in_child(nice: int) -> None:
    """In the child before exec: a lower priority if asked, and (Linux) SIGTERM when
    the runner dies, however it dies."""
    if nice:
        os.nice(nice)
    # Not Linux: no prctl, and the runner's own stop is all there is.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(command: list[str], env: dict[str, str], nice: int = 0) -> subprocess.Popen:
    # A process group of its own: Ctrl-C reaches us once, and we stop children in order
    # (their own children with them: we signal the whole group).
    return subprocess.Popen(
        command, env=env, start_new_session=True, preexec_fn=lambda: _in_child(nice)
    )


def wait_for(url: str, child: subprocess.Popen, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{what} exited with code {child.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout_s:.0f} s")


SAME_SIGNAL_WITHIN_S = 1.0
"""A second SIGTERM this soon after the first is the same request delivered twice: a
SIGTERM to the process group under ``make demo`` reaches the runner, and make passes
its own on to the runner too. (A second Ctrl-C always hurries.)"""


class _Stop:
    """The runner's one signal handler, from ``interrupt_on_signals`` to the end of
    ``stop_all``: the first Ctrl-C or SIGTERM raises KeyboardInterrupt (the demo
    stops); any later one only asks ``stop_all`` to hurry. One handler throughout, so
    that no signal arriving between the two can raise in the middle of the stop and
    leave children running."""

    def __init__(self) -> None:
        self.first_at: float | None = None
        self.hurry = False

    def __call__(self, number: int, _frame: object = None) -> None:
        now = time.monotonic()
        if self.first_at is None:
            self.first_at = now
            raise KeyboardInterrupt
        # A second Ctrl-C is a person in a hurry; a second SIGTERM at once is make's.
        if number == signal.SIGINT or now - self.first_at >= SAME_SIGNAL_WITHIN_S:
            self.hurry = True

    def install(self) -> None:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, self)


_stop = _Stop()


def interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM (to us, or to our process group) both stop the demo."""
    _stop.install()


def stop_all(
    children: list[subprocess.Popen],
    within_s: float = STOP_WITHIN_S,
    last: tuple[subprocess.Popen, ...] = (),
) -> None:
    """SIGTERM to every child's group, newest first; SIGKILL to what is left after
    ``within_s``, or at once on another Ctrl-C or SIGTERM while stopping (which must
    not cut this short: an exception here would leave the rest running).

    ``last`` (the Prefect server) is told only once the others have gone, or after
    two thirds of the time: its clients (the served deployments, the worker) report
    their runs' ends to it while they stop, and with it gone they print tracebacks."""
    if _stop.first_at is None:  # stopping for another reason: signals now only hurry
        _stop.first_at = time.monotonic()
    _stop.install()
    first = [child for child in children if child not in last]
    deadline = time.monotonic() + within_s
    first_until = deadline - within_s / 3 if last else deadline
    for wave, until in ((first, first_until), (list(last), deadline)):
        for child in reversed(wave):
            _signal_group(child, signal.SIGTERM)
        while not _stop.hurry and time.monotonic() < until:
            if all(child.poll() is not None for child in wave):
                break
            time.sleep(0.1)
    for child in reversed(children):
        _signal_group(child, signal.SIGKILL)  # grandchildren too, had the child gone
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=2)


def _signal_group(child: subprocess.Popen, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(child.pid, number)
