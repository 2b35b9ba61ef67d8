"""Small network helpers shared by the HTTP clients."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(url: str) -> bool:
    """True for ``localhost`` / ``127.x`` / ``::1`` URLs (which must never go through a proxy)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
