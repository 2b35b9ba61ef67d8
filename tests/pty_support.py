"""Reading what a command wrote to a pseudo-terminal, until it exits."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

#: CSI sequences (colours, cursor moves): stripped to read the text a person sees.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def read_until_exit(master: int, proc: subprocess.Popen, limit: float) -> tuple[int, bytes]:
    """Everything written to ``master`` until the child closes the terminal (or ``limit`` seconds),
    then the child's exit code; ``master`` is closed and a child still running is killed."""
    raw = b""
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            raw += chunk
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, raw
