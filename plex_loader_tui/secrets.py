"""Masking for secrets (Plex token, TMDb key, Qdrant key).

Secrets must never be shown in clear text: not in logs, summaries, error
messages, screenshots or profiles. Everything that displays a secret goes
through :func:`mask`; text that might contain one goes through :func:`redact`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Secrets learnt after logging was set up (the control API's token), masked by every
#: :class:`RedactingFilter` from then on.
_REGISTERED: set[str] = set()


def register_secret(secret: str) -> None:
    """Have every :class:`RedactingFilter`, present and future, mask ``secret`` from now on."""
    if secret:
        _REGISTERED.add(secret)


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


# Query parameters that carry credentials in the URLs this program talks to:
# Plex accepts its token as ``X-Plex-Token``, TMDb v3 takes ``api_key``.
#: Lower-case query parameter names whose values are credentials.
SECRET_QUERY_KEYS = frozenset({"x-plex-token", "api_key", "apikey", "token", "access_token"})
_SECRET_QUERY_RE = re.compile(
    r"(?i)\b(x-plex-token|api_key|apikey|access_token|token)=(?!\*{4})([^&\s#'\"]+)"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})")


def mask_url(url: str | None) -> str:
    """Return ``url`` with any password and credential query values masked.

    ``http://user:pw@host/x?X-Plex-Token=abcdef123456`` becomes
    ``http://user:****@host/x?X-Plex-Token=****3456``; a fragment becomes ``#****``. Text that is not a URL
    comes back unchanged (but still has ``token=`` style values masked).
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_in_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        netloc = f"{user}{sep}{mask(password) if sep else ''}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, mask(v) if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs],
            safe="*",
        )
    # A fragment is never sent to a server; masked whole, it cannot leak a token pasted there.
    fragment = "****" if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def mask_in_text(text: str) -> str:
    """Mask credential-looking values (``X-Plex-Token=…``, ``Bearer …``) inside free text.

    This catches secrets the program was never told about (a token pasted into
    a URL by hand); configured secrets are handled exactly by :func:`redact`.
    """
    text = _SECRET_QUERY_RE.sub(lambda m: f"{m.group(1)}={mask(m.group(2))}", text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)}{mask(m.group(2))}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record it sees.

    Attach it to *handlers* (handler filters see records from every logger
    that propagates to them). It formats the record once, masks the
    configured secret values and credential-looking URL parameters, and
    stores the result as a plain message, including the traceback text.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._formatter = logging.Formatter()

    def _clean(self, text: str) -> str:
        secrets = self._secrets
        if _REGISTERED:
            secrets = tuple(sorted(set(secrets) | _REGISTERED, key=len, reverse=True))
        return mask_in_text(redact(text, secrets))

    def filter(self, record: logging.LogRecord) -> bool:
        # Several handlers share one record; clean it once.
        if getattr(record, "_secrets_redacted", False):
            return True
        record._secrets_redacted = True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = str(record.msg)
        record.msg = self._clean(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True
