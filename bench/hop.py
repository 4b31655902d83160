"""gateway_hop: what the gateway's proxy adds to a routed request.

The same authenticated request sent straight to the domain service ("direct") and through
the gateway ("via_gateway"), with a bare Starlette hello under uvicorn as the floor of this
machine and load generator. Added latency at 1 connection (p50, p99: via minus direct, per
round), throughput ratio at 32 connections (via / direct, per round); medians over rounds.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from bench.config import Config, bar
from bench.load import (
    Target,
    cpu_bound_ratio,
    cpu_figures,
    median,
    one_request,
    rotate,
    rounded,
    run_load,
)
from bench.stack import DOMAIN, Stack, log
from cpd_gateway.proxy import ROUTES

# Cheapest first: a lookup by id that the service answers after verifying the token.
PREFERRED_SEGMENTS = ("audits", "needs", "instruments", "lesson-studies", "activities")
# (every domain service has a segment here: the fallback below needs one)
ROUTE_RE = re.compile(r"^/v1/([a-z-]+)/\{[A-Za-z_]+\}$")


async def choose_route(stack: Stack) -> dict[str, Any]:
    """A routed ``GET /v1/<resource>/{id}`` that a running domain service really serves,
    read from its OpenAPI document now (other engineers are adding routes)."""
    auth = {"Authorization": f"Bearer {stack.token}"}
    candidates: list[tuple[int, str, str]] = []
    for service in DOMAIN:
        if not stack.up.get(service):
            continue
        status, body = await one_request("GET", stack.url(service, "/openapi.json"))
        if status != 200:
            continue
        for path, ops in json.loads(body).get("paths", {}).items():
            m = ROUTE_RE.match(path)
            if m and "get" in ops and ROUTES.get(m.group(1)) == service:
                seg = m.group(1)
                rank = PREFERRED_SEGMENTS.index(seg) if seg in PREFERRED_SEGMENTS else 99
                candidates.append((rank, service, path))
    for _rank, service, path in sorted(candidates):
        probe = re.sub(r"\{[A-Za-z_]+\}", str(uuid.uuid4()), path)
        direct, _ = await one_request("GET", stack.url(service, probe), headers=auth)
        via, _ = await one_request("GET", stack.url("gateway", probe), headers=auth)
        if direct == via and direct < 500:
            return {
                "service": service,
                "path": path,
                "status": direct,
                "served_by_route": True,
                "what": f"GET {path} with a random id: token verified by the service, then its "
                f"lookup by id (answers {direct})",
            }
    # Nothing suitable yet: an unrouted id under /v1/audits (the service's 404 without auth).
    for service in DOMAIN:
        if stack.up.get(service):
            seg = next(s for s in PREFERRED_SEGMENTS if ROUTES.get(s) == service)
            path = f"/v1/{seg}/{{id}}"
            probe = path.replace("{id}", str(uuid.uuid4()))
            direct, _ = await one_request("GET", stack.url(service, probe), headers=auth)
            return {
                "service": service,
                "path": path,
                "status": direct,
                "served_by_route": False,
                "what": "no suitable route yet: the service's router 404 (no token check, no SQL)",
            }
    raise RuntimeError("no domain service is running: cannot measure the gateway hop")


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    route = await choose_route(stack)
    service = route["service"]
    log(f"gateway_hop: {route['path']} on {service} (answers {route['status']})")
    auth = {"Authorization": f"Bearer {stack.token}"}
    paths = [route["path"].split("{")[0] + str(uuid.uuid4()) for _ in range(1000)]
    expect = frozenset({route["status"]})
    pg = (stack.postmaster_pid(), True)
    targets = {
        "hello": Target(
            "hello", "GET", [stack.url("hello", "/")], cpu={"hello": (stack.pid("hello"), False)}
        ),
        "direct": Target(
            "direct",
            "GET",
            [stack.url(service, p) for p in paths],
            headers=auth,
            expect=expect,
            cpu={service: (stack.pid(service), False), "postgres": pg},
        ),
        "via_gateway": Target(
            "via_gateway",
            "GET",
            [stack.url("gateway", p) for p in paths],
            headers=auth,
            expect=expect,
            cpu={
                "gateway": (stack.pid("gateway"), False),
                service: (stack.pid(service), False),
                "postgres": pg,
            },
        ),
    }
    order = list(targets)
    for name in order:  # warm pools, caches, JWKS
        await run_load(targets[name], connections=cfg.connections, seconds=0.7, warmup=0.3)

    rounds: list[dict[str, Any]] = []
    for r in range(cfg.rounds):
        runs: dict[str, Any] = {}
        for conns in (1, cfg.connections):
            for name in rotate(order, r):
                res = await run_load(
                    targets[name], connections=conns, seconds=cfg.seconds(conns), warmup=cfg.warmup
                )
                runs[f"{name}@{conns}"] = res.as_dict()
        n = cfg.connections
        one = {k: runs[f"{k}@1"] for k in order}
        many = {k: runs[f"{k}@{n}"] for k in order}
        rounds.append(
            {
                "round": r + 1,
                "added_p50_ms": one["via_gateway"]["p50_ms"] - one["direct"]["p50_ms"],
                "added_p99_ms": one["via_gateway"]["p99_ms"] - one["direct"]["p99_ms"],
                "throughput_ratio": many["via_gateway"]["rps"] / many["direct"]["rps"],
                "direct_vs_hello_rps_ratio": many["direct"]["rps"] / many["hello"]["rps"],
                "runs": runs,
            }
        )
        log(
            f"gateway_hop round {r + 1}: +{rounds[-1]['added_p50_ms']:.3f} ms p50, "
            f"+{rounds[-1]['added_p99_ms']:.3f} ms p99, {rounds[-1]['throughput_ratio']:.3f}x"
        )

    def med(key: str, target: str, conns: int) -> float:
        return median([rd["runs"][f"{target}@{conns}"][key] for rd in rounds])

    added_p50 = rounded(median([rd["added_p50_ms"] for rd in rounds]), 4)
    added_p99 = rounded(median([rd["added_p99_ms"] for rd in rounds]), 4)
    tput = rounded(median([rd["throughput_ratio"] for rd in rounds]), 3)
    absolute = {
        f"{t}@{c}": {
            "p50_ms": rounded(med("p50_ms", t, c), 4),
            "p99_ms": rounded(med("p99_ms", t, c), 4),
            "rps": rounded(med("rps", t, c), 1),
            "client_cpu_share": rounded(med("client_cpu_share", t, c), 3),
        }
        for t in order
        for c in (1, cfg.connections)
    }
    n = cfg.connections
    cpu = cpu_figures(rounds, [f"{t}@{c}" for t in order for c in (1, n)])
    return {
        "route": route,
        "cpu_ms_per_request": cpu,
        "figures": {
            "added_p50_ms_at_1": added_p50,
            "added_p99_ms_at_1": added_p99,
            f"throughput_ratio_at_{cfg.connections}": tput,
            "direct_vs_hello_rps_ratio": rounded(
                median([rd["direct_vs_hello_rps_ratio"] for rd in rounds]), 3
            ),
            # Contention-robust cross-checks (estimates, not the bar figures):
            f"gateway_cpu_ms_per_proxied_request_at_{n}": cpu[f"via_gateway@{n}"].get("gateway"),
            f"cpu_bound_throughput_ratio_estimate_at_{n}": cpu_bound_ratio(
                cpu, f"via_gateway@{n}", f"direct@{n}"
            ),
        },
        "bars": {
            "added_p50_ms_at_1": bar(added_p50, 0.35, "<=", " ms"),
            "added_p99_ms_at_1": bar(added_p99, 0.6, "<=", " ms"),
            f"throughput_ratio_at_{cfg.connections}": bar(tput, 0.45, ">=", "x"),
        },
        "absolute_medians": absolute,
        "rounds": rounds,
    }
