"""Which service a client attaches to, with which token.

The URL is the one given; else the one the running service's marker names
for the configured collection (``state/service.py``); else where ``serve``
listens by default (the ``listen`` setting). The token is
``PLEX_LOADER_CONTROL_TOKEN``, else the service's token file in the config
directory; a client never creates one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..config import RunConfig
from ..config.service_kinds import ListenAddress, parse_listen
from ..errors import ConfigError
from ..service.token import read_control_token
from ..state.service import ServiceMarker, running_service

#: Addresses a service may bind that a client cannot connect to: the same machine's loopback instead.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True, slots=True)
class AttachTarget:
    """Where to attach and with what; ``found`` says how the URL was chosen (for the one line a user reads)."""

    url: str
    token: str = field(repr=False)
    found: str


def service_holding(config: RunConfig) -> ServiceMarker | None:
    """The running service that holds ``config``'s embedded Qdrant folder and load state, if any.

    A Qdrant server (``--qdrant-url``) is shared by design: nothing is held then.
    """
    if config.qdrant_url:
        return None
    return running_service(config)


def normalise_url(text: str) -> str:
    """``127.0.0.1:8765`` or ``http://host:8765/`` → ``http://host:8765``; raises :class:`ConfigError`."""
    text = text.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"URL: expected http://HOST:PORT of a running serve, got {text!r}")
    if parts.username or parts.password or parts.query or parts.path.strip("/"):
        raise ConfigError("URL: give only the scheme, host and port of the service (the token comes from "
                          "PLEX_LOADER_CONTROL_TOKEN or the token file)")
    host = _ANY_ADDRESS.get(parts.hostname, parts.hostname)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{ListenAddress(host, port)}"


def attach_target(config: RunConfig, url: str | None = None, environ: Mapping[str, str] | None = None) -> AttachTarget:
    """The service to attach to and the token to send (see the module docstring)."""
    if url:
        chosen, found = normalise_url(url), "as given"
    elif (marker := running_service(config)) is not None:
        chosen, found = normalise_url(marker.listen), f"the service running on {config.collection!r} (pid {marker.pid})"
    else:
        chosen, found = normalise_url(str(parse_listen(config.listen))), "serve's default address"
    token = read_control_token(config.config_dir, os.environ if environ is None else environ)
    return AttachTarget(chosen, token.value, found)
