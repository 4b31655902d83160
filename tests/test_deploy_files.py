"""The deployment files: the service Dockerfile, docker-compose.yml, deploy/docker and deploy/k8s.

No Docker engine or cluster runs here. Instead: docker-compose.yml is validated against the
compose-spec JSON schema (tests/schemas/compose-spec.json, see the README beside it); every
Kubernetes object against the Kubernetes API schemas shipped by kubernetes-validate; the NATS
configurations by nats-server itself (parsed, and run to read back ``sync_always``); the
overlays are built with kubectl's kustomize; and the commands the images run are checked
against the code (settings fields, health routes, alembic.ini, migrations run from the
image's working directory).
"""

from __future__ import annotations

import copy
import functools
import http.server
import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from cpd_common.settings import ServiceSettings
from cpd_common.testing.databases import unique_name
from cpd_common.testing.servers import free_port, nats_server_binary
from cpd_local import cli as local_cli

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("gateway", "audit", "lessonstudy", "evaluation")
UPSTREAMS = tuple(s for s in SERVICES if s != "gateway")
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes still commonly run, and the newest schemas kubernetes-validate has.
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())
API_PORT = 8000
IMAGE_WORKDIR = "/app"
MIN_NATS = (2, 12, 3)  # DESIGN.md section 9, broker durability


def api_command(service: str) -> list[str]:
    return [
        "uvicorn",
        "--factory",
        f"cpd_{service}.main:create_app",
        "--host",
        "0.0.0.0",  # noqa: S104 - inside the container, behind its network
        "--port",
        str(API_PORT),
    ]


def worker_command(service: str) -> list[str]:
    return ["python", "-m", f"cpd_{service}.worker"]


def migrate_command(service: str) -> list[str]:
    return ["alembic", "-c", f"services/{service}/alembic.ini", "upgrade", "head"]


def package_name(service: str) -> str:
    data = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
    return data["project"]["name"]


def settings_env_names(service: str) -> set[str]:
    """The CPD_* variables a service reads (pydantic-settings, prefix CPD_)."""
    settings = importlib.import_module(f"cpd_{service}.settings").Settings
    return {f"CPD_{field.upper()}" for field in settings.model_fields}


def version_of(image: str) -> tuple[int, ...]:
    tag = image.rsplit(":", 1)[1]
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", tag)
    assert match, f"{image}: pin a full x.y.z version"
    return tuple(int(part) for part in match.groups())


def yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


# docker-compose.yml

_INTERPOLATION = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation (``${VAR:-default}``, ``${VAR}``, ``$VAR``, ``$$``)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3) or ""
        current = env.get(name)
        if operator in (":-", "-"):
            missing = current is None or (operator == ":-" and current == "")
            return default if missing or current is None else current
        if operator in (":?", "?"):
            assert current, f"{name} is required: {default}"
        if operator in (":+", "+"):
            return default if current else ""
        return current or ""

    return _INTERPOLATION.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as `docker compose` sees it with no variables set."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(raw, {})


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


# NATS configurations (deploy/docker/nats.conf and the k8s ConfigMaps)


def nats_settings(config: str) -> dict[str, str]:
    """``store_dir`` and ``sync_interval`` of the jetstream block, ``cluster`` if any."""
    block = re.search(r"^jetstream\s*\{(.*?)^\}", config, re.S | re.M)
    assert block, "no jetstream block"
    settings = dict(re.findall(r"^\s*(\w+):\s*(\S+)\s*$", block.group(1), re.M))
    if re.search(r"^cluster\s*\{", config, re.M):
        settings["cluster"] = "yes"
    return settings


def k8s_nats_config(docs: list[dict[str, Any]]) -> str:
    (config_map,) = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "nats-config"
    ]
    return config_map["data"]["nats.conf"]


def nats_configs() -> dict[str, str]:
    return {
        "docker": (ROOT / "deploy" / "docker" / "nats.conf").read_text(),
        "k8s-base": k8s_nats_config(yaml_docs(BASE / "nats.yaml")),
        "k8s-dev": k8s_nats_config(yaml_docs(K8S / "overlays" / "dev" / "nats-single-node.yaml")),
    }


