"""Time from SIGTERM to exit while TMDb answers every request with ``429 Retry-After``.

    .venv/bin/python bench/bench_retry_after_drain.py [--items 74] [--retry-after 3600]
        [--after 4] [--code PATH]

A :class:`~plex_loader_tui.demo.server.DemoServer` runs in this process with
TMDb throttled (every request a 429 with the given ``Retry-After``); a
headless load (``python -m plex_loader_tui --no-ui``) of the code under
``--code`` (default: this checkout; point it at an older checkout to compare)
runs against it in a fresh data dir. ``--after`` seconds after the load's
first "running" line, the load gets SIGTERM (a drain); the script prints how
long the process took to exit, its exit code and its last lines. The target:
a drain never waits on a sleeping retry, so the exit comes in seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from plex_loader_tui.demo.library import DemoLibrary  # noqa: E402
from plex_loader_tui.demo.server import DemoServer  # noqa: E402
from plex_loader_tui.demo.settings import demo_settings  # noqa: E402

#: The longest the script waits for the load to exit after SIGTERM.
GIVE_UP_S = 600.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=74)
    parser.add_argument("--retry-after", type=int, default=3600)
    parser.add_argument("--after", type=float, default=4.0, help="seconds of running before SIGTERM")
    parser.add_argument("--code", type=Path, default=REPO, help="checkout whose plex_loader_tui runs the load")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, DemoServer(DemoLibrary.generate(seed=5, size=args.items)) as demo:
        demo.set_faults("tmdb", throttle_rate=1.0, retry_after=args.retry_after)
        settings = demo_settings(demo)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_"))}
        env.update(PYTHONPATH=str(args.code), NO_PROXY="127.0.0.1,localhost",
                   PLEX_LOADER_CONFIG_DIR=str(Path(tmp) / "config"))
        command = [
            sys.executable, "-m", "plex_loader_tui", "--no-ui", "--progress-interval", "1",
            "--plex-url", settings["plex_url"], "--plex-token", settings["plex_token"],
            "--tmdb-api-key", settings["tmdb_api_key"], "--tmdb-base-url", settings["tmdb_base_url"],
            "--imdb-base-url", settings["imdb_base_url"], "--data-dir", str(Path(tmp) / "data"),
        ]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, cwd=tmp)
        lines: list[str] = []
        running = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if "running:" in line or "] " in line:
                    running.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if not running.wait(120):
            proc.kill()
            print("the load never started running:\n" + "\n".join(lines[-10:]))
            return 1
        time.sleep(args.after)  # let the workers hit the 429s and start waiting
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(GIVE_UP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
        took = time.monotonic() - sent
        reader.join(5)
    print(f"code: {args.code}")
    print(f"items {args.items}, TMDb 429 with Retry-After {args.retry_after} s, SIGTERM after {args.after:g} s running")
    print(f"SIGTERM -> exit: {took:.1f} s, exit code {code if code is not None else 'none (killed)'}")
    print("last lines:\n  " + "\n  ".join(lines[-4:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
