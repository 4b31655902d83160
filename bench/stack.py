"""The platform as it runs in production, on this machine: a durable PostgreSQL (fsync on),
NATS JetStream fsyncing every write, every service migrated and run as its own uvicorn
process (``python -m uvicorn --factory cpd_<name>.main:create_app``, environment as ``cpd up``
sets it), the gateway's outbox relay and one consumer worker, plus the baseline apps.

Services other engineers are still building may fail to migrate or start: that is recorded
(``Stack.errors``) and the benchmarks use what runs. Only the gateway is required.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.config import UVICORN_HTTP, UVICORN_LOOP
from bench.procs import Procs
from cpd_common.testing.servers import EmbeddedNats, EmbeddedPostgres, free_port, nats_server_binary
from cpd_local.stack import DEV_SECRETS_KEY

SERVICES = ("gateway", "audit", "lessonstudy", "evaluation")
DOMAIN = ("audit", "lessonstudy", "evaluation")
ISSUER = "https://cpd.local"
AUDIENCE = "cpd-api"
ROUND_TRIP_DB = "cpd_gateway_rt"  # a copy of the seeded gateway database, for SQL counting

ADMIN = ("admin@oakridge.example", "oakridge-admin-2026")

MIGRATE = (
    "import sys; from pathlib import Path; from cpd_common.migrations import upgrade; "
    "upgrade(Path(sys.argv[1]), sys.argv[2])"
)


_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


class Stack:
    def __init__(self, workdir: Path, procs: Procs) -> None:
        self.workdir = workdir
        self.procs = procs
        self.pg = EmbeddedPostgres(workdir / "postgres", durable=True)
        self.nats = EmbeddedNats(workdir / "nats", sync_always=True)
        self.ports: dict[str, int] = {
            name: free_port() for name in (*SERVICES, "hello", "raw", "gateway_rt", "raw_rt")
        }
        self.up: dict[str, bool] = {}
        self.errors: dict[str, str] = {}
        self.consumer: str | None = None  # the domain service whose worker consumes events
        self.consumer_durable: str | None = None
        self.token = ""
        self.info: dict[str, Any] = {}
        self._pg_started = False

    # ---- infrastructure ----------------------------------------------------------------------

    def start_infra(self) -> None:
        log("starting PostgreSQL (durable: fsync on) ...")
        self.pg.start()
        self._pg_started = True
        # Commit timestamps of the outbox insert and of the consumer's inbox insert give the
        # event lag exactly (commit to commit); needs a restart.
        self.pg.psql("ALTER SYSTEM SET track_commit_timestamp = on")
        self.pg.stop()
        self.pg.start()
        log("starting NATS JetStream (sync_interval: always) ...")
        self.nats.start()
        self.info["postgres"] = self.pg.psql("SELECT version()")
        self.info["postgres_settings"] = dict(
            line.split("|", 1)
            for line in self.pg.psql(
                "SELECT name || '|' || setting FROM pg_settings WHERE name IN ('fsync', "
                "'synchronous_commit', 'wal_sync_method', 'track_commit_timestamp', "
                "'shared_buffers', 'max_connections')"
            ).splitlines()
        )
        try:
            out = subprocess.run(
                [nats_server_binary(), "--version"], capture_output=True, text=True, timeout=10
            )
            self.info["nats_server"] = (out.stdout or out.stderr).strip()
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            self.info["nats_server"] = f"unknown ({exc})"
        self.info["nats_sync_always"] = self.nats.sync_always

    def db_url(self, service: str) -> str:
        return self.pg.url(f"cpd_{service}")

    def dsn(self, database: str) -> str:
        return self.pg.dsn(database)

    def migrate(self) -> None:
        log("creating and migrating databases ...")
        procs = {}
        for name in SERVICES:
            self.pg.create_database(f"cpd_{name}")
            service_dir = repo_root() / "services" / name
            procs[name] = subprocess.Popen(
                [sys.executable, "-c", MIGRATE, str(service_dir), self.db_url(name)],
                cwd=service_dir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        try:
            for name, proc in procs.items():
                out, _ = proc.communicate(timeout=300)
                if proc.returncode != 0:
                    self.errors[name] = "migration failed: " + out.decode(errors="replace")[-1500:]
                    log(f"{name}: migration failed (benchmarks will not use it)")
        finally:
            for proc in procs.values():  # interrupted or timed out: none may outlive the run
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if "gateway" in self.errors:
            raise RuntimeError(self.errors["gateway"])

    def seed(self) -> None:
        log("seeding the demo trust into the gateway's database ...")

        async def run() -> None:
            from cpd_common.db import create_engine, create_sessionmaker
            from cpd_gateway.demo import seed_demo

            engine = create_engine(self.db_url("gateway"), pool_size=1, max_overflow=0)
            try:
                async with create_sessionmaker(engine)() as session:
                    await seed_demo(session)
                    await session.commit()
            finally:
                await engine.dispose()

        asyncio.run(run())
        # Before any process connects to it: the copy SQL round trips are counted on.
        self.pg.create_database(ROUND_TRIP_DB, template="cpd_gateway")

    # ---- processes ---------------------------------------------------------------------------

    def service_env(
        self, name: str, *, database: str | None = None, port: int | None = None
    ) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "CPD_DATABASE_URL": self.pg.url(database or f"cpd_{name}"),
                "CPD_NATS_URL": self.nats.url,
                "CPD_JWKS_URL": f"http://127.0.0.1:{port or self.ports['gateway']}/.well-known/jwks.json",
                "CPD_JWT_ISSUER": ISSUER,
                "CPD_JWT_AUDIENCE": AUDIENCE,
                "CPD_LOG_JSON": "false",
                "PYTHONUNBUFFERED": "1",
                # The bench runs only the workers it measures: readiness means "can serve HTTP".
                "CPD_READY_REQUIRES_WORKER": "false",
                "CPD_READY_REQUIRES_UPSTREAMS": "false",
                # One token sends thousands of requests a second: the rate limit stays on (its
                # cost is measured) but never refuses.
                "CPD_RATE_LIMIT_PERSON_PER_MINUTE": "100000000",
            }
        )
        if name == "gateway":
            env.setdefault("CPD_SECRETS_KEY", DEV_SECRETS_KEY)
            for other in DOMAIN:
                # A service that did not start still gets a (dead) address: the gateway answers 503.
                env[f"CPD_{other.upper()}_URL"] = f"http://127.0.0.1:{self.ports[other]}"
        return env

    @staticmethod
    def uvicorn_args(app: str, port: int, *, factory: bool) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            *(["--factory"] if factory else []),
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            UVICORN_LOOP,
            "--http",
            UVICORN_HTTP,
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def start_api(self, name: str, *, key: str | None = None, database: str | None = None) -> None:
        key = key or name
        port = self.ports[key]
        self.procs.start(
            key,
            self.uvicorn_args(f"cpd_{name}.main:create_app", port, factory=True),
            self.service_env(name, database=database, port=port if key != name else None),
        )

    def start_raw(
        self, key: str = "raw", database: str = "cpd_gateway", gateway_port: int | None = None
    ) -> None:
        from cpd_demo.trust import OAKRIDGE

        env = dict(os.environ)
        env.update(
            {
                "BENCH_DSN": self.dsn(database),
                "BENCH_POOL_MAX": "20",  # the services' pool: db_pool_size 20, no overflow
                "BENCH_TRUST_ID": str(OAKRIDGE),
                "BENCH_JWKS_URL": f"http://127.0.0.1:{gateway_port or self.ports['gateway']}/.well-known/jwks.json",
                "BENCH_ISSUER": ISSUER,
                "BENCH_AUDIENCE": AUDIENCE,
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(repo_root()) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            }
        )
        self.procs.start(
            key,
            self.uvicorn_args("bench.apps.rawdb:create_app", self.ports[key], factory=True),
            env,
        )

    def wait_ready(self, key: str, path: str = "/readyz", timeout: float = 60.0) -> bool:
        url = f"http://127.0.0.1:{self.ports[key]}{path}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.procs.alive(key):
                self.errors[key] = "exited during startup:\n" + self.procs.tail(key, 1500)
                return False
            if http_ok(url):
                return True
            time.sleep(0.1)
        self.errors[key] = f"not ready after {timeout:.0f}s:\n" + self.procs.tail(key, 1500)
        return False

    def start_services(self) -> None:
        log("starting the services (uvicorn, one process each) ...")
        for name in SERVICES:
            if name not in self.errors:
                self.start_api(name)
        env = dict(os.environ, PYTHONPATH=str(repo_root()))
        self.procs.start(
            "hello",
            self.uvicorn_args("bench.apps.hello:app", self.ports["hello"], factory=False),
            env,
        )
        if not self.wait_ready("gateway"):
            raise RuntimeError("the gateway did not start: " + self.errors["gateway"])
        self.up["gateway"] = True
        for name in DOMAIN:
            self.up[name] = name not in self.errors and self.wait_ready(name)
            if not self.up[name]:
                log(f"{name} did not start (benchmarks will not use it)")
        self.start_raw()  # after the gateway: it fetches the JWKS at startup
        for key, path in (("hello", "/"), ("raw", "/healthz")):
            if not self.wait_ready(key, path, timeout=30):
                raise RuntimeError(f"baseline app {key} did not start: {self.errors.get(key)}")
        self.token = self._login()
        self.start_workers()

    def _login(self, port: int | None = None) -> str:
        data = urllib.parse.urlencode(
            {"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]}
        ).encode()
        url = f"http://127.0.0.1:{port or self.ports['gateway']}/auth/token"
        with urllib.request.urlopen(url, data=data, timeout=30) as resp:
            return str(json.loads(resp.read())["access_token"])

    def start_workers(self) -> None:
        """The gateway's relay and the first domain service that runs and consumes
        ``cpd.directory.>`` (its durable name read from its worker module)."""
        self.procs.start(
            "gateway-worker",
            [sys.executable, "-m", "cpd_gateway.worker"],
            self.service_env("gateway"),
        )
        for name in DOMAIN:
            if not self.up.get(name):
                continue
            try:
                worker = importlib.import_module(f"cpd_{name}.worker")
                subs = [s for s in worker.subscriptions() if s.filter_subject == "cpd.directory.>"]
            except Exception as exc:
                self.errors[f"{name}-worker"] = f"import failed: {exc!r}"
                continue
            if not subs:
                continue
            self.consumer, self.consumer_durable = name, subs[0].durable
            self.procs.start(
                f"{name}-worker",
                [sys.executable, "-m", f"cpd_{name}.worker"],
                self.service_env(name),
            )
            log(f"consumer for event lag: {name} worker (durable {self.consumer_durable})")
            return
        log("no domain service worker consumes directory events: event lag will be skipped")

    def pid(self, key: str) -> int:
        pid = self.procs.pid(key)
        if pid is None:
            raise RuntimeError(f"{key} is not running:\n{self.procs.tail(key)}")
        return pid

    def postmaster_pid(self) -> int:
        return int((self.pg.data_dir / "postmaster.pid").read_text().split()[0])

    def url(self, key: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[key]}{path}"

    # ---- cleanup -----------------------------------------------------------------------------

    def close(self) -> None:
        self.procs.stop_all()
        with contextlib.suppress(Exception):
            self.nats.stop()
        if self._pg_started:
            with contextlib.suppress(Exception):
                self.pg.stop()
            pid_file = self.pg.data_dir / "postmaster.pid"
            if pid_file.exists():  # pg_ctl stop failed: do not leave a server behind
                with contextlib.suppress(Exception):
                    os.kill(int(pid_file.read_text().split()[0]), 9)
