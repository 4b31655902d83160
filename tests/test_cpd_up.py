"""``cpd up`` as a newcomer runs it: the public port answers /readyz 200 only once the demo
logins work, a worker that dies is restarted, metrics stay off the public port, and SIGTERM
(twice, impatiently) stops everything with no traceback and no process left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from cpd_common.testing.servers import free_port
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD_STAFF_PASSWORD

STARTED = re.compile(r"(\w+) (?:API|worker) started \(pid (\d+)\)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but its entry in the process table.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _wait_for_text(out: Path, pattern: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = out.read_text(errors="replace")
        if re.search(pattern, text):
            return text
        assert proc.poll() is None, text
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not in:\n{out.read_text(errors='replace')}")


ROOT = Path(__file__).resolve().parents[1]


def _wait_for_status(url: str, status: int, detail: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    last = None
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            resp = client.get(url)
            last = resp.text
            if resp.status_code == status and detail in resp.text:
                return
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} ({detail!r}) in {timeout}s: {last}")


def _cpd_up(
    pg_server: Any, nats_url: str, tmp_path: Path, port: int, **env: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """``cpd up`` started against the test's PostgreSQL and NATS (``env`` added to its
    environment), its output going to the file returned."""
    out = tmp_path / "cpd.out"
    environ = {
        **os.environ,
        "CPD_DATABASE_URL": pg_server.url("postgres"),
        "CPD_NATS_URL": nats_url,
        "CPD_GATEWAY_PORT": str(port),
        "CPD_STATE_DIR": str(tmp_path / "state"),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cpd_local.cli", "up"], env=environ, stdout=sink, stderr=sink
        )
    return proc, out


def _kill_and_drop(proc: subprocess.Popen[bytes], pids: set[int], pg_server: Any) -> None:
    """Whatever a test left running is killed, and the databases ``cpd up`` made dropped."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pid in pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    for name in ("gateway", "audit", "lessonstudy", "evaluation"):
        pg_server.psql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'cpd_{name}'"
        )
        pg_server.drop_database(f"cpd_{name}")


