"""What opening a Qdrant Edge shard costs its file system, before Edge touches it.

Edge preallocates its files sparse (32 MiB each: the WAL segments, vector and
payload storage, each full-text index) and maps them into memory. On a disk
file system (ext4, xfs, btrfs) reading a hole gives a zeroed page of cache
but allocates no block, so opening a shard costs no disk space. On a memory
file system (tmpfs, ramfs: ``/tmp`` on several distributions) the page cache
*is* the storage: a read fault on a mapped hole takes a page of the file
system's space, so opening a shard fills every hole of its
preallocated files (measured: a shard with the 26 payload indexes of
:mod:`.qdrant_schema` goes from 59 to 386 MiB when it is opened). When the file
system cannot hold that, the kernel ends the process with SIGBUS, with no
error to catch; this module lets the sink say so in one line first.
"""

from __future__ import annotations

import os
from pathlib import Path

#: File system types whose mapped holes take space when they are read.
MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs", "shmem"})
_MOUNTS = Path("/proc/self/mounts")


def file_system_type(path: Path, mounts: Path = _MOUNTS) -> str | None:
    """The type of the file system holding ``path`` (``None`` when the mount table cannot be read)."""
    try:
        table = mounts.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table escapes blanks and backslashes in octal (``\\040`` for a space).
        point = fields[1].encode("latin-1", "replace").decode("unicode_escape")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the last of equal mounts is the one on top
            best, best_type = point, fields[2]
    return best_type


def hole_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` that are preallocated but not yet backed by storage."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name), follow_symlinks=False)
            except OSError:
                continue  # removed while we looked: it costs nothing
            total += max(0, st.st_size - st.st_blocks * 512)
    return total


def opening_cost(shard: Path) -> int:
    """Bytes that opening the shard at ``shard`` will allocate on its file system (0 on a disk)."""
    if not shard.is_dir() or file_system_type(shard) not in MEMORY_FILE_SYSTEMS:
        return 0
    return hole_bytes(shard)
