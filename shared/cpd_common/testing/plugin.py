"""pytest plugin (``-p cpd_common.testing.plugin``): real PostgreSQL and NATS for the session.

- ``pg_server``: one embedded PostgreSQL cluster (fsync off) for the whole session;
- ``nats_server``: one ``nats-server`` with JetStream; tests may ``stop()``/``start()`` it;
- ``nats_clean``: the NATS URL, with every stream and consumer deleted before the test;
- ``server_tmp``: a fresh folder for a test's own PostgreSQL or NATS (see :func:`server_dir`).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest

from cpd_common.testing.servers import EmbeddedNats, EmbeddedPostgres, free_port


@contextlib.contextmanager
def server_dir(prefix: str) -> Iterator[Path]:
    """A folder for a server's data, removed afterwards. As root, PostgreSQL runs as another
    user, who must traverse every parent of its data folder: pytest's ``tmp_path`` lies under
    ``/tmp/pytest-of-root``, which every pytest session started on the machine sets back to
    0700 (a run of a single test beside the suite is enough), so a server there can lose its
    own files mid-run. A folder made directly in the temp folder has no such parent."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def server_tmp() -> Iterator[Path]:
    with server_dir("cpd-test-") as base:
        yield base


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    base = Path(tempfile.mkdtemp(prefix="cpd-pg-"))
    pg = EmbeddedPostgres(base, durable=False).start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_server() -> Iterator[EmbeddedNats]:
    base = Path(tempfile.mkdtemp(prefix="cpd-nats-"))
    # Tests need no fsync per write; make up and production keep sync_interval: always.
    # The monitoring port lets tests see the server's connections (``/connz``).
    server = EmbeddedNats(base, sync_always=False, monitor_port=free_port()).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


async def reset_jetstream(url: str) -> None:
    nc = await nats.connect(url, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()


@pytest.fixture
async def nats_clean(nats_server: EmbeddedNats) -> AsyncIterator[str]:
    if nats_server.proc is None:
        nats_server.start()
    await reset_jetstream(nats_server.url)
    yield nats_server.url
    if nats_server.proc is None:  # a test stopped it and failed before restarting
        nats_server.start()
