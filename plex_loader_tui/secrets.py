"""Masking for secrets (Plex token, TMDb key, Qdrant key).

Secrets must never be shown in clear text: not in logs, summaries, error
messages, screenshots or profiles. Everything that displays a secret goes
through :func:`mask`; text that might contain one goes through :func:`redact`.
"""

from __future__ import annotations

from collections.abc import Iterable


def mask(secret: str | None) -> str:
    """Return a display form of ``secret`` that keeps at most its last 4 characters."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "****"
    return "****" + secret[-4:]


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each non-empty secret in ``text`` by its mask."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, mask(secret))
    return text
