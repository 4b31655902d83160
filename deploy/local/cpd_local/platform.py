"""The platform's services, and how to build each for :mod:`cpd_local.stack` (tests, ``cpd up``).

The specs import the service packages lazily, when asked for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from cpd_local.stack import ServiceSpec

SERVICE_NAMES = ("gateway", "audit", "lessonstudy", "evaluation")


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def service_spec(name: str) -> ServiceSpec:
    main = importlib.import_module(f"cpd_{name}.main")
    settings = importlib.import_module(f"cpd_{name}.settings")
    worker = importlib.import_module(f"cpd_{name}.worker")
    return ServiceSpec(
        name=name,
        service_dir=_repo_root() / "services" / name,
        settings_cls=settings.Settings,
        create_app=main.create_app,
        subscriptions=getattr(worker, "subscriptions", lambda: []),
    )


def platform_specs(names: Sequence[str] = SERVICE_NAMES) -> list[ServiceSpec]:
    """The specs of ``names`` (by default every service), the gateway always first."""
    unknown = set(names) - set(SERVICE_NAMES)
    assert not unknown, f"no such service: {sorted(unknown)}"
    return [service_spec(name) for name in SERVICE_NAMES if name == "gateway" or name in names]
