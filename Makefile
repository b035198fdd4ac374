# `make demo` and `make test` each create .venv when it is missing, install the
# project into it, and run. Only Python 3.11+ is needed for the demo.
#
# Installs come from the lock files in requirements/ (exact versions, with hashes):
# dev.txt for `make test` (the dev and demo extras), demo.txt for `make demo`, prod.txt for
# the image (the runtime dependencies alone: no test tools, no demo stand-ins). uv, pinned
# below, is bootstrapped into .venv with pip. `make lock` regenerates the three lock files
# from pyproject.toml (`make lock LOCK_FLAGS=--upgrade` to move to the newest allowed
# versions); demo.txt and prod.txt are constrained by dev.txt, so all three agree.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Let Python keep the bytecode it compiles (an environment may say not to): the tests
# start dozens of processes (xdist workers, Prefect's server, app and worker processes,
# the commands), and each would otherwise compile Prefect, FastAPI, pandas and ours
# anew, about half of a process's start-up.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
LOCK := requirements/dev.txt
DEMO_LOCK := requirements/demo.txt
PROD_LOCK := requirements/prod.txt
LOCK_FLAGS ?=
# Resolve and download from the index pip uses: PyPI, or PIP_INDEX_URL where that is set.
ifdef PIP_INDEX_URL
export UV_INDEX_URL ?= $(PIP_INDEX_URL)
endif

.PHONY: demo test test-days lint format bench lock clean topology test-topology

demo: $(DEMO_STAMP)
	$(BIN)/opus-online demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# The tests that ask the calendar most, again on two more days drawn from the list in
# tests/clock.py (`make test` runs everything on one; CI runs only that, for time).
CALENDAR_TESTS := tests/booking_app/test_booking_times.py tests/booking_app/test_my_bookings.py \
	tests/booking_app/api/test_api_times.py tests/booking_app/api/test_snapshot_times.py \
	tests/connectors/store/test_bookings.py tests/connectors/store/test_my_bookings.py \
	tests/flows/test_schedule_sync.py

test-days: $(STAMP)
	for day in $$($(BIN)/python -m tests.clock 2); do \
		OPUS_TEST_DATE=$$day $(BIN)/pytest -q --durations=5 $(CALENDAR_TESTS) || exit 1; \
	done

# compose.yaml's topology as processes, without containers (demo/topology.py): the store
# on a fresh PostgreSQL database (opus_topology), two app processes, the write-back
# worker; books through one app, is refused through the other, waits for write-back.
topology: $(STAMP)
	$(BIN)/python -m demo.topology

test-topology: $(STAMP)
	$(BIN)/pytest -m topology -n 0 tests/opus_online/test_topology.py

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.sync --ranges 1000000

$(VENV):
	$(PYTHON) -m venv $(VENV)

$(UV_STAMP): | $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	rm -f $(VENV)/.uv-*
	touch $@

# Exactly the lock's packages (others are removed), then the project itself, editable.
# The dev lock holds the demo lock's packages at the same versions: it serves both.
$(STAMP): $(LOCK) pyproject.toml $(UV_STAMP)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP) $(DEMO_STAMP)

# Without the dev tools; `make test` installs them again.
$(DEMO_STAMP): $(DEMO_LOCK) pyproject.toml $(UV_STAMP)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes $(DEMO_LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(STAMP)
	touch $(DEMO_STAMP)

COMPILE = $(UV) pip compile --quiet --python $(BIN)/python pyproject.toml --universal \
	--python-version 3.11 --generate-hashes --custom-compile-command 'make lock' $(LOCK_FLAGS)

lock: $(UV_STAMP)
	$(COMPILE) --extra dev -o $(LOCK)
	$(COMPILE) --extra demo -c $(LOCK) -o $(DEMO_LOCK)
	$(COMPILE) -c $(LOCK) -o $(PROD_LOCK)

clean:
	rm -rf $(VENV) data build *.egg-info
