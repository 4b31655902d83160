"""The NATS configurations of deploy/docker and deploy/k8s, checked by nats-server itself:
parsed, and run to read back sync_always (every JetStream write is fsynced)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from cpd_common.testing.servers import free_port, nats_server_binary

from .deploy_helpers import BASE, K8S, ROOT, k8s_nats_config, nats_settings, yaml_docs


def nats_configs() -> dict[str, str]:
    return {
        "docker": (ROOT / "deploy" / "docker" / "nats.conf").read_text(),
        "k8s-base": k8s_nats_config(yaml_docs(BASE / "nats.yaml")),
        "k8s-dev": k8s_nats_config(yaml_docs(K8S / "overlays" / "dev" / "nats-single-node.yaml")),
    }


@pytest.mark.parametrize("which", ["docker", "k8s-base", "k8s-dev"])
def test_nats_config_fsyncs_every_jetstream_write(which: str, tmp_path: Path) -> None:
    config = nats_configs()[which]
    settings = nats_settings(config)
    assert settings["sync_interval"] == "always"
    assert settings["store_dir"].startswith("/")
    path = tmp_path / "nats.conf"
    path.write_text(config)
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "POD_NAME": "nats-0"},
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def runnable_here(config: str, tmp_path: Path) -> tuple[str, int]:
    """The same configuration on loopback ports with its files under tmp_path."""
    client, monitor = free_port(), free_port()
    config = re.sub(r"^listen: .*$", f"listen: 127.0.0.1:{client}", config, flags=re.M)
    config = re.sub(r"^http: .*$", f"http: 127.0.0.1:{monitor}", config, flags=re.M)
    config = re.sub(r"^pid_file: .*$", f'pid_file: "{tmp_path / "nats.pid"}"', config, flags=re.M)
    config = re.sub(r"store_dir: .*$", f'store_dir: "{tmp_path / "js"}"', config, flags=re.M)
    return config, monitor


@pytest.mark.parametrize("which", ["docker", "k8s-dev"])
def test_nats_server_runs_the_config_with_sync_always(which: str, tmp_path: Path) -> None:
    config, monitor = runnable_here(nats_configs()[which], tmp_path)
    path = tmp_path / "nats.conf"
    path.write_text(config)
    with (tmp_path / "nats.log").open("wb") as log:
        proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "POD_NAME": "nats-0"},
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=1) as r:
                    varz = json.load(r)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "nats.log").read_text()
                assert time.monotonic() < deadline, "nats-server did not start"
                time.sleep(0.1)
        assert varz["jetstream"]["config"]["sync_always"] is True
        assert varz["jetstream"]["config"]["store_dir"].startswith(str(tmp_path))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
