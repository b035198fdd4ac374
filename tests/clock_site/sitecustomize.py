"""Puts a Python process that a test starts on the test run's clock (see tests/clock.py).

On ``PYTHONPATH`` only while tests run: Python imports ``sitecustomize`` at start-up,
before any of the process's own code reads the time."""

import os
import time

traveller = None
"""The running travel, for tests/clock.py to find (the clock must move only once)."""

_shift = os.environ.get("OPUS_TEST_CLOCK_SHIFT_S")
if _shift:
    import time_machine

    traveller = time_machine.travel(time.time() + float(_shift), tick=True)
    traveller.start()
