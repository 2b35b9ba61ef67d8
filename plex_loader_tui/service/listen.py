"""Where the control API listens, checked before the service starts.

:func:`listen_plan` turns the ``serve`` settings (``--listen``, ``--tls-cert``,
``--tls-key``, ``--allow-insecure-listen``) into a :class:`ListenPlan`, or
stops with one :class:`~plex_loader_tui.errors.ConfigError` line (exit code 2)
naming the setting as the user wrote it.

The rule: the bearer token must not cross a network in clear text. A loopback
address may serve plain HTTP; any other address needs TLS, or the operator's
explicit ``--allow-insecure-listen`` (then the service warns at start).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from ..config import RunConfig
from ..config.service_kinds import ListenAddress, parse_listen
from ..errors import ConfigError


@dataclass(frozen=True, slots=True)
class ListenPlan:
    """The address to bind, the TLS context (None: plain HTTP) and a warning to log at start, if any."""

    address: ListenAddress
    ssl_context: ssl.SSLContext | None
    warning: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"


def listen_plan(config: RunConfig) -> ListenPlan:
    """Check the listen settings of ``config`` together; raise :class:`ConfigError` on the first problem."""
    try:
        address = parse_listen(config.listen)
    except ValueError as exc:  # a RunConfig has checked it; a caller may have built one by hand
        raise ConfigError(f"{config.origin('listen')}: {exc}") from None
    context = _tls_context(config)
    if context is not None or address.is_loopback:
        return ListenPlan(address, context)
    if not config.allow_insecure_listen:
        raise ConfigError(
            f"{config.origin('listen')}: {address} is reachable from other machines and the control token "
            f"would travel in clear text: give --tls-cert and --tls-key, listen on 127.0.0.1, "
            f"or add --allow-insecure-listen"
        )
    return ListenPlan(
        address,
        None,
        warning=(
            f"the control API listens on {address} without TLS ({config.origin('allow_insecure_listen')}): "
            "anyone on the network path can read the control token"
        ),
    )


def _tls_context(config: RunConfig) -> ssl.SSLContext | None:
    cert, key = config.tls_cert, config.tls_key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = ("tls_cert", "--tls-key") if cert is not None else ("tls_key", "--tls-cert")
        raise ConfigError(f"{config.origin(given)}: needs {missing} too (a certificate and its private key)")
    for name, path in (("tls_cert", cert), ("tls_key", key)):
        if not path.is_file():
            raise ConfigError(f"{config.origin(name)}: no such file: {path}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        # The reason (e.g. "KEY_VALUES_MISMATCH"), never the key file's content.
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            f"{config.origin('tls_cert')} / {config.origin('tls_key')}: cannot use {cert} with {key}: {reason}"
        ) from None
    return context
