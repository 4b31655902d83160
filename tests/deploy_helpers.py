"""What the deployment tests share: the services, paths and ports, the commands the images
run, the settings' environment names, YAML and compose-variable reading, NATS settings."""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

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
        "--loop",
        "uvloop",
        "--http",
        "httptools",
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
