"""The one service Dockerfile (a build argument picks the service) and .dockerignore: built
with uv, run as non-root, copying only what the build context holds; the commands the image
runs exist in the code; migrations run from the image's working directory; the health
check script works. No Docker engine runs here."""

from __future__ import annotations

import http.server
import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from cpd_common.settings import ServiceSettings
from cpd_common.testing.databases import unique_name
from cpd_common.testing.servers import free_port

from .deploy_helpers import (
    API_PORT,
    IMAGE_WORKDIR,
    ROOT,
    SERVICES,
    api_command,
    migrate_command,
    package_name,
)

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
        "tests/test_deploy_docker.py",
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
