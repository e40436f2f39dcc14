# syntax=docker/dockerfile:1
#
# specmock in a container.
#
#   docker build -t specmock .
#   docker run --rm -p 8080:8080 specmock
#
# Configure it with SPECMOCK_* variables (every `specmock serve` flag has one;
# arguments after the image name are passed to `specmock serve` as well):
#
#   docker run --rm -p 8080:8080 \
#     -v "$PWD/scenarios:/scenarios:ro" -e SPECMOCK_SCENARIO=/scenarios/my.yaml \
#     -v "$PWD/specs:/specs:ro" -e SPECMOCK_SPEC=/specs/my-api.yaml \
#     -v specmock-state:/data \
#     -e SPECMOCK_ADMIN_TOKEN=change-me \
#     specmock
#
# SPECMOCK_SCENARIO and SPECMOCK_SPEC take comma-separated lists; a scenario may
# also be a bundled name (default, rate-limited, ...). The state is kept in
# /data/state.json (a volume), so it survives a restart of the container.
#
# Several replicas sharing one state: set SPECMOCK_STATE=redis://HOST:6379/0 and
# SPECMOCK_STATE_FILE="" (the state then lives in Redis, not in /data); see the README.
#
# The admin API (/__specmock/...): the server binds 0.0.0.0 here, which is not
# loopback, so the admin API is OFF unless SPECMOCK_ADMIN_TOKEN is set (then it
# wants `Authorization: Bearer <token>`). /__specmock/health is served either
# way, and the HEALTHCHECK below uses it.
#
# Needs BuildKit (the default builder since Docker 23) for `RUN --mount`.

# Pinned to the Python minor version; pin the digest too (python:3.12-slim@sha256:...)
# with a dependency bot if builds must be reproducible.
FROM python:3.12-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
# Only what the wheel is built from (see .dockerignore): pyproject's hatch
# force-include puts specs/ and scenarios/ inside the wheel.
COPY pyproject.toml README.md ./
COPY src ./src
COPY specs ./specs
COPY scenarios ./scenarios
# specmock's wheel and the wheels of everything it depends on, so the runtime
# stage installs from /wheels alone.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[redis]"


FROM python:3.12-slim

LABEL org.opencontainers.image.title="specmock" \
      org.opencontainers.image.description="A stateful mock server for API contract testing, driven by OpenAPI specs." \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The wheels are bind-mounted from the builder, so they never become a layer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/specmock-*.whl /wheels/redis-*.whl \
 && groupadd --system --gid 10001 specmock \
 && useradd --system --uid 10001 --gid specmock --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin specmock \
 && mkdir -p /data /scenarios /specs \
 && chown specmock:specmock /data

# 0.0.0.0: reachable through the published port (and so no admin API without a
# token, see above). The state file lives on the /data volume.
ENV SPECMOCK_HOST=0.0.0.0 \
    SPECMOCK_PORT=8080 \
    SPECMOCK_STATE_FILE=/data/state.json

# Mount points: /data for the state (owned by specmock so a new named volume is
# writable); /scenarios and /specs for your files (read-only is enough).
VOLUME ["/data"]

# The specmock user, by number so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001

EXPOSE 8080

# Python's urllib, as the image has no curl. The port follows SPECMOCK_PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:' + os.environ.get('SPECMOCK_PORT', '8080') + '/__specmock/health'; sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]

# Exec form: specmock is PID 1 and gets SIGTERM itself (`docker stop`), then
# finishes in-flight requests and writes the state file before it exits.
ENTRYPOINT ["specmock", "serve"]
