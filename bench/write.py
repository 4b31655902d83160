"""write_endpoint: ``POST /v1/schools`` as a trust admin (school row + outbox row in one
transaction), straight to the gateway, which owns that write; against the raw-asyncpg app
doing the same two inserts in one transaction (no auth, no validation beyond JSON).

Both write into the gateway's real ``schools`` and ``outbox`` tables on the durable server.
The gateway's relay and the consumer worker are paused (SIGSTOP) during these rounds, so the
figure is the endpoint's, not the endpoint's minus the relay's share of the same two cores;
the rows they leave in the outbox are never relayed (this benchmark runs last).
"""

from __future__ import annotations

import json
from typing import Any

from bench.config import Config, bar
from bench.load import Target, cpu_bound_ratio, cpu_figures, median, rotate, rounded, run_load
from bench.stack import Stack, log

BODY = json.dumps({"name": "Bench Academy", "phase": "secondary"}).encode()


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    n = cfg.connections
    json_ct = {"Content-Type": "application/json"}
    pg = (stack.postmaster_pid(), True)
    targets = {
        "gateway": Target(
            "gateway",
            "POST",
            [stack.url("gateway", "/v1/schools")],
            headers={"Authorization": f"Bearer {stack.token}", **json_ct},
            body=BODY,
            expect=frozenset({201}),
            cpu={"gateway": (stack.pid("gateway"), False), "postgres": pg},
        ),
        "raw_asyncpg": Target(
            "raw_asyncpg",
            "POST",
            [stack.url("raw", "/v1/schools")],
            headers=json_ct,
            body=BODY,
            expect=frozenset({201}),
            cpu={"raw": (stack.pid("raw"), False), "postgres": pg},
        ),
    }
    workers = [k for k in list(stack.procs.children) if k.endswith("-worker")]
    for w in workers:
        stack.procs.pause(w)
    rounds: list[dict[str, Any]] = []
    try:
        order = list(targets)
        for name in order:
            await run_load(targets[name], connections=n, seconds=1.0, warmup=0.3)
        for r in range(cfg.rounds):
            runs = {}
            for name in rotate(order, r):
                res = await run_load(
                    targets[name], connections=n, seconds=cfg.seconds_n, warmup=cfg.warmup
                )
                runs[name] = res.as_dict()
            rounds.append(
                {
                    "round": r + 1,
                    "gateway_rps": runs["gateway"]["rps"],
                    "throughput_ratio": runs["gateway"]["rps"] / runs["raw_asyncpg"]["rps"],
                    "runs": runs,
                }
            )
            log(
                f"write_endpoint round {r + 1}: gateway {runs['gateway']['rps']:.0f}/s, "
                f"raw {runs['raw_asyncpg']['rps']:.0f}/s"
            )
    finally:
        for w in workers:
            stack.procs.resume(w)

    def med(key: str, target: str) -> float:
        return median([rd["runs"][target][key] for rd in rounds])

    rps = rounded(median([rd["gateway_rps"] for rd in rounds]), 1)
    cpu = cpu_figures(rounds, list(targets))
    gw_server = cpu["gateway"].get("server")
    return {
        "path": "/v1/schools",
        "relay_paused_during_rounds": workers,
        "cpu_ms_per_request": cpu,
        "figures": {
            f"gateway_rps_at_{n}": rps,
            f"raw_asyncpg_rps_at_{n}": rounded(med("rps", "raw_asyncpg"), 1),
            f"throughput_ratio_vs_raw_at_{n}": rounded(
                median([rd["throughput_ratio"] for rd in rounds]), 3
            ),
            f"gateway_p50_ms_at_{n}": rounded(med("p50_ms", "gateway"), 3),
            f"gateway_p99_ms_at_{n}": rounded(med("p99_ms", "gateway"), 3),
            # Contention-robust cross-checks (estimates, not the bar figures):
            "gateway_cpu_ms_per_write": cpu["gateway"].get("gateway"),
            "raw_cpu_ms_per_write": cpu["raw_asyncpg"].get("raw"),
            "cpu_bound_throughput_ratio_estimate": cpu_bound_ratio(cpu, "gateway", "raw_asyncpg"),
            # Writes/s if the gateway and PostgreSQL had one whole core each way: the ceiling
            # this code reaches per core, whatever else runs.
            "cpu_bound_rps_per_core_estimate": rounded(1000 / gw_server, 1) if gw_server else None,
        },
        "bars": {
            f"gateway_rps_at_{n} (direct)": bar(rps, 1500, ">=", "/s"),
            "through the gateway (>= 800/s)": {
                "value": None,
                "bar": ">= 800/s",
                "pass": None,
                "note": "not applicable: the gateway itself owns POST /v1/schools",
            },
        },
        "absolute_medians": {
            t: {
                "rps": rounded(med("rps", t), 1),
                "p50_ms": rounded(med("p50_ms", t), 3),
                "p99_ms": rounded(med("p99_ms", t), 3),
                "client_cpu_share": rounded(med("client_cpu_share", t), 3),
            }
            for t in targets
        },
        "rounds": rounds,
    }
