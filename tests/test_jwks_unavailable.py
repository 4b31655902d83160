"""A service that cannot reach the gateway's keys answers 503 with Retry-After, not 401."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from cpd_audit.main import create_app
from cpd_common.testing.servers import free_port
from cpd_local.stack import Stack


async def test_unreachable_jwks_is_503_with_retry_after(stack: Stack) -> None:
    async with stack.session("gateway") as session:
        from cpd_gateway.demo import seed_demo

        await seed_demo(session)
        await session.commit()
    headers = await stack.auth("leader@northfield.example", "northfield-leader-2026")
    settings = stack.services["audit"].settings.model_copy(
        update={"jwks_url": f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"}
    )
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://audit"
        ) as client,
    ):
        resp = await client.get("/v1/audits", headers=headers)
    assert resp.status_code == 503, resp.text
    assert resp.headers["retry-after"]
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "retry" in resp.json()["detail"]
