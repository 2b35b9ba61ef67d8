"""Reading an HTTP answer's body with a size limit, as curl's ``--max-filesize`` does.

TMDb and IMDb answers are tens of kilobytes; whatever a proxy, a captive
portal or a broken server sends instead must not be read into memory whole.
"""

from __future__ import annotations

import httpx

#: How much of an error answer is read: enough for its message, never a huge body.
ERROR_BODY_BYTES = 64 * 1024


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of the body; ``(bytes, complete)``.

    A declared ``Content-Length`` over the limit is refused before reading;
    otherwise reading stops at the first chunk past the limit, and leaving
    the stream unread closes the connection (httpx does not drain it), so a
    200 MB answer costs at most ``limit`` plus one chunk of memory.
    """
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return b"", False
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), False
    return bytes(body), True


def size_text(n: int) -> str:
    """``2097152`` → ``"2 MB"`` (binary units, as curl counts them)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
