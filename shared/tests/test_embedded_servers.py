"""The embedded servers behind ``make up``: state survives a restart, NATS fsyncs every write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats

from cpd_common.events.outbox import STREAM, ensure_stream
from cpd_common.testing.servers import EmbeddedNats, EmbeddedPostgres, free_port


async def test_postgres_keeps_data_across_restart(server_tmp: Path) -> None:
    pg = EmbeddedPostgres(server_tmp / "pg", durable=True)
    await asyncio.to_thread(pg.start)
    try:
        await pg.acreate_database("keep")
        conn = await asyncpg.connect(pg.dsn("keep"))
        await conn.execute("CREATE TABLE t (v int); INSERT INTO t VALUES (42)")
        await conn.close()
        await asyncio.to_thread(pg.stop)
        await asyncio.to_thread(pg.start)
        conn = await asyncpg.connect(pg.dsn("keep"))
        assert await conn.fetchval("SELECT v FROM t") == 42
        assert await conn.fetchval("SHOW fsync") == "on"
        await conn.close()
    finally:
        await asyncio.to_thread(pg.stop)


async def _server_settings(server: EmbeddedNats) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JetStream settings and the CPD stream's configuration, as the running server
    reports them (monitoring endpoint and the JetStream API), not as we asked for them."""
    async with httpx.AsyncClient() as client:
        varz = (await client.get(f"http://127.0.0.1:{server.monitor_port}/varz")).json()
    nc = await nats.connect(server.url)
    try:
        await ensure_stream(nc.jetstream())
        reply = await nc.request(f"$JS.API.STREAM.INFO.{STREAM}", b"", timeout=5)
        stream = json.loads(reply.data)["config"]
    finally:
        await nc.close()
    return varz["jetstream"]["config"], stream


async def test_nats_fsyncs_every_write_and_keeps_the_stream(server_tmp: Path) -> None:
    server = EmbeddedNats(server_tmp / "nats", sync_always=True, monitor_port=free_port())
    await asyncio.to_thread(server.start)
    try:
        jetstream, stream = await _server_settings(server)
        assert jetstream.get("sync_always") is True, (
            f"the server must fsync every write (sync_interval: always); it reports {jetstream}"
        )
        assert stream["storage"] == "file", stream
        # A stream may opt out of the server's fsync (persist_mode: async): ours must not.
        assert stream.get("persist_mode", "default") == "default", stream
        nc = await nats.connect(server.url)
        ack = await nc.jetstream().publish(
            "cpd.test.thing.happened", b"{}", headers={"Nats-Msg-Id": "one"}
        )
        assert ack.seq == 1
        await nc.close()
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        nc = await nats.connect(server.url)
        info = await nc.jetstream().stream_info(STREAM)
        assert info.state.messages == 1
        await nc.close()
    finally:
        await asyncio.to_thread(server.stop)


async def test_the_fsync_check_sees_a_server_that_does_not_fsync(server_tmp: Path) -> None:
    """The check above can fail: a server started without ``sync_interval: always`` reports
    so (the test fixtures' server is such a one, for speed)."""
    server = EmbeddedNats(server_tmp / "nats", sync_always=False, monitor_port=free_port())
    await asyncio.to_thread(server.start)
    try:
        jetstream, _ = await _server_settings(server)
        assert not jetstream.get("sync_always"), jetstream
    finally:
        await asyncio.to_thread(server.stop)
