"""What every result file records about the run: versions, cores, pinning, machine load."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import UVICORN_HTTP, UVICORN_LOOP

PACKAGES = (
    "aiohttp",
    "asyncpg",
    "uvicorn",
    "h11",
    "httptools",
    "uvloop",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "pydantic",
    "nats-py",
    "pyjwt",
    "cryptography",
    "alembic",
)


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(root: Path, *args: str) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def environment(root: Path, *, pinned: bool) -> dict[str, Any]:
    """Static facts about this run (PostgreSQL/NATS versions are added by the stack)."""
    dirty = _git(root, "status", "--porcelain", "--", "shared", "services", "deploy")
    return {
        "started_at": datetime.now(UTC).isoformat(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": sorted(os.sched_getaffinity(0)),
        "cpus_pinned": pinned,
        "loadavg_at_start": loadavg(),
        "git_commit": _git(root, "rev-parse", "HEAD"),
        # Other engineers change product code while benchmarks run: say when the tree differs.
        "product_tree_dirty": bool(dirty),
        "product_tree_changes": dirty.splitlines()[:50],
        "packages": {name: _version(name) for name in PACKAGES},
        # What the servers are started with (bench.stack), and the installed versions.
        "uvicorn_loop": f"{UVICORN_LOOP} {_version(UVICORN_LOOP)}",
        "uvicorn_http": f"{UVICORN_HTTP} {_version(UVICORN_HTTP)}",
    }
