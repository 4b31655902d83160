"""memory: resident set size (``VmRSS`` in ``/proc/<pid>/status``) of each idle API process,
once after startup (before any load) and once at the end of the run (idle again after every
other benchmark's load); the bare Starlette hello and the raw-asyncpg app under the same
uvicorn are the baselines, the workers are shown for information."""

from __future__ import annotations

import time
from typing import Any

from bench.config import bar
from bench.procs import rss_mb
from bench.stack import DOMAIN, Stack

APIS = ("gateway", *DOMAIN)


def snapshot(stack: Stack) -> dict[str, float | None]:
    time.sleep(1.0)  # idle: let in-flight work and pool returns settle
    keys = [*APIS, "hello", "raw", *(k for k in stack.procs.children if k.endswith("-worker"))]
    out: dict[str, float | None] = {}
    for key in keys:
        pid = stack.procs.pid(key)
        rss = rss_mb(pid) if pid else None
        out[key] = round(rss, 1) if rss is not None else None
    return out


def result(
    stack: Stack, at_start: dict[str, float | None], at_end: dict[str, float | None]
) -> dict[str, Any]:
    bars: dict[str, dict[str, object]] = {}
    for key in APIS:
        if at_start.get(key) is None and at_end.get(key) is None:
            bars[f"{key} idle RSS"] = {
                "value": None,
                "bar": "<= 120 MB",
                "pass": None,
                "note": stack.errors.get(key, "not running"),
            }
            continue
        worst = max(v for v in (at_start.get(key), at_end.get(key)) if v is not None)
        bars[f"{key} idle RSS (worst of start/end)"] = bar(worst, 120, "<=", " MB")
    hello = at_start.get("hello")
    return {
        "unit": "MB (2^20 bytes), VmRSS",
        "at_start": at_start,
        "at_end": at_end,
        "ratio_to_hello_at_start": {
            k: round(v / hello, 2) for k, v in at_start.items() if v is not None and hello
        },
        "bars": bars,
    }
