"""Refuse URLs a search result must never make us fetch (cloud metadata, the LAN, loopback)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def url_problem(url: str, guard: bool, resolve=socket.getaddrinfo) -> str | None:
    """Return why ``url`` may not be fetched, or None. ``guard`` adds the private-host check."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "malformed url"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or 'missing'!r} is not http(s)"
    host = parts.hostname
    if not host:
        return "url has no host"
    if not guard:
        return None
    try:
        infos = resolve(host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        return f"host {host} does not resolve ({exc.__class__.__name__})"
    for info in infos:
        if not is_public(info[4][0]):
            return f"host {host} resolves to non-public address {info[4][0]}"
    return None


def is_public(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    return not (addr.is_loopback or addr.is_private or addr.is_link_local
                or addr.is_multicast or addr.is_reserved or addr.is_unspecified)


def public_only_backend():
    """An httpcore network backend that resolves each host itself, refuses non-public addresses
    and connects to the very address it checked. Checking the URL first and letting the client
    resolve again would leave a DNS-rebinding window between the two lookups."""
    import httpcore

    class PublicOnlyBackend(httpcore.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"host {host} does not resolve ({exc.__class__.__name__})") from exc
            for info in infos:
                if not is_public(str(info[4][0])):
                    raise httpcore.ConnectError(f"{REFUSED} {host} resolves to non-public address {info[4][0]}")
            return super().connect_tcp(str(infos[0][4][0]), port, timeout, local_address, socket_options)

    return PublicOnlyBackend()


REFUSED = "refused at connect:"
