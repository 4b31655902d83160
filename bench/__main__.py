"""``python -m bench`` (``make bench``): every benchmark of DESIGN.md section 9 that has a
harness here, against real servers, with its baselines in the same run.

Writes ``bench/results/<name>.json`` per benchmark (with the environment: versions, cores,
pinning) and prints a JSON summary (figures against bars) on stdout; progress goes to stderr.
Every child process (servers, services, workers, baselines) runs in its own process group
and is stopped on exit, on errors and on Ctrl-C/SIGTERM alike.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import math
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import (
    event_lag,
    hop,
    hr_import,
    login_burst,
    memory,
    observations_upload,
    read,
    scale,
    write,
)
from bench.config import Config
from bench.env import environment, loadavg
from bench.procs import Procs
from bench.stack import Stack, log, repo_root

# Order matters: writes leave un-relayed outbox rows behind, so they come last.
BENCHMARKS = (
    "gateway_hop",
    "read_endpoint",
    "login_burst",
    "event_lag",
    "observations_upload",
    "hr_import",
    "scale",
    "write_endpoint",
    "memory",
)
RUNNERS = {
    "gateway_hop": hop.run,
    "read_endpoint": read.run,
    "event_lag": event_lag.run,
    "write_endpoint": write.run,
    "observations_upload": observations_upload.run,
    "hr_import": hr_import.run,
    "login_burst": login_burst.run,
    "scale": scale.run,
}
# --quick: a one-minute check that every harness still runs (not a measurement to quote).
QUICK = {
    "only": "gateway_hop,read_endpoint,scale",
    "rounds": 1,
    "seconds": 1.0,
    "seconds_1": 0.5,
    "scale_high": 2,
    "scale_seconds": 0.3,
    "scale_min_requests": 2,
}
RESULTS = Path(__file__).resolve().parent / "results"


def _clean(value: Any) -> Any:
    """JSON without NaN (``null`` instead)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("figures", "bars", "route", "error", "skipped", "at_start", "at_end", "seeding")
    return {k: v for k, v in result.items() if k in keep}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    p.add_argument("--rounds", type=int, default=Config.rounds, help="interleaved rounds (>= 3)")
    p.add_argument("--seconds", type=float, default=Config.seconds_n, help="32-connection run")
    p.add_argument("--seconds-1", type=float, default=Config.seconds_1, help="1-connection run")
    p.add_argument("--lag-seconds", type=float, default=Config.lag_seconds)
    p.add_argument(
        "--lag-rates",
        default=",".join(str(r) for r in Config.lag_rates),
        help="event rates per second, comma-separated",
    )
    p.add_argument(
        "--scale-high",
        type=int,
        default=Config.scale_high,
        help="scale: trusts of the larger platform",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a one-minute check: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()),
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value if key != "only" or not args.only else args.only)
    selected = BENCHMARKS if not args.only else tuple(args.only.split(","))
    unknown = set(selected) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    cfg = Config(
        rounds=args.rounds,
        seconds_n=args.seconds,
        seconds_1=args.seconds_1,
        lag_seconds=args.lag_seconds,
        lag_rates=tuple(int(r) for r in args.lag_rates.split(",")),
        scale_high=args.scale_high,
        scale_seconds=getattr(args, "scale_seconds", Config.scale_seconds),
        scale_min_requests=getattr(args, "scale_min_requests", Config.scale_min_requests),
    )
    started = time.monotonic()
    env = environment(repo_root(), pinned=False)
    workdir = Path(tempfile.mkdtemp(prefix="cpd-bench-"))
    procs = Procs(workdir / "logs")
    stack = Stack(workdir, procs)
    closed = False

    def close() -> None:
        nonlocal closed
        if closed:
            return
        closed = True
        log("stopping every child process ...")
        stack.close()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    def on_signal(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    atexit.register(close)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    results: dict[str, Any] = {}
    try:
        stack.start_infra()
        stack.migrate()
        stack.seed()
        stack.start_services()
        env["servers"] = stack.info
        env["services_not_running"] = {k: v[:500] for k, v in stack.errors.items()}
        env["config"] = asdict(cfg)
        env["load_generator"] = (
            "aiohttp, closed loop, in the benchmark process: it shares the "
            f"{env['cpu_count']} cores with every server (see client_cpu_share per run)"
        )
        mem_start = memory.snapshot(stack)
        for name in selected:
            if name == "memory":
                continue
            log(f"--- {name} ---")
            t0 = time.monotonic()
            try:
                results[name] = asyncio.run(RUNNERS[name](stack, cfg))
            except Exception as exc:
                results[name] = {"error": f"{exc!r}", "traceback": traceback.format_exc()[-4000:]}
                log(f"{name} failed: {exc!r}")
            results[name]["duration_s"] = round(time.monotonic() - t0, 1)
        if "memory" in selected:
            results["memory"] = memory.result(stack, mem_start, memory.snapshot(stack))
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        env["loadavg_at_end"] = loadavg()
        env["duration_s"] = round(time.monotonic() - started, 1)
        close()

    RESULTS.mkdir(exist_ok=True)
    for name, result in results.items():
        doc = _clean({"benchmark": name, "environment": env, **result})
        (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    summary = _clean(
        {
            "environment": {
                k: env.get(k)
                for k in (
                    "git_commit",
                    "product_tree_dirty",
                    "python",
                    "cpu_count",
                    "cpus_pinned",
                    "uvicorn_loop",
                    "uvicorn_http",
                    "loadavg_at_start",
                    "loadavg_at_end",
                    "duration_s",
                    "services_not_running",
                )
            }
            | {"postgres": env.get("servers", {}).get("postgres", "")[:40]},
            "results_dir": str(RESULTS),
            "benchmarks": {name: _summary(r) for name, r in results.items()},
        }
    )
    print(json.dumps(summary, indent=2, default=str))
    failed = [n for n, r in results.items() if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
