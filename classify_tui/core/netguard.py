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
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if (
            addr.is_loopback or addr.is_private or addr.is_link_local
            or addr.is_multicast or addr.is_reserved or addr.is_unspecified
        ):
            return f"host {host} resolves to non-public address {addr}"
    return None
