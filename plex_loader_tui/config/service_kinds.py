"""The kinds of the ``serve`` command's own settings: a listen address and a duration.

:func:`parse_listen` is also what the service uses to bind: one reading of
``host:port`` for the settings check and for the socket.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any

from .declaration import InputSpec, Setting, wrong_type

# A DNS name: dot-separated labels of letters, digits and inner hyphens.
_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                          r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where the control API listens: a host (IP literal or name) and a TCP port (0 = any free one)."""

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        """Only this machine can reach it: a loopback IP, or the name ``localhost``."""
        if self.host.lower().rstrip(".") == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # another name: it may resolve to anything

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> ListenAddress:
    """``127.0.0.1:8765``, ``[::1]:8765``, ``nas.local:8765`` → :class:`ListenAddress`.

    Raises ``ValueError`` with the problem (without the setting's name).
    """
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(f"expected [IPv6]:PORT, got {text!r}")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon or not host:
            raise ValueError(f"expected HOST:PORT (e.g. 127.0.0.1:8765), got {text!r}")
        if ":" in host:
            raise ValueError(f"write an IPv6 address in brackets, e.g. [::1]:8765, got {text!r}")
        if not _HOSTNAME_RE.match(host):
            raise ValueError(f"{host!r} is not an IP address or host name")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"the port must be a number from 0 to 65535, got {port_text!r}")
    return ListenAddress(host, int(port_text))


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``6h``, ``1d`` or plain seconds → seconds. Raises ``ValueError``."""
    match = _DURATION_RE.match(text.strip())
    if match is None:
        raise ValueError(f"expected a duration such as 90s, 15m, 6h or 1d (0 = never), got {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]


def format_duration(seconds: float) -> str:
    """The shortest exact spelling: ``6h``, ``90m``, ``45s``; ``0`` for never."""
    if seconds == 0:
        return "0"
    for unit in ("d", "h", "m"):
        count = seconds / _UNIT_SECONDS[unit]
        if count == int(count):
            return f"{int(count)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class ListenSetting(Setting):
    """A ``HOST:PORT`` to listen on; kept as text, checked with :func:`parse_listen`."""

    def _problem(self, value: Any) -> str | None:
        try:
            parse_listen(value)
        except ValueError as exc:
            return str(exc)
        return None


@dataclass(frozen=True, slots=True)
class DurationSetting(Setting):
    """A length of time in seconds, written ``90s``/``15m``/``6h``/``1d`` (or bare seconds); 0 = never."""

    maximum: float | None = None

    def parse_text(self, text: str) -> Any:
        return parse_duration(text)

    def parse_toml(self, value: Any) -> Any:
        if isinstance(value, str):
            return parse_duration(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong_type('a duration such as "6h" or a number of seconds', value)
        return float(value)

    def to_toml(self, value: Any) -> Any:
        return format_duration(value)

    def _problem(self, value: Any) -> str | None:
        if not math.isfinite(value) or value < 0:
            return f"must be 0 (never) or a positive duration, got {value!r}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {format_duration(self.maximum)}, got {format_duration(value)}"
        return None

    def default_text(self) -> str:
        return format_duration(self.default)

    def input_spec(self) -> InputSpec:
        return InputSpec(input_type="text")
