"""Child processes of a benchmark run: each in its own process group, always cleaned up.

Every process is started with ``start_new_session=True`` so it leads its own process group;
:meth:`Procs.stop_all` sends SIGCONT (a paused worker must be able to die) and SIGTERM to each
group, waits, then SIGKILLs what is left. ``__main__`` calls it in a ``finally`` and from an
``atexit`` hook, so children never outlive the run, even on errors or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Procs:
    log_dir: Path
    children: dict[str, Child] = field(default_factory=dict)

    def start(
        self, name: str, args: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                args,
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, proc, log)
        self.children[name] = child
        return child

    def pid(self, name: str) -> int | None:
        child = self.children.get(name)
        if child is None or child.proc.poll() is not None:
            return None
        return child.proc.pid

    def alive(self, name: str) -> bool:
        return self.pid(name) is not None

    def signal(self, name: str, sig: int) -> None:
        child = self.children.get(name)
        if child is not None and child.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, sig)

    def pause(self, name: str) -> None:
        self.signal(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.signal(name, signal.SIGCONT)

    def stop(self, name: str, timeout: float = 10.0) -> None:
        child = self.children.pop(name, None)
        if child is not None:
            _terminate([child], timeout)

    def stop_all(self, timeout: float = 10.0) -> None:
        children = list(self.children.values())
        self.children.clear()
        _terminate(children, timeout)

    def tail(self, name: str, chars: int = 3000) -> str:
        child = self.children.get(name)
        path = child.log if child else self.log_dir / f"{name}.log"
        try:
            return path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _terminate(children: list[Child], timeout: float) -> None:
    for child in children:
        if child.proc.poll() is None:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.proc.pid, sig)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        # Kill the whole group: a straggler (or a grandchild) must not outlive the run.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(timeout=5)


# ---- /proc readings ---------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    """Resident set size (VmRSS) of one process, in MB (2**20 bytes)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds user+system) of a process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """CPU time used so far by ``pid`` (and, with ``children``, by its live direct children:
    PostgreSQL's backends are children of the postmaster)."""
    own = _stat(pid)
    total = own[1] if own else 0.0
    if children:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                st = _stat(int(entry.name))
                if st is not None and st[0] == pid:
                    total += st[1]
    return total


def machine_cpu() -> tuple[int, int, int]:
    """Whole machine, in clock ticks since boot: (busy, total, stolen by the hypervisor)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    total = sum(fields[:8])
    return total - idle - steal, total, steal


def online_cpus() -> int:
    return os.cpu_count() or 1
