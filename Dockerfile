# syntax=docker/dockerfile:1
# The image of one service, chosen by the SERVICE build argument (gateway, audit, lessonstudy
# or evaluation). Build from the repository root (the uv workspace):
#   docker build --build-arg SERVICE=audit -t cpd-audit .
# One image, three commands (working directory /app):
#   API (default):  uvicorn --factory cpd_<service>.main:create_app --host 0.0.0.0 --port 8000
#   worker:         python -m cpd_<service>.worker   (outbox relay + event consumers; health
#                   server on 127.0.0.1:$CPD_WORKER_HEALTH_PORT, probed by healthcheck.py worker)
#   migrations:     alembic -c services/<service>/alembic.ini upgrade head
# Settings come from CPD_* environment variables (cpd_<service>.settings).

ARG SERVICE

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11-slim AS builder
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=<service>" >&2; exit 1)
COPY --from=uv /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Third-party dependencies first: this layer is rebuilt only when the lock file or a
# workspace manifest changes. Every member's pyproject.toml is needed to read the workspace.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/audit/pyproject.toml services/audit/
COPY services/lessonstudy/pyproject.toml services/lessonstudy/
COPY services/evaluation/pyproject.toml services/evaluation/
COPY deploy/local/pyproject.toml deploy/local/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package cpd-${SERVICE}

# Then cpd-common and the service itself, installed as wheels so the runtime image needs no
# source tree beside the virtual environment.
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package cpd-${SERVICE}

FROM python:3.11-slim AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="cpd-${SERVICE}" \
      org.opencontainers.image.description="CPD platform: ${SERVICE} service (API, worker, migrations)"
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CPD_SERVICE=${SERVICE}
RUN groupadd --system --gid 10001 cpd \
    && useradd --system --uid 10001 --gid cpd --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin cpd
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
# alembic.ini's script_location is %(here)s/migrations, so the command above works from /app.
COPY services/${SERVICE}/alembic.ini services/${SERVICE}/alembic.ini
COPY services/${SERVICE}/migrations/ services/${SERVICE}/migrations/
COPY deploy/docker/healthcheck.py /app/healthcheck.py

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/healthcheck.py", "api", "/healthz"]
# A shell expands the service's name (CPD_SERVICE, fixed at build time); exec hands uvicorn
# the process so it receives the stop signal.
CMD ["sh", "-c", "exec uvicorn --factory cpd_${CPD_SERVICE}.main:create_app --host 0.0.0.0 --port 8000 --loop uvloop --http httptools"]
