"""Webhook connections pinned to the address that was checked (DNS rebinding).

httpx resolves a URL's host itself when it opens a connection, apart from (and after) any
check made before: a rebinding DNS server could answer a public address to the check and a
private one to the connection. The delivery client's connection pool therefore uses
:class:`PinnedBackend`, whose ``connect_tcp`` resolves the host once, refuses it unless every
address passes :func:`addresses.allowed_addresses` (the same rules as saving a subscription),
and opens the TCP stream to one of those addresses, never to the name. httpcore then starts
TLS on that stream with the URL's host as ``server_hostname``, so SNI and certificate
verification still use the name (``tests/test_webhook_pinning.py`` shows both).

A refusal leaves httpx as :class:`addresses.RefusedAddress` itself (httpx maps only httpcore's
own errors), so the delivery records it as ``refused`` with the reason.
"""

from __future__ import annotations

import asyncio
import ssl
import typing

import httpcore
import httpx

from cpd_gateway.webhooks import addresses


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to a checked address of the host httpcore asks for (``inner`` does the I/O:
    httpcore's anyio backend unless a test passes its own)."""

    def __init__(
        self, *, allow_loopback: bool, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.allow_loopback = allow_loopback
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolves ``host`` (within the connect timeout), checks every address, then tries
        them in the resolver's order until one accepts; the last failure is raised."""
        try:
            async with asyncio.timeout(timeout):
                checked = await addresses.allowed_addresses(
                    host, port, allow_loopback=self.allow_loopback
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        failed: Exception | None = None
        for address in checked:
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failed = exc
        assert failed is not None  # allowed_addresses never answers an empty list
        raise failed

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are posted over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (HTTP/1.1, its default limits, no proxy: environment proxies would
    resolve the name themselves) over a pool whose connections go through
    :class:`PinnedBackend`. httpx builds its pool in ``__init__`` with no way to name a network
    backend, so the pool is built again here with one."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        verify: ssl.SSLContext | bool = True,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        context = httpx.create_ssl_context(verify=verify)
        super().__init__(verify=context)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(allow_loopback=allow_loopback, inner=inner),
        )
