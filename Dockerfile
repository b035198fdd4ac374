# syntax=docker/dockerfile:1
# The Opus Online image: the booking app, the flows (`opus-online serve`), the
# write-back worker and `opus-online check`, one image for every role (compose.yaml).
#
#   docker build -t opus-online .
#
# Stage 1 installs the locked dependencies (requirements/prod.txt: the runtime
# dependencies alone, exact versions with hashes, the same versions as the dev lock's;
# no test tools, no demo stand-ins) into a virtual environment, with
# the compilers some wheels may need. Stage 2 copies only that environment onto a slim
# base with the ODBC driver manager and FreeTDS for Opus on SQL Server, and runs as an
# unprivileged user. Nothing here reaches a service: settings come from the environment.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential unixodbc-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/opus
COPY requirements/prod.txt /src/requirements/prod.txt
RUN /opt/opus/bin/pip install --require-hashes --no-deps -r /src/requirements/prod.txt
COPY pyproject.toml README.md /src/
COPY opus_online /src/opus_online
COPY connectors /src/connectors
COPY validations /src/validations
COPY flows /src/flows
COPY booking_app /src/booking_app
COPY dashboards /src/dashboards
COPY demo /src/demo
# The project itself, not editable, without touching the locked dependencies.
RUN /opt/opus/bin/pip install --no-deps /src

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
# unixODBC and FreeTDS: pyodbc's driver manager and a driver for SQL Server (the
# Microsoft ODBC Driver 18 can be added in a derived image); tini reaps and forwards
# signals so uvicorn and the worker stop cleanly.
RUN apt-get update \
    && apt-get install -y --no-install-recommends unixodbc tdsodbc ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /srv/opus --create-home opus
COPY --from=build /opt/opus /opt/opus
ENV PATH=/opt/opus/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPUS_ENV=production \
    OPUS_LOG_FORMAT=json \
    OPUS_DATA_DIR=/srv/opus/data \
    OPUS_APP_HOST=0.0.0.0 \
    OPUS_APP_PORT=8000
WORKDIR /srv/opus
USER opus
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["tini", "--"]
CMD ["opus-online", "app"]
