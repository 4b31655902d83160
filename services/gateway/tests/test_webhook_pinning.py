"""Webhook connections are pinned to the checked address (DNS rebinding, issue 14).

The DNS server is played by replacing :func:`addresses.lookup` (the one resolution function);
the network is real where a connection is made (a TLS receiver on 127.0.0.1 with a
certificate for a made-up name), and a recording backend stands in for the socket layer where
the point is which address was asked for."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cpd_gateway.webhooks import addresses, pinned

PUBLIC = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
PRIVATE = "10.0.0.5"


class Dns:
    """Answers per name, in turn: the next answer of a name's list each time it is asked
    (the last one from then on); every question is kept."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise OSError(f"{host}: no such name")
        return turns.pop(0) if len(turns) > 1 else turns[0]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[list[str]]]], Dns]:
    def install(answers: dict[str, list[list[str]]]) -> Dns:
        fake = Dns(answers)
        monkeypatch.setattr(addresses, "lookup", fake)
        return fake

    return install


@dataclass
class Recording(httpcore.AsyncNetworkBackend):
    """Records the hosts it is asked to connect to; refuses those in ``down``."""

    down: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append(host)
        if host in self.down:
            raise httpcore.ConnectError(f"{host} refused the connection")
        return httpcore.AsyncNetworkStream()


async def test_a_name_rebound_to_a_private_address_is_refused_when_connecting(dns: Any) -> None:
    fake = dns({"hooks.example.test": [[PUBLIC], [PRIVATE]]})
    # The subscription's check saw a public address...
    assert await addresses.resolve_allowed(
        "https://hooks.example.test/hook", allow_loopback=False
    ) == [PUBLIC]
    # ...the connection asks again, gets a private one, and connects to nothing.
    inner = Recording()
    backend = pinned.PinnedBackend(allow_loopback=False, inner=inner)
    with pytest.raises(addresses.RefusedAddress, match=r"private or reserved address \(10.0.0.5\)"):
        await backend.connect_tcp("hooks.example.test", 443)
    assert inner.asked == []
    assert fake.asked == ["hooks.example.test", "hooks.example.test"]


async def test_one_private_answer_among_public_ones_refuses_the_name(dns: Any) -> None:
    dns({"mixed.example.test": [[PUBLIC, "169.254.169.254"]], "gone.example.test": []})
    inner = Recording()
    backend = pinned.PinnedBackend(allow_loopback=True, inner=inner)
    with pytest.raises(addresses.RefusedAddress, match="metadata address"):
        await backend.connect_tcp("mixed.example.test", 443)
    with pytest.raises(addresses.RefusedAddress, match="does not resolve"):
        await backend.connect_tcp("gone.example.test", 443)
    assert inner.asked == []


async def test_connect_goes_to_the_checked_address_not_the_name(dns: Any) -> None:
    fake = dns({"hooks.example.test": [[PUBLIC_V6, PUBLIC], [PRIVATE]]})
    inner = Recording(down={PUBLIC_V6})
    backend = pinned.PinnedBackend(allow_loopback=False, inner=inner)
    await backend.connect_tcp("hooks.example.test", 443)
    # Resolved once; the first checked address was down, the next one took the stream.
    assert fake.asked == ["hooks.example.test"]
    assert inner.asked == [PUBLIC_V6, PUBLIC]
    # Every address down: the last failure is raised, still never the name.
    inner = Recording(down={PRIVATE, PUBLIC})
    dns({"up.example.test": [[PUBLIC]]})
    backend = pinned.PinnedBackend(allow_loopback=False, inner=inner)
    with pytest.raises(httpcore.ConnectError, match=PUBLIC):
        await backend.connect_tcp("up.example.test", 443)
    assert inner.asked == [PUBLIC]


async def test_loopback_only_with_allow_loopback(dns: Any) -> None:
    dns({"localhost": [["127.0.0.1", "::1"]], "sneaky.example.test": [["::ffff:127.0.0.1"]]})
    inner = Recording()
    refusing = pinned.PinnedBackend(allow_loopback=False, inner=inner)
    for host in ("localhost", "sneaky.example.test"):
        with pytest.raises(addresses.RefusedAddress, match="loopback"):
            await refusing.connect_tcp(host, 8080)
    assert inner.asked == []
    allowing = pinned.PinnedBackend(allow_loopback=True, inner=inner)
    await allowing.connect_tcp("localhost", 8080)
    assert inner.asked == ["127.0.0.1"]
    # Private addresses stay refused in development too.
    dns({"lan.example.test": [["192.168.1.20"]]})
    with pytest.raises(addresses.RefusedAddress, match="private"):
        await allowing.connect_tcp("lan.example.test", 8080)


# -- Through httpx, over real TLS ---------------------------------------------------------


@dataclass
class TlsReceiver:
    port: int = 0
    ca: Path = Path()
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` only (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[TlsReceiver]:
    rec = TlsReceiver()
    rec.ca, key = _certificate(tmp_path, "hooks.example.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(rec.ca, key)
    context.sni_callback = lambda sock, name, ctx: rec.server_names.append(name)  # type: ignore[assignment,func-returns-value]

    async def handle(request: web.Request) -> web.Response:
        rec.hosts.append(request.host)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context, shutdown_timeout=0.5)
    await site.start()
    rec.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield rec
    finally:
        await runner.cleanup()


async def test_tls_uses_the_name_over_the_pinned_address(
    dns: Any, tls_receiver: TlsReceiver
) -> None:
    """The name resolves (in turn) to loopback, where the receiver is: the stream goes to
    127.0.0.1, while SNI and certificate verification use the name, so the certificate (for
    the name only) verifies. A second name on the same address does not: verification follows
    the URL's name, not the address connected to."""
    fake = dns({"hooks.example.test": [["127.0.0.1"]], "other.example.test": [["127.0.0.1"]]})
    trust = ssl.create_default_context(cafile=str(tls_receiver.ca))
    transport = pinned.PinnedTransport(allow_loopback=True, verify=trust)
    async with httpx.AsyncClient(transport=transport) as client:
        url = f"https://hooks.example.test:{tls_receiver.port}/hook"
        resp = await client.post(url, content=b"{}")
        assert resp.status_code == 204
        assert tls_receiver.server_names == ["hooks.example.test"]
        assert tls_receiver.hosts == [f"hooks.example.test:{tls_receiver.port}"]
        assert fake.asked == ["hooks.example.test"]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.post(f"https://other.example.test:{tls_receiver.port}/hook")
    # Without loopback allowed, the same name is refused before any connection; the refusal
    # leaves httpx as RefusedAddress, which the delivery records as "refused".
    async with httpx.AsyncClient(
        transport=pinned.PinnedTransport(allow_loopback=False, verify=trust)
    ) as client:
        with pytest.raises(addresses.RefusedAddress, match="loopback"):
            await client.post(f"https://hooks.example.test:{tls_receiver.port}/hook")
    assert len(tls_receiver.hosts) == 1
