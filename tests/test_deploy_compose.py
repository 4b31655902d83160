"""docker-compose.yml, validated against the compose-spec JSON schema (tests/schemas/
compose-spec.json, see the README beside it) and checked against the code: migrate, API and
worker per service, settings' environment names, one database per service, durable NATS.
No Docker engine runs here."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest
from sqlalchemy.engine import make_url

from cpd_local import cli as local_cli

from .deploy_helpers import (
    API_PORT,
    MIN_NATS,
    ROOT,
    SERVICES,
    UPSTREAMS,
    api_command,
    migrate_command,
    nats_settings,
    settings_env_names,
    version_of,
    worker_command,
)


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    schema = json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    return schema


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_is_valid_against_the_compose_spec(compose, compose_schema) -> None:
    assert schema_errors(compose_schema, compose) == []


def test_compose_schema_rejects_what_compose_would(compose, compose_schema) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["gateway"]["helthcheck"] = {"test": ["CMD", "true"]}
    broken["services"]["audit"]["depends_on"]["audit-migrate"]["condition"] = "service_done"
    errors = schema_errors(compose_schema, broken)
    assert any("helthcheck" in error for error in errors), errors
    assert len(errors) >= 2, errors


def env_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


@pytest.mark.parametrize("name", SERVICES)
def test_compose_runs_migrate_api_and_worker_per_service(compose, name: str) -> None:
    services = compose["services"]
    migrate, api, worker = services[f"{name}-migrate"], services[name], services[f"{name}-worker"]
    for role in (migrate, api, worker):
        assert role["build"] == {"context": ".", "args": {"SERVICE": name}}
        assert role["image"] == migrate["image"]
    assert migrate["command"] == migrate_command(name)
    assert api["command"] == api_command(name)
    assert worker["command"] == worker_command(name)

    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate.get("restart") == "no"
    for role in (api, worker):
        condition = role["depends_on"][f"{name}-migrate"]["condition"]
        assert condition == "service_completed_successfully"
    assert worker["depends_on"]["nats"] == {"condition": "service_healthy"}

    assert api["healthcheck"]["test"][:3] == ["CMD", "python", "/app/healthcheck.py"]
    assert api["healthcheck"]["test"][3:] in (["api", "/healthz"], ["api", "/readyz"])
    assert worker["healthcheck"]["test"][3] == "worker"
    assert env_of(worker)["CPD_WORKER_HEALTH_PORT"].isdigit()


@pytest.mark.parametrize("name", SERVICES)
def test_compose_environment_is_the_embedded_stacks(compose, name: str) -> None:
    known = settings_env_names(name)
    for role in (name, f"{name}-worker", f"{name}-migrate"):
        env = env_of(compose["services"][role])
        unknown = {key for key in env if key.startswith("CPD_")} - known
        assert not unknown, f"{role}: not settings of cpd_{name}: {sorted(unknown)}"
        url = make_url(env["CPD_DATABASE_URL"])
        assert (url.drivername, url.host, url.port) == ("postgresql+asyncpg", "postgres", 5432)
        assert url.database == f"cpd_{name}"
        assert env["CPD_NATS_URL"] == "nats://nats:4222"
        assert env["CPD_JWKS_URL"] == f"http://gateway:{API_PORT}/.well-known/jwks.json"
        # The same issuer and audience as `cpd up`, so tokens mean the same in both stacks.
        assert env["CPD_JWT_ISSUER"] == local_cli.ISSUER
        assert env["CPD_JWT_AUDIENCE"] == local_cli.AUDIENCE


def test_compose_gateway_routes_to_each_service(compose) -> None:
    env = env_of(compose["services"]["gateway"])
    for upstream in UPSTREAMS:
        assert env[f"CPD_{upstream.upper()}_URL"] == f"http://{upstream}:{API_PORT}"
        assert f"CPD_{upstream.upper()}_URL" in settings_env_names("gateway")
        assert upstream in compose["services"]


def test_compose_gives_the_gateway_its_secrets_key(compose) -> None:
    """API, worker and migration share one key (CPD_SECRETS_KEY overrides it), by default
    `cpd up`'s public development key; no other service gets it."""
    for name, service in compose["services"].items():
        value = env_of(service).get("CPD_SECRETS_KEY")
        if name in ("gateway", "gateway-worker", "gateway-migrate"):
            assert value == local_cli.DEV_SECRETS_KEY, name
        else:
            assert value is None, name


def test_compose_publishes_the_gateway_only(compose) -> None:
    published = {name: svc["ports"] for name, svc in compose["services"].items() if "ports" in svc}
    assert list(published) == ["gateway"]
    (port,) = published["gateway"]
    host, container = str(port).rsplit(":", 1)
    assert container == str(API_PORT)
    assert host.rsplit(":", 1)[-1] == "8000"


def test_compose_postgres_has_one_database_per_service(compose) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in postgres["volumes"])
    init_sql = mounts["./deploy/docker/postgres-init.sql"]
    assert init_sql.startswith("/docker-entrypoint-initdb.d/")
    assert mounts["postgres-data"] == "/var/lib/postgresql/data"
    sql = (ROOT / "deploy" / "docker" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", sql))
    # The databases `cpd up` creates (deploy/local/cpd_local/cli.py).
    assert created == {f"cpd_{name}" for name in local_cli.SERVICES}
    assert set(local_cli.SERVICES) == set(SERVICES)


def test_compose_nats_is_durable_jetstream(compose) -> None:
    nats = compose["services"]["nats"]
    assert nats["image"].startswith("nats:")
    assert version_of(nats["image"]) >= MIN_NATS
    mounts = dict(volume.split(":")[:2] for volume in nats["volumes"])
    config_path = mounts["./deploy/docker/nats.conf"]
    assert nats["command"] == ["--config", config_path]
    config = nats_settings((ROOT / "deploy" / "docker" / "nats.conf").read_text())
    assert mounts["nats-data"] == config["store_dir"]
    assert "js-enabled-only" in " ".join(nats["healthcheck"]["test"])


def test_compose_named_volumes_are_declared_and_used(compose) -> None:
    used = {
        volume.split(":")[0]
        for svc in compose["services"].values()
        for volume in svc.get("volumes", [])
        if not volume.startswith(".")
    }
    assert used == set(compose["volumes"]) == {"postgres-data", "nats-data"}
