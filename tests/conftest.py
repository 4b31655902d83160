"""Fixtures of the cross-service tests: docker-compose.yml as docker compose reads it (the
compose and the Kubernetes NATS tests compare against it)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .deploy_helpers import ROOT, interpolate


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as `docker compose` sees it with no variables set."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(raw, {})
