"""A small demo runner for the stop tests: the demo's own start, signal handling and
stop (``demo.run``), with children that are cheap to start: the mail catcher (a real
stand-in, two listening ports), and a stubborn child that ignores SIGTERM and has a
grandchild. Prints ``ready <pid> ...`` once every child listens or runs."""

from __future__ import annotations

import os
import sys
import time

from demo.processes import interrupt_on_signals, start, stop_all, wait_for

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(grandchild.pid, flush=True)
time.sleep(600)
"""


def main() -> int:
    smtp, web, within_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    env = dict(os.environ)
    interrupt_on_signals()
    children = []
    try:
        catcher = [sys.executable, "-m", "demo.mail_catcher", "--smtp-port", smtp]
        children.append(start([*catcher, "--web-port", web], env))
        children.append(start([sys.executable, "-c", STUBBORN], env))
        wait_for(f"http://127.0.0.1:{web}/", children[0], "mail catcher")
        print("ready", *(child.pid for child in children), flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(children, within_s)


if __name__ == "__main__":
    raise SystemExit(main())
