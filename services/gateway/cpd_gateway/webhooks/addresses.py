"""Where a webhook may post: an HTTPS URL whose host resolves only to public addresses.

Loopback (and plain HTTP to it) is allowed only when the gateway runs with
``webhooks_allow_loopback`` (development). Private, link-local (cloud metadata), shared,
multicast, reserved and unspecified addresses are always refused. The check runs when a
subscription is saved and again on every connection a delivery opens
(:mod:`cpd_gateway.webhooks.pinned`), and that connection goes to the very address that was
checked, never to the name: a DNS server that answers a public address to the check and a
private one a moment later (DNS rebinding) cannot steer a post inside the network. These rules
and :func:`lookup` are the only ones: saving a subscription and connecting both use
:func:`allowed_addresses`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

# Cloud metadata endpoints, named even where another rule already refuses them.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
METADATA_NAMES = {"metadata.google.internal", "metadata", "instance-data"}


class RefusedAddress(ValueError):
    """The URL may not be posted to (the message says why)."""


def check_url(url: str, *, allow_loopback: bool) -> tuple[str, str, int]:
    """The URL's scheme, host and port, when their shape is allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress("not a valid URL") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise RefusedAddress("must be an https:// URL")
    if parts.username or parts.password:
        raise RefusedAddress("must not carry credentials")
    if host in METADATA_NAMES:
        raise RefusedAddress("metadata addresses are refused")
    if parts.scheme == "http" and not (allow_loopback and _names_loopback(host)):
        raise RefusedAddress("must be https:// (plain http only to loopback in development)")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def _names_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refused_reason(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool
) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a metadata address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or not address.is_global or address.is_multicast:
        return "a private or reserved address"
    return None


async def lookup(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, without repeats or IPv6
    zone ids (the system resolver, through the event loop). Tests replace this one function to
    play a rebinding DNS server."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


async def allowed_addresses(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    """Every address ``host`` resolves to now, when all of them are allowed (one refused
    address refuses the name: which one a client would pick is not ours to guess); else
    :class:`RefusedAddress`."""
    try:
        found = await lookup(host, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(f"the host {host} does not resolve") from exc
    if not found:
        raise RefusedAddress(f"the host {host} does not resolve")
    for text in found:
        reason = refused_reason(ipaddress.ip_address(text), allow_loopback=allow_loopback)
        if reason is not None:
            raise RefusedAddress(f"{host} resolves to {reason} ({text})")
    return found


async def resolve_allowed(url: str, *, allow_loopback: bool) -> list[str]:
    """Every address the URL's host resolves to, when the URL's shape and all of them are
    allowed; else :class:`RefusedAddress`."""
    _, host, port = check_url(url, allow_loopback=allow_loopback)
    return await allowed_addresses(host, port, allow_loopback=allow_loopback)
