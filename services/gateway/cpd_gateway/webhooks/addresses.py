"""Where a webhook may post: an HTTPS URL whose host resolves only to public addresses.

Loopback (and plain HTTP to it) is allowed only when the gateway runs with
``webhooks_allow_loopback`` (development). Private, link-local (cloud metadata), shared,
multicast, reserved and unspecified addresses are always refused. The check runs when a
subscription is saved and again before every delivery, so a name that later resolves inside
the network (DNS rebinding) is refused then.
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


async def resolve_allowed(url: str, *, allow_loopback: bool) -> list[str]:
    """Every address the URL's host resolves to, when all of them are allowed; else
    :class:`RefusedAddress`."""
    _, host, port = check_url(url, allow_loopback=allow_loopback)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(f"the host {host} does not resolve") from exc
    addresses = sorted({str(info[4][0]).split("%")[0] for info in infos})
    if not addresses:
        raise RefusedAddress(f"the host {host} does not resolve")
    for text in addresses:
        reason = refused_reason(ipaddress.ip_address(text), allow_loopback=allow_loopback)
        if reason is not None:
            raise RefusedAddress(f"{host} resolves to {reason} ({text})")
    return addresses
