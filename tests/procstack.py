"""The platform as real processes, for the fault-injection and replica suites
(``tests/reliability``, ``tests/replicas``): its own PostgreSQL (durable, so an immediate stop
loses nothing that was acknowledged) and NATS JetStream (fsync on every write), each service
migrated and run as uvicorn processes with the environment ``cpd up`` gives them, workers
started and restarted by ``cpd up``'s own :class:`~cpd_local.cli.Supervisor`.

Every child runs in its own process group (``bench.procs.Procs``); :meth:`ProcStack.close`
resumes, stops and kills every one of them, and both servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from cpd_common.testing.servers import EmbeddedNats, EmbeddedPostgres, free_port
from cpd_local.cli import Supervisor, log, service_env, start_process
from cpd_local.platform import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("admin@oakridge.example", "oakridge-admin-2026")
MIGRATE = (
    "import sys; from pathlib import Path; from cpd_common.migrations import upgrade; "
    "upgrade(Path(sys.argv[1]), sys.argv[2])"
)


class Procs:
    """Child processes, each leading its own process group, all stopped by :meth:`stop_all`
    (SIGCONT, SIGTERM, then SIGKILL of the group)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.children[name] = start_process(args, env, self.log_dir / f"{name}.log")

    def alive(self, name: str) -> bool:
        proc = self.children.get(name)
        return proc is not None and proc.poll() is None

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop_all(self) -> None:
        procs = list(self.children.values())
        self.children.clear()
        for proc in procs:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
        deadline = time.monotonic() + 10
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def http_status(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        return 0, repr(exc)


class ReplicaSupervisor(Supervisor):
    """``cpd up``'s supervisor (same restart rule, same ``check``), with workers keyed by
    replica: ``audit``, ``audit-2``, ... all run ``python -m cpd_audit.worker``."""

    def start_worker(self, name: str, env: dict[str, str]) -> None:
        self.worker_env[name] = env
        module = name.split("-")[0]
        proc = start_process(
            [sys.executable, "-m", f"cpd_{module}.worker"], env, self.logs / f"{name}-worker.log"
        )
        self.workers[name] = proc
        log(f"{name} worker started (pid {proc.pid})")


class ProcStack:
    """``services``: the gateway first, then the domain services run. ``api_replicas`` API
    processes and ``worker_replicas`` worker processes of each; ``gateway_replicas`` gateways,
    each with the comma-separated list of every replica of each upstream (round robin)."""

    def __init__(
        self,
        workdir: Path,
        services: tuple[str, ...] = ("gateway", "audit"),
        *,
        api_replicas: int = 1,
        worker_replicas: int = 1,
        gateway_replicas: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.services = services
        self.api_replicas = api_replicas
        self.worker_replicas = worker_replicas
        self.gateway_replicas = gateway_replicas
        self.extra_env = env or {}
        self.pg = EmbeddedPostgres(workdir / "postgres", durable=True)
        self.nats = EmbeddedNats(workdir / "nats", sync_always=True)
        self.procs = Procs(workdir / "logs")
        self.supervisor = ReplicaSupervisor(workdir / "logs")
        self.ports: dict[str, int] = {}
        for name in SERVICE_NAMES:
            replicas = gateway_replicas if name == "gateway" else api_replicas
            for i in range(replicas):
                self.ports[self.key(name, i)] = free_port()
        self._supervise = threading.Event()  # set: the supervisor restarts dead workers
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.envs: dict[str, dict[str, str]] = {}

    @staticmethod
    def key(name: str, replica: int) -> str:
        return name if replica == 0 else f"{name}-{replica + 1}"

    # ---- start --------------------------------------------------------------------------------

    def start(self) -> None:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.pg.start()
        self.nats.start()
        self._migrate()
        self._seed()
        server_url = self.pg.url("postgres")
        for name in self.services:
            env = service_env(name, server_url, self.nats.url, self.ports)
            env.update(
                {
                    "CPD_WORKER_HEARTBEAT_SECONDS": "0.5",
                    "CPD_WORKER_STALE_SECONDS": "3",
                    "CPD_READY_REQUIRES_UPSTREAMS": "false",
                    "CPD_RATE_LIMIT_PERSON_PER_MINUTE": "100000000",
                    "CPD_LOG_LEVEL": "WARNING",
                }
            )
            if name == "gateway":
                for other in SERVICE_NAMES[1:]:
                    urls = [
                        f"http://127.0.0.1:{self.ports[self.key(other, i)]}"
                        for i in range(self.api_replicas)
                    ]
                    env[f"CPD_{other.upper()}_URL"] = ",".join(urls)
            env.update(self.extra_env)
            self.envs[name] = env
        for name in self.services:
            for i in range(self.worker_replicas):
                self.supervisor.start_worker(self.key(name, i), self._worker_env(name))
        self._thread = threading.Thread(target=self._supervise_loop, daemon=True)
        self._thread.start()
        self._supervise.set()
        # The gateway first: the services fetch its JWKS when they start.
        for i in range(self.gateway_replicas):
            self.start_api("gateway", i)
        for i in range(self.gateway_replicas):
            self.wait_ready(self.key("gateway", i))
        for name in self.services[1:]:
            for i in range(self.api_replicas):
                self.start_api(name, i)
        for name in self.services[1:]:
            for i in range(self.api_replicas):
                self.wait_ready(self.key(name, i))

    def _worker_env(self, name: str) -> dict[str, str]:
        return dict(self.envs[name])

    def _migrate(self) -> None:
        procs = {}
        for name in self.services:
            self.pg.create_database(f"cpd_{name}")
            service_dir = ROOT / "services" / name
            procs[name] = subprocess.Popen(
                [sys.executable, "-c", MIGRATE, str(service_dir), self.pg.url(f"cpd_{name}")],
                cwd=service_dir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        try:
            for name, proc in procs.items():
                out, _ = proc.communicate(timeout=300)
                assert proc.returncode == 0, f"{name}: {out.decode(errors='replace')[-2000:]}"
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    def _seed(self) -> None:
        async def run() -> None:
            from cpd_common.db import create_engine, create_sessionmaker
            from cpd_gateway.demo import seed_demo

            engine = create_engine(self.pg.url("cpd_gateway"), pool_size=1, max_overflow=0)
            try:
                async with create_sessionmaker(engine)() as session:
                    await seed_demo(session)
                    await session.commit()
            finally:
                await engine.dispose()

        # Its own thread: the caller may be inside an event loop.
        error: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(run())
            except BaseException as exc:
                error.append(exc)

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if error:
            raise error[0]

    def start_api(self, name: str, replica: int = 0) -> None:
        key = self.key(name, replica)
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            f"cpd_{name}.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports[key]),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.procs.start(key, args, self.envs[name])

    def wait_ready(self, key: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last: tuple[int, str] = (0, "")
        while time.monotonic() < deadline:
            assert self.procs.alive(key), f"{key} exited:\n{self.procs.tail(key)}"
            last = http_status(self.url(key, "/readyz"))
            if last[0] == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"{key} not ready in {timeout}s: {last}\n{self.procs.tail(key)}")

    # ---- supervisor ---------------------------------------------------------------------------

    def _supervise_loop(self) -> None:
        while not self._closing.is_set():
            if self._supervise.is_set():
                self.supervisor.check()
            time.sleep(0.1)

    @contextlib.contextmanager
    def supervisor_paused(self) -> Any:
        """The supervisor looks away: a dead worker stays dead meanwhile."""
        self._supervise.clear()
        try:
            yield
        finally:
            self._supervise.set()

    def worker_pid(self, key: str) -> int:
        proc = self.supervisor.workers[key]
        assert proc.poll() is None, f"{key} worker is not running"
        return proc.pid

    def set_worker_env(self, key: str, **env: str | None) -> None:
        """The environment the supervisor starts ``key``'s worker with from its next restart."""
        current = self.supervisor.worker_env[key]
        for name, value in env.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value

    def kill_worker(self, key: str) -> int:
        pid = self.worker_pid(key)
        os.killpg(pid, signal.SIGKILL)
        return pid

    def wait_worker_restarted(self, key: str, old_pid: int, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.supervisor.workers[key]
            if proc.pid != old_pid and proc.poll() is None:
                return proc.pid
            time.sleep(0.05)
        raise AssertionError(f"{key} worker not restarted in {timeout}s")

    # ---- faults -------------------------------------------------------------------------------

    def pg_stop_immediate(self) -> None:
        """``pg_ctl stop -m immediate``. Under load pg_ctl has once answered 1 (its wait for
        the postmaster's exit timed out or raced the PID file): what counts is that the server
        is down, so it is asked again while it still runs, and the error says what pg_ctl said."""
        pg_ctl = str(self.pg.bin / "pg_ctl")
        said = ""
        for _ in range(5):
            done = self.pg._run(
                pg_ctl, "-D", str(self.pg.data_dir), "-m", "immediate", "-w", "stop", check=False
            )
            said += done.stdout + done.stderr
            status = self.pg._run(pg_ctl, "-D", str(self.pg.data_dir), "status", check=False)
            if status.returncode == 3:  # no server running
                return
            time.sleep(0.5)
        raise AssertionError(f"PostgreSQL did not stop: {said[-800:]}")

    def pg_start(self) -> None:
        self.pg.start()

    def pg_pids(self) -> list[int]:
        """The postmaster and every process it started (backends, background workers)."""
        master = int((self.pg.data_dir / "postmaster.pid").read_text().split()[0])
        pids = [master]
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{entry.name}/stat").read_text()
                    if int(stat[stat.rindex(")") + 2 :].split()[1]) == master:
                        pids.append(int(entry.name))
        return pids

    def pg_signal(self, sig: int, pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def nats_kill(self) -> None:
        assert self.nats.proc is not None
        self.nats.proc.kill()
        self.nats.proc.wait()
        self.nats.proc = None

    def nats_start(self) -> None:
        self.nats.start()

    # ---- reading ------------------------------------------------------------------------------

    def url(self, key: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[key]}{path}"

    def gateway_urls(self) -> list[str]:
        return [
            f"http://127.0.0.1:{self.ports[self.key('gateway', i)]}"
            for i in range(self.gateway_replicas)
        ]

    async def fetch(self, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.pg.dsn(f"cpd_{service}"))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def token(self, client: httpx.AsyncClient, base: str | None = None) -> str:
        resp = await client.post(
            f"{base or self.gateway_urls()[0]}/auth/token",
            data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]},
        )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def logs(self) -> str:
        out = []
        for path in sorted((self.workdir / "logs").glob("*.log")):
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(out)

    # ---- stop ---------------------------------------------------------------------------------

    def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self.pg_signal(signal.SIGCONT, self.pg_pids())
        with contextlib.suppress(Exception):
            self.supervisor.stop_all()
        self.procs.stop_all()
        with contextlib.suppress(Exception):
            self.nats.stop()
        with contextlib.suppress(Exception):
            self.pg.stop()
        pid_file = self.pg.data_dir / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(Exception):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


def new_email() -> str:
    return f"rel-{uuid.uuid4().hex[:12]}@oakridge.example"
