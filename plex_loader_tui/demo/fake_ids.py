"""Made-up ids and image paths for the demo services, derived from names.

Checksums, not random draws: the same person gets the same id in every TMDb
and IMDb answer (``nm…`` on IMDb), whichever item credits them.
"""

from __future__ import annotations

import zlib


def person_id(name: str) -> int:
    """A person's TMDb id (and the number of their IMDb ``nm`` id)."""
    return zlib.crc32(name.encode()) % 4_000_000 + 1


def image_path(seed: str) -> str:
    """An image path like TMDb's (``/<hex>.jpg``), stable for ``seed``."""
    return f"/{zlib.crc32(seed.encode()):08x}{zlib.adler32(seed.encode()):08x}.jpg"
