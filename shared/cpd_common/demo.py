"""Reads the demo content a service ships as data (``make up`` and the demo tests)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def load_demo(package: str, name: str) -> Any:
    """Parses the YAML file ``name`` packaged inside ``package`` (e.g. ``"cpd_audit"``,
    ``"demo.yaml"``). Safe loading only: the files are data, never code."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)