@pytest.mark.parametrize("which", ["docker", "k8s-base", "k8s-dev"])
def test_nats_config_fsyncs_every_jetstream_write(which: str, tmp_path: Path) -> None:
    config = nats_configs()[which]
    settings = nats_settings(config)
    assert settings["sync_interval"] == "always"
    assert settings["store_dir"].startswith("/")
    path = tmp_path / "nats.conf"
    path.write_text(config)
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "POD_NAME": "nats-0"},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def runnable_here(config: str, tmp_path: Path) -> tuple[str, int]:
    """The same configuration on loopback ports with its files under tmp_path."""
    client, monitor = free_port(), free_port()
    config = re.sub(r"^listen: .*$", f"listen: 127.0.0.1:{client}", config, flags=re.M)
    config = re.sub(r"^http: .*$", f"http: 127.0.0.1:{monitor}", config, flags=re.M)
    config = re.sub(r"^pid_file: .*$", f'pid_file: "{tmp_path / "nats.pid"}"', config, flags=re.M)
    config = re.sub(r"store_dir: .*$", f'store_dir: "{tmp_path / "js"}"', config, flags=re.M)
    return config, monitor


@pytest.mark.parametrize("which", ["docker", "k8s-dev"])
def test_nats_server_runs_the_config_with_sync_always(which: str, tmp_path: Path) -> None:
    config, monitor = runnable_here(nats_configs()[which], tmp_path)
    path = tmp_path / "nats.conf"
    path.write_text(config)
    with (tmp_path / "nats.log").open("wb") as log:
        proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "POD_NAME": "nats-0"},
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=1) as r:
                    varz = json.load(r)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "nats.log").read_text()
                assert time.monotonic() < deadline, "nats-server did not start"
                time.sleep(0.1)
        assert varz["jetstream"]["config"]["sync_always"] is True
        assert varz["jetstream"]["config"]["store_dir"].startswith(str(tmp_path))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Dockerfiles and the image build context


DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_instructions(name: str) -> list[tuple[str, str]]:
    """The root Dockerfile's instructions as built with ``--build-arg SERVICE=<name>``."""
    path = DOCKERFILE
    text = path.read_text().replace("${SERVICE}", name).replace("$SERVICE", name)
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, f"{path}: dangling line continuation"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages(name: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile_instructions(name):
        if keyword == "ARG" and not result:
            continue  # the global build argument, before the first stage
        if keyword == "FROM":
            result.append([])
        assert result, f"{DOCKERFILE}: {keyword} before FROM"
        result[-1].append((keyword, args))
    return result


def copy_sources(args: str) -> tuple[dict[str, str], list[str], str]:
    words = shlex.split(args)
    flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_builds_the_service_with_uv(name: str) -> None:
    all_stages = stages(name)
    froms = [stage[0][1].split() for stage in all_stages]
    python_stages = [f for f in froms if f[0] == "python:3.11-slim"]
    assert len(python_stages) >= 2, "multi-stage: a builder and a runtime on python:3.11-slim"
    uv_stage = next(f for f in froms if f[0].startswith("ghcr.io/astral-sh/uv:"))
    assert uv_stage[1].upper() == "AS"
    copies_uv = [
        args
        for stage in all_stages
        for keyword, args in stage
        if keyword == "COPY" and copy_sources(args)[0].get("from") == uv_stage[2]
    ]
    assert copies_uv and "/uv" in copy_sources(copies_uv[0])[1]
    syncs = [
        args for stage in all_stages for kw, args in stage if kw == "RUN" and "uv sync" in args
    ]
    assert syncs
    package = package_name(name)
    assert package == f"cpd-{name}"
    for sync in syncs:
        words = shlex.split(sync[sync.index("uv sync") :])
        assert "--frozen" in words and "--no-dev" in words, sync
        assert words[words.index("--package") + 1] == package, sync


def test_dockerfile_declares_the_service_argument_in_every_stage_that_uses_it() -> None:
    """A build argument is empty in a stage that does not declare it (after FROM)."""
    raw = dockerfile_instructions("${SERVICE}")
    assert raw[0] == ("ARG", "SERVICE")
    stage_args: list[set[str]] = []
    for keyword, args in raw[1:]:
        if keyword == "FROM":
            stage_args.append(set())
        elif keyword == "ARG":
            stage_args[-1].add(args.split("=", 1)[0])
        elif "${SERVICE}" in args or "$SERVICE" in args:
            assert "SERVICE" in stage_args[-1], f"{keyword} {args}: no ARG SERVICE in its stage"
    assert sum("SERVICE" in a for a in stage_args) >= 2  # the builder and the runtime


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_runtime_runs_the_api_as_non_root(name: str) -> None:
    runtime = stages(name)[-1]
    assert runtime[0][1].split()[0] == "python:3.11-slim"
    settings: dict[str, list[str]] = {}
    for keyword, args in runtime:
        settings.setdefault(keyword, []).append(args)
    user = settings["USER"][-1].split(":")[0]
    assert user not in ("root", "0")
    assert settings["WORKDIR"][-1] == IMAGE_WORKDIR
    assert settings["EXPOSE"] == [str(API_PORT)]
    env = dict(w.split("=", 1) for args in settings["ENV"] for w in shlex.split(args))
    assert env["CPD_SERVICE"] == name
    shell, flag, command = json.loads(settings["CMD"][-1])
    assert (shell, flag) == ("sh", "-c")
    words = shlex.split(command.replace("${CPD_SERVICE}", env["CPD_SERVICE"]))
    assert words[0] == "exec" and words[1:] == api_command(name)
    assert "ENTRYPOINT" not in settings, "the worker and migrations override CMD"
    healthcheck = settings["HEALTHCHECK"][-1]
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert probe == ["python", "/app/healthcheck.py", "api", "/healthz"]
    copied = {copy_sources(args)[2] for args in settings["COPY"]}
    assert {
        "/app/.venv",
        f"services/{name}/alembic.ini",
        f"services/{name}/migrations/",
        "/app/healthcheck.py",
    } <= copied


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            else:
                char = pattern[i]
                regex += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
                if char == "[":
                    end = pattern.index("]", i)
                    regex, i = regex[:-2] + pattern[i : end + 1], end
                i += 1
        patterns.append((negated, re.compile(f"^{regex}$")))
    return patterns


def ignored(relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for negated, regex in dockerignore_patterns():
        if any(regex.match(candidate) for candidate in candidates):
            result = not negated
    return result


def test_dockerignore_keeps_state_tests_and_deploy_files_out() -> None:
    for path in (
        ".git/config",
        ".venv/bin/python",
        ".cpd/postgres/data/PG_VERSION",
        "shared/cpd_common/__pycache__/app.cpython-311.pyc",
        "tests/test_deploy_files.py",
        "services/audit/tests/test_audits.py",
        "deploy/k8s/base/nats.yaml",
        "deploy/docker/nats.conf",
        "docker-compose.yml",
        ".env",
    ):
        assert ignored(path), path
    for path in ("uv.lock", "shared/cpd_common/app.py", "deploy/docker/healthcheck.py"):
        assert not ignored(path), path


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_copies_only_what_the_build_context_holds(name: str) -> None:
    for stage in stages(name):
        for keyword, args in stage:
            if keyword not in ("COPY", "ADD"):
                continue
            flags, sources, _ = copy_sources(args)
            if "from" in flags:
                continue
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
                assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    for member in ROOT.glob("*/pyproject.toml"):
        assert not ignored(member.relative_to(ROOT).as_posix())


@pytest.mark.parametrize("name", SERVICES)
def test_image_commands_exist_in_the_code(name: str) -> None:
    main = importlib.import_module(f"cpd_{name}.main")
    worker = importlib.import_module(f"cpd_{name}.worker")
    assert callable(main.create_app)
    assert callable(worker.main)
    paths = {getattr(route, "path", None) for route in main.create_app().routes}
    assert {"/healthz", "/readyz"} <= paths
    # The gateway's port is public: its metrics have a listener of their own (CPD_METRICS_PORT).
    assert ("/metrics" in paths) == (name != "gateway")
    assert "worker_health_port" in ServiceSettings.model_fields


@pytest.mark.parametrize("name", SERVICES)
def test_alembic_script_location_does_not_depend_on_the_working_directory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The images run ``alembic -c services/<name>/alembic.ini`` from /app, the repository
    root's layout; the migrations must be found from wherever the ini file is."""
    ini = ROOT / "services" / name / "alembic.ini"
    monkeypatch.chdir(tmp_path)
    script = ScriptDirectory.from_config(Config(str(ini)))
    assert Path(script.dir) == ini.parent / "migrations"
    assert (ini.parent / "migrations" / "env.py").is_file()
    assert script.get_heads()


@pytest.mark.parametrize("name", SERVICES)
def test_migrate_command_upgrades_a_new_database(name: str, pg_server: Any) -> None:
    """The compose/k8s migration command, as run in the image, against a real PostgreSQL."""
    database = unique_name(f"deploy_{name}")
    pg_server.create_database(database)
    try:
        command = migrate_command(name)
        command[0] = str(Path(sys.executable).parent / command[0])
        result = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "CPD_DATABASE_URL": pg_server.url(database)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        heads = ScriptDirectory.from_config(
            Config(str(ROOT / "services" / name / "alembic.ini"))
        ).get_heads()
        applied = pg_server.psql("SELECT version_num FROM alembic_version", database).split()
        assert set(heads) <= set(applied)
    finally:
        pg_server.drop_database(database)


# deploy/docker/healthcheck.py


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    path = ROOT / "deploy" / "docker" / "healthcheck.py"
    spec = importlib.util.spec_from_file_location("cpd_deploy_healthcheck", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def health_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response({"/healthz": 200, "/readyz": 503}.get(self.path, 404))
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_script(
    healthcheck: ModuleType, health_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert healthcheck.API_PORT == API_PORT
    port = str(health_server)
    assert healthcheck.main(["healthcheck.py", port, "/healthz"]) == 0
    assert healthcheck.main(["healthcheck.py", port, "/readyz"]) == 1
    assert healthcheck.main(["healthcheck.py", port, "/nothing"]) == 1
    monkeypatch.setenv("CPD_WORKER_HEALTH_PORT", port)
    assert healthcheck.main(["healthcheck.py", "worker"]) == 0
    monkeypatch.delenv("CPD_WORKER_HEALTH_PORT")
    assert healthcheck.main(["healthcheck.py", "worker"]) == 1
    assert healthcheck.main(["healthcheck.py", str(free_port())]) == 1
    script = ROOT / "deploy" / "docker" / "healthcheck.py"
    result = subprocess.run([sys.executable, str(script), port], timeout=30)
    assert result.returncode == 0


# deploy/k8s


def kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to build the overlays"
    result = subprocess.run(
        [kubectl, "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d is not None]


@functools.cache
def base_docs() -> list[dict[str, Any]]:
    """Every object of deploy/k8s/base as kustomize builds it (the services come from the
    service component); built once, tests copy before changing one."""
    return kustomize(BASE)


def overlay(name: str) -> dict[str, Any]:
    return yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())


def overlay_patch_docs() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for name in OVERLAYS:
        for patch in overlay(name).get("patches", []):
            if "path" in patch:
                docs += [(name, doc) for doc in yaml_docs(K8S / "overlays" / name / patch["path"])]
    return docs


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def doc_id(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def test_kustomizations_name_every_manifest() -> None:
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(base["resources"]) == files | set(SERVICES)
    # A service's folder only names it: its objects come from the one service component.
    component = K8S / "components" / "service"
    for name in SERVICES:
        folder = BASE / name
        assert {p.name for p in folder.iterdir()} == {"kustomization.yaml", "name.yaml"}
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert kustomization["resources"] == ["name.yaml"]
        assert [(folder / c).resolve() for c in kustomization["components"]] == [component]
        (config,) = yaml_docs(folder / "name.yaml")
        assert config["data"] == {"name": name, "module": f"cpd_{name}"}
        assert config["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
    built = {doc_id(d) for d in base_docs()}
    for name in SERVICES:
        assert {f"Deployment/{name}", f"Deployment/{name}-worker", f"Job/{name}-migrate"} <= built
    assert not any("SERVICE" in json.dumps(d) for d in base_docs())
    assert not any(
        d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("service")
        for d in base_docs()
    )
    for name in OVERLAYS:
        kustomization = overlay(name)
        assert kustomization["resources"] == ["../../base"]
        for patch in kustomization.get("patches", []):
            assert "path" in patch or ("patch" in patch and "target" in patch), patch
            if "path" in patch:
                assert (K8S / "overlays" / name / patch["path"]).is_file()
        on_disk = {p.name for p in (K8S / "overlays" / name).glob("*.yaml")}
        used = {p["path"] for p in kustomization.get("patches", []) if "path" in p}
        assert on_disk - {"kustomization.yaml"} == used


@pytest.mark.parametrize("doc", base_docs(), ids=doc_id)
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_base_object_is_valid_kubernetes(doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize(
    "where,doc", overlay_patch_docs(), ids=lambda x: x if isinstance(x, str) else doc_id(x)
)
def test_overlay_patch_object_is_valid_kubernetes(where: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSIONS[0], strict=True)
    find(base_docs(), doc["kind"], doc["metadata"]["name"])


def test_kubernetes_validation_is_strict() -> None:
    deployment = copy.deepcopy(find(base_docs(), "Deployment", "audit"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]


def container_env_names(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The variables a container gets from its ConfigMaps (values) and env entries."""
    names: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        names[entry["name"]] = entry.get("value", "<from secret>")
    return names


def assert_hardened(doc: dict[str, Any]) -> None:
    spec = pod_spec(doc)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), doc_id(doc)


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (match,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return match


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_api_probes_ports_and_scaling(name: str) -> None:
    docs = base_docs()
    deployment = find(docs, "Deployment", name)
    assert_hardened(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"], labels)
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == f"cpd-{name}"
    assert container["command"] == api_command(name)
    probes = {
        kind: container[f"{kind}Probe"]["httpGet"] for kind in ("startup", "readiness", "liveness")
    }
    assert probes["readiness"]["path"] == "/readyz"
    assert probes["liveness"]["path"] == probes["startup"]["path"] == "/healthz"
    for probe in probes.values():
        assert port_number(container, probe["port"]) == API_PORT
    database = next(e for e in container["env"] if e["name"] == "CPD_DATABASE_URL")
    ref = database["valueFrom"]["secretKeyRef"]
    assert ref["key"] in find(docs, "Secret", ref["name"])["stringData"]

    service = find(docs, "Service", name)
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)
    (port,) = service["spec"]["ports"]
    assert port["port"] == API_PORT and port_number(container, port["targetPort"]) == API_PORT

    hpa = find(docs, "HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    assert selects(find(docs, "PodDisruptionBudget", name)["spec"]["selector"], labels)


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_worker_probes_its_health_port(name: str) -> None:
    docs = base_docs()
    deployment = find(docs, "Deployment", f"{name}-worker")
    assert_hardened(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == f"cpd-{name}"
    assert container["command"] == worker_command(name)
    env = container_env_names(docs, container)
    assert int(env["CPD_WORKER_HEALTH_PORT"]) > 0
    # The worker's health server binds 127.0.0.1 (cpd_common.worker), so probes run in the pod.
    for kind, path in (("startup", "/healthz"), ("liveness", "/healthz"), ("readiness", "/readyz")):
        command = container[f"{kind}Probe"]["exec"]["command"]
        assert command == ["python", "/app/healthcheck.py", "worker", path]
    assert selects(find(docs, "PodDisruptionBudget", f"{name}-worker")["spec"]["selector"], labels)


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_migration_job(name: str) -> None:
    docs = base_docs()
    job = find(docs, "Job", f"{name}-migrate")
    assert_hardened(job)
    (container,) = pod_spec(job)["containers"]
    assert container["image"] == f"cpd-{name}"
    assert container["command"] == migrate_command(name)
    assert container["workingDir"] == IMAGE_WORKDIR
    assert pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")
    assert {e["name"] for e in container["env"]} == {"CPD_DATABASE_URL"}


def test_k8s_environment_names_are_settings() -> None:
    docs = base_docs()
    for deployment in (d for d in docs if d["kind"] in ("Deployment", "Job")):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        for container in pod_spec(deployment)["containers"]:
            names = set(container_env_names(docs, container))
            unknown = {n for n in names if n.startswith("CPD_")} - settings_env_names(service)
            assert not unknown, f"{doc_id(deployment)}: {sorted(unknown)}"
    config = find(docs, "ConfigMap", "cpd-config")["data"]
    assert config["CPD_NATS_URL"] == "nats://nats:4222"
    assert config["CPD_JWKS_URL"] == f"http://gateway:{API_PORT}/.well-known/jwks.json"
    assert config["CPD_JWT_ISSUER"] == local_cli.ISSUER
    assert config["CPD_JWT_AUDIENCE"] == local_cli.AUDIENCE
    nats = find(docs, "Service", "nats")
    assert [p["port"] for p in nats["spec"]["ports"]] == [4222]
    gateway = find(docs, "ConfigMap", "cpd-gateway-config")["data"]
    for upstream in UPSTREAMS:
        assert gateway[f"CPD_{upstream.upper()}_URL"] == f"http://{upstream}:{API_PORT}"
        assert find(docs, "Service", upstream)["spec"]["ports"][0]["port"] == API_PORT


def test_k8s_secrets_are_placeholders_the_pods_use() -> None:
    docs = base_docs()
    urls = find(docs, "Secret", "cpd-database")["stringData"]
    assert set(urls) == set(SERVICES)
    for name, url in urls.items():
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+asyncpg" and parsed.database == f"cpd_{name}"
    signing = find(docs, "Secret", "cpd-gateway-signing-key")
    assert signing["stringData"] and all(k.startswith("CPD_") for k in signing["stringData"])
    (gateway,) = pod_spec(find(docs, "Deployment", "gateway"))["containers"]
    refs = [s["secretRef"]["name"] for s in gateway["envFrom"] if "secretRef" in s]
    assert refs == ["cpd-gateway-signing-key"]
    assert not any(  # the signing key stays with the gateway
        "secretRef" in source
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["name"] != "gateway"
        for c in pod_spec(d)["containers"]
        for source in c.get("envFrom", [])
    )


def test_k8s_nats_statefulset_is_a_durable_jetstream_cluster() -> None:
    docs = base_docs()
    statefulset = find(docs, "StatefulSet", "nats")
    assert_hardened(statefulset)
    spec = statefulset["spec"]
    (container,) = pod_spec(statefulset)["containers"]
    assert container["image"].startswith("nats:") and version_of(container["image"]) >= MIN_NATS
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert container["image"] == compose["services"]["nats"]["image"]

    config = k8s_nats_config(docs)
    settings = nats_settings(config)
    assert settings["sync_interval"] == "always" and settings.get("cluster") == "yes"
    routes = re.findall(r"nats://([\w-]+)-(\d+)\.([\w-]+):6222", config)
    assert sorted(int(i) for _, i, _ in routes) == list(range(spec["replicas"]))
    assert {(name, host) for name, _, host in routes} == {("nats", spec["serviceName"])}
    assert find(docs, "Service", spec["serviceName"])["spec"]["clusterIP"] == "None"

    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    (claim,) = spec["volumeClaimTemplates"]
    assert mounts[claim["metadata"]["name"]] == settings["store_dir"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    config_volume = next(v for v in pod_spec(statefulset)["volumes"] if "configMap" in v)
    assert config_volume["configMap"]["name"] == "nats-config"
    assert container["args"] == ["--config", f"{mounts[config_volume['name']]}/nats.conf"]
    http_listen = re.search(r"^http: [\d.]+:(\d+)$", config, re.M)
    assert http_listen, "nats.conf: no monitoring port"
    monitor = int(http_listen.group(1))
    for kind in ("startup", "readiness", "liveness"):
        probe = container[f"{kind}Probe"]["httpGet"]
        assert probe["path"].startswith("/healthz")
        assert port_number(container, probe["port"]) == monitor
    labels = spec["template"]["metadata"]["labels"]
    assert selects(find(docs, "PodDisruptionBudget", "nats")["spec"]["selector"], labels)


def pods() -> dict[str, dict[str, str]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in base_docs()
        if d["kind"] in ("Deployment", "StatefulSet")
    }


def ingress_allowed(source: dict[str, str] | None, target: dict[str, str], port: int) -> bool:
    """NetworkPolicy ingress semantics for pods of one namespace (source None: outside)."""
    policies = [
        d["spec"]
        for d in base_docs()
        if d["kind"] == "NetworkPolicy"
        and selects(d["spec"]["podSelector"], target)
        and "Ingress" in d["spec"]["policyTypes"]
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy.get("ingress", []):
            peers = rule.get("from")
            peer_ok = not peers or any(
                source is not None
                and set(peer) == {"podSelector"}
                and selects(peer["podSelector"], source)
                for peer in peers
            )
            ports = rule.get("ports")
            if peer_ok and (not ports or any(p["port"] == port for p in ports)):
                return True
    return False


def test_k8s_network_policies_let_only_the_gateway_reach_the_services() -> None:
    labels = pods()
    gateway = labels["gateway"]
    for upstream in UPSTREAMS:
        target = labels[upstream]
        assert ingress_allowed(gateway, target, API_PORT)
        others = [name for name in labels if name != "gateway"]
        for other in others:
            assert not ingress_allowed(labels[other], target, API_PORT), f"{other} -> {upstream}"
        assert not ingress_allowed(None, target, API_PORT)
    for name in labels:
        assert ingress_allowed(labels[name], gateway, API_PORT)
    assert ingress_allowed(None, gateway, API_PORT)
    for name in SERVICES:
        assert ingress_allowed(labels[f"{name}-worker"], labels["nats"], 4222)
        assert not ingress_allowed(labels[name], labels["nats"], 4222)
        assert not ingress_allowed(gateway, labels[f"{name}-worker"], 8001)
    assert ingress_allowed(labels["nats"], labels["nats"], 6222)


def json_patch_target_exists(doc: dict[str, Any], pointer: str) -> bool:
    node: Any = doc
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return False
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def patch_targets(target: dict[str, Any]) -> list[dict[str, Any]]:
    matches = [d for d in base_docs() if d["kind"] == target["kind"]]
    if "name" in target:
        matches = [d for d in matches if d["metadata"]["name"] == target["name"]]
    if "labelSelector" in target:
        key, value = target["labelSelector"].split("=")
        matches = [d for d in matches if d["metadata"].get("labels", {}).get(key) == value]
    return matches


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_patches_and_replicas_hit_base_objects(name: str) -> None:
    kustomization = overlay(name)
    for patch in kustomization["patches"]:
        if "target" not in patch:
            continue
        targets = patch_targets(patch["target"])
        assert targets, patch["target"]
        for operation in yaml.safe_load(patch["patch"]):
            assert operation["op"] == "replace", operation
            for doc in targets:
                assert json_patch_target_exists(doc, operation["path"]), (doc_id(doc), operation)
    workloads = {
        d["metadata"]["name"] for d in base_docs() if d["kind"] in ("Deployment", "StatefulSet")
    }
    for replicas in kustomization["replicas"]:
        assert replicas["name"] in workloads
    images = {i["name"] for i in kustomization["images"]}
    assert images == {f"cpd-{s}" for s in SERVICES}


def kustomize_build(name: str) -> list[dict[str, Any]]:
    return kustomize(K8S / "overlays" / name)


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_builds_to_valid_kubernetes(name: str, tmp_path: Path) -> None:
    docs = kustomize_build(name)
    namespace = overlay(name)["namespace"]
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSIONS[0], strict=True)
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == namespace
        else:
            assert doc["metadata"]["namespace"] == namespace, doc_id(doc)
    namespaced = {doc_id(d) for d in docs if d["kind"] != "Namespace"}
    assert namespaced == {doc_id(d) for d in base_docs() if d["kind"] != "Namespace"}
    tags = {i["name"]: i for i in overlay(name)["images"]}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            (container,) = pod_spec(doc)["containers"]
            image = tags[container["image"].split(":")[0].rsplit("/", 1)[-1]]
            expected = f"{image.get('newName', image['name'])}:{image['newTag']}"
            assert container["image"] == expected
    replicas = {r["name"]: r["count"] for r in overlay(name)["replicas"]}
    for doc in docs:
        if doc["metadata"]["name"] in replicas and doc["kind"] in ("Deployment", "StatefulSet"):
            assert doc["spec"]["replicas"] == replicas[doc["metadata"]["name"]]

    statefulset = find(docs, "StatefulSet", "nats")
    (container,) = pod_spec(statefulset)["containers"]
    assert [e["name"] for e in container["env"]] == ["POD_NAME", "GOMEMLIMIT"]
    config = k8s_nats_config(docs)
    settings = nats_settings(config)
    assert settings["sync_interval"] == "always"
    routes = re.findall(r"nats://nats-(\d+)\.", config)
    if statefulset["spec"]["replicas"] == 1:
        assert "cluster" not in settings and not routes
    else:
        assert len(routes) == statefulset["spec"]["replicas"]
    path = tmp_path / "nats.conf"
    path.write_text(config)
    check = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "POD_NAME": "nats-0"},
        timeout=30,
    )
    assert check.returncode == 0, check.stderr
