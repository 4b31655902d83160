"""Container health probe for the service images (python:3.11-slim has no curl or wget).

    python /app/healthcheck.py [TARGET] [PATH]

TARGET is ``api`` (the API on port 8000, the default), ``worker`` (the worker's health server
on ``CPD_WORKER_HEALTH_PORT``, which listens on loopback only, so probes run inside the
container) or a port number. PATH defaults to ``/healthz``; ``/readyz`` checks the
dependencies. Exits 0 on HTTP 200, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.request

API_PORT = 8000


def port_of(target: str) -> int:
    if target == "api":
        return API_PORT
    if target == "worker":
        port = int(os.environ.get("CPD_WORKER_HEALTH_PORT") or 0)
        if not port:
            raise ValueError("CPD_WORKER_HEALTH_PORT is not set: the worker serves no health probe")
        return port
    return int(target)


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else "api"
    path = argv[2] if len(argv) > 2 else "/healthz"
    try:
        url = f"http://127.0.0.1:{port_of(target)}{path}"
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (ValueError, OSError) as exc:  # URLError and HTTPError are OSErrors
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
