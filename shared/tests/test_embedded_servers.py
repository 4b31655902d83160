"""The embedded servers behind ``make up``: state survives a restart, NATS fsyncs every write."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import nats

from cpd_common.events.outbox import STREAM, ensure_stream
from cpd_common.testing.servers import EmbeddedNats, EmbeddedPostgres


async def test_postgres_keeps_data_across_restart(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg", durable=True)
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


async def test_nats_fsyncs_every_write_and_keeps_the_stream(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", sync_always=True)
    assert "sync_interval: always" in server.config_text()
    await asyncio.to_thread(server.start)
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await ensure_stream(js)
        ack = await js.publish("cpd.test.thing.happened", b"{}", headers={"Nats-Msg-Id": "one"})
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
