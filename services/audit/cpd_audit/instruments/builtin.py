"""The built-in instruments: data files in ``builtins/`` (one JSON file per instrument
version), the same for every trust, written into each database by data migrations (never
from a request).

Items are written in our own words and keyed as their frameworks number them: the eight
principles of effective CPD (``1``-``8``), the CPD Quality Framework's statements in seven
areas (``1a``-``7e``; version 1 had 43 and lacked ``2h``, version 2 has all 44) and the staff
CPD audit's five areas (``1a``-``5a``). Each version has a fixed id, so every database holds
the same rows and an audit names exactly what its staff answered. A file, once released,
never changes: a revised wording is a new version file and a new data migration.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

BUILTIN_NAMESPACE = uuid.UUID("3f1d2c9e-8a47-4b0e-9d6c-5a1e7b2f4c80")
DATA = Path(__file__).with_name("builtins")

# Every released version, oldest first (what the data migrations load).
VERSIONS: tuple[tuple[str, int], ...] = (
    ("effective-cpd-principles", 1),
    ("cpd-quality-framework", 1),
    ("staff-cpd-audit", 1),
    ("cpd-quality-framework", 2),
)


def instrument_id(key: str) -> uuid.UUID:
    return uuid.uuid5(BUILTIN_NAMESPACE, f"instrument:{key}")


def version_id(key: str, version: int) -> uuid.UUID:
    return uuid.uuid5(BUILTIN_NAMESPACE, f"instrument:{key}:v{version}")


@cache
def load(key: str, version: int) -> dict[str, Any]:
    """One built-in version: key, title, description, framework, version, sections, items."""
    data: dict[str, Any] = json.loads((DATA / f"{key}.v{version}.json").read_text(encoding="utf-8"))
    if (data["key"], data["version"]) != (key, version):
        raise ValueError(f"builtins/{key}.v{version}.json names another version")
    return data


def latest(key: str) -> dict[str, Any]:
    return load(key, max(v for k, v in VERSIONS if k == key))