def run_readme_walkthrough(base: str, out: Path) -> None:
    """The README's anonymous-audit walk-through, word for word but for the port: the leader
    opens an audit, eight staff answer, counts only while open, results once closed."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Try an anonymous audit end to end", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    assert "API=http://127.0.0.1:8000" in script
    script = script.replace("API=http://127.0.0.1:8000", f"API={base}")
    script += '\necho "AUDIT=$AUDIT"\necho "LEADER=$LEADER"\n'
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=out.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    audit_id = re.search(r"AUDIT=([0-9a-f-]{36})", done.stdout)
    leader = re.search(r"LEADER=(\S+)", done.stdout)
    assert audit_id and leader, done.stdout + done.stderr
    for receipt in re.findall(r'\{"audit_id".*?\}', done.stdout):
        assert "error" not in receipt and "problems" not in receipt, receipt
    with httpx.Client(timeout=10) as client:
        headers = {"Authorization": f"Bearer {leader.group(1)}"}
        results = client.get(f"{base}/v1/audits/{audit_id.group(1)}/results", headers=headers)
        assert results.status_code == 200, results.text
        body = results.json()
        assert body["status"] == "closed" and body["respondents"] == 8, body
        assert body["ranked_by_gap"], body
    assert "</svg>" in (out.parent / "results.svg").read_text()


def test_cpd_up_ready_means_logins_work_workers_restart_and_stop_is_clean(
    pg_server, nats_clean, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Heartbeats often, so a stuck worker shows within seconds.
    proc, out = _cpd_up(
        pg_server,
        nats_clean,
        tmp_path,
        port,
        CPD_WORKER_HEARTBEAT_SECONDS="0.5",
        CPD_WORKER_STALE_SECONDS="3",
    )
    pids: set[int] = set()
    try:
        # A script that waits for /readyz, then signs in at once.
        deadline = time.monotonic() + 240
        with httpx.Client(timeout=5) as client:
            while True:
                assert proc.poll() is None, out.read_text(errors="replace")
                assert time.monotonic() < deadline, out.read_text(errors="replace")
                try:
                    if client.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
            user, password = DEMO_CREDENTIALS["teacher (Northfield)"]
            for username, secret in (
                (user, password),
                ("sam.patel@northfield.example", NORTHFIELD_STAFF_PASSWORD),
            ):
                resp = client.post(
                    f"{base}/auth/token",
                    data={"grant_type": "password", "username": username, "password": secret},
                )
                assert resp.status_code == 200, resp.text
            # The demo QA client gets real (released) figures of the demo trust.
            qa_id, qa_secret = DEMO_CREDENTIALS["QA API client"]
            resp = client.post(
                f"{base}/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": qa_id,
                    "client_secret": qa_secret,
                },
            )
            assert resp.status_code == 200, resp.text
            qa = {"Authorization": f"Bearer {resp.json()['access_token']}"}
            release = client.get(f"{base}/v1/metrics", headers=qa)
            assert release.status_code == 200, release.text
            trust = {f["metric"]: f for f in release.json()["trust"]["figures"]}
            assert trust["staff"]["value"] >= 10 and trust["staff"]["value"] % 5 == 0, trust
            assert trust["hours_per_fte"]["symbol"] is None, trust
            assert client.get(f"{base}/metrics").status_code == 404
            text = out.read_text(errors="replace")
            metrics_url = re.search(r"metrics +(http://127\.0\.0\.1:\d+/metrics)", text)
            assert metrics_url, text
            assert "cpd_http_requests_total" in client.get(metrics_url.group(1)).text

        run_readme_walkthrough(base, out)

        pids |= {int(pid) for _, pid in STARTED.findall(text)}
        worker_pid = int(re.search(r"audit worker started \(pid (\d+)\)", text).group(1))  # type: ignore[union-attr]
        os.kill(worker_pid, signal.SIGKILL)
        text = _wait_for_text(out, r"audit worker exited \(-9\); restarting", proc, 30)
        text = _wait_for_text(out, rf"audit worker started \(pid (?!{worker_pid}\))\d+\)", proc, 30)
        pids |= {int(pid) for _, pid in STARTED.findall(text)}

        # A stuck worker (alive, not progressing): its service, and so the gateway, say so.
        stuck = int(re.search(r"lessonstudy worker started \(pid (\d+)\)", text).group(1))  # type: ignore[union-attr]
        api_port = re.search(r"lessonstudy API started \(pid \d+\) on 127\.0\.0\.1:(\d+)", text)
        assert api_port, text
        service = f"http://127.0.0.1:{api_port.group(1)}/readyz"
        os.kill(stuck, signal.SIGSTOP)
        try:
            _wait_for_status(service, 503, "worker")
            _wait_for_status(f"{base}/readyz", 503, "")
        finally:
            os.kill(stuck, signal.SIGCONT)
        _wait_for_status(service, 200, "")
        _wait_for_status(f"{base}/readyz", 200, "")

        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        text = out.read_text(errors="replace")
        assert "Traceback" not in text, text
        assert "stopped" in text.splitlines()[-1]
        left = [pid for pid in pids if _alive(pid)]
        assert left == [], f"still running: {left}"
    finally:
        _kill_and_drop(proc, pids, pg_server)


def test_cpd_up_interrupted_while_starting_stops_cleanly(
    pg_server, nats_clean, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C in the middle of the start (services up, demo being seeded): no traceback, no
    process left, exit 0."""
    proc, out = _cpd_up(pg_server, nats_clean, tmp_path, free_port())
    pids: set[int] = set()
    try:
        text = _wait_for_text(out, r"seeding the demo trust", proc, 240)
        pids |= {int(pid) for _, pid in STARTED.findall(text)}
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        text = out.read_text(errors="replace")
        assert code == 0, text[-4000:]
        assert "Traceback" not in text, text
        assert "stopped" in text.splitlines()[-1], text
        assert [pid for pid in pids if _alive(pid)] == []
    finally:
        _kill_and_drop(proc, pids, pg_server)
