"""``plex-loader-tui demo-server``: the demo Plex/TMDb/IMDb server, standalone.

Serves the synthetic library until SIGINT or SIGTERM, so that another terminal
(or a benchmark) can point a load at it; the URLs are printed once. The fault
flags (``--error-rate``, ``--html-rate``, ``--stall-ms``, ``--hostile``, …) are
the demo server's :class:`~plex_loader_tui.demo.faults.FaultSettings`, applied
to every service.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from plex_loader_tui.config import SETTINGS_BY_NAME
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.secrets import mask

logger = logging.getLogger(__name__)

#: The demo server's services; the command's fault knobs apply to all three.
_SERVICES = ("plex", "tmdb", "imdb")
#: The exit code for the signal that stopped the server.
_SIGNAL_CODES = {signal.SIGINT: ExitCode.SIGINT, signal.SIGTERM: ExitCode.SIGTERM}


#: The most changes a minute --churn asks for (the setting's own bound).
_MAX_CHURN = SETTINGS_BY_NAME["demo_churn"].maximum
#: The flags that are a share of requests, 0..1 (each picks one fault).
_RATE_FLAGS = ("error_rate", "malformed_rate", "html_rate", "wrong_shape_rate", "huge_rate", "throttle_rate",
               "stall_rate", "stall_body_rate")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check(args: argparse.Namespace) -> None:
    checks = [
        ("--port", 0 <= args.port <= 65535, f"must be between 0 and 65535, got {args.port}"),
        ("--items", args.items >= 1, f"must be at least 1, got {args.items}"),
        ("--seed", args.seed >= 0, f"must be at least 0, got {args.seed}"),
        ("--latency-ms", args.latency_ms >= 0, f"must be at least 0, got {args.latency_ms:g}"),
        *((_flag(name), 0 <= getattr(args, name) <= 1, f"must be between 0 and 1, got {getattr(args, name):g}")
          for name in _RATE_FLAGS),
        ("--rate-limit", args.rate_limit is None or args.rate_limit > 0,
         f"must be greater than 0, got {args.rate_limit}"),
        ("--error-status", args.error_status is None or 400 <= args.error_status <= 599,
         f"must be an HTTP error status (400..599), got {args.error_status}"),
        ("--huge-mb", args.huge_mb >= 0, f"must be at least 0, got {args.huge_mb:g}"),
        ("--retry-after", args.retry_after >= 0, f"must be at least 0, got {args.retry_after}"),
        ("--stall-ms", args.stall_ms >= 0, f"must be at least 0, got {args.stall_ms:g}"),
        ("--churn", 0 <= args.churn <= _MAX_CHURN, f"must be between 0 and {_MAX_CHURN:,}, got {args.churn}"),
        ("--short-total", args.short_total is None or args.short_total >= 0,
         f"must be at least 0, got {args.short_total}"),
    ]
    for flag, ok, problem in checks:
        if not ok:
            raise ConfigError(f"{flag}: {problem}")


def fault_knobs(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~plex_loader_tui.demo.faults.FaultSettings` the flags ask for (every service gets them)."""
    knobs: dict[str, Any] = {name: getattr(args, name) for name in _RATE_FLAGS}
    knobs.update(
        latency_ms=args.latency_ms, rate_limit=args.rate_limit, error_status=args.error_status,
        huge_bytes=int(args.huge_mb * 1024 * 1024), retry_after=args.retry_after, stall_ms=args.stall_ms,
        short_total=args.short_total, hostile=args.hostile,
    )
    return knobs


def run_demo_server(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve the demo library until SIGINT/SIGTERM (or ``stop`` is set); return the exit code."""
    _check(args)
    # Imported here: the demo server is only needed by this command (and --demo runs).
    from plex_loader_tui.demo.library import DemoLibrary
    from plex_loader_tui.demo.server import DemoServer

    library = DemoLibrary.generate(seed=args.seed, size=args.items)
    credentials: dict[str, Any] = {}
    # Unset credentials keep the server's built-in demo ones; an empty string means "none required".
    if args.token is not None:
        credentials["token"] = args.token or None
    if args.demo_tmdb_api_key is not None:
        credentials["tmdb_api_key"] = args.demo_tmdb_api_key or None
    server = DemoServer(library, host=args.host, port=args.port, **credentials)
    for service in _SERVICES:
        server.set_faults(service, **fault_knobs(args))
    try:
        server.start()
    except OSError as exc:
        logger.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        print(f"demo-server: cannot listen on {args.host}:{args.port}: {exc}", flush=True)
        return ExitCode.USAGE
    if args.churn:
        server.start_churn(args.churn)
    done = stop or threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        done.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNAL_CODES:
            previous[sig] = signal.signal(sig, on_signal)
    try:
        # The built-in demo credentials are shown so another terminal can use
        # them; credentials the user chose are masked like every other secret.
        shown_token = server.token if args.token is None else mask(server.token) or "none"
        shown_key = (server.tmdb_api_key if args.demo_tmdb_api_key is None
                     else mask(server.tmdb_api_key) or "none")
        print(
            f"Demo server: {library.size} items (seed {args.seed})\n"
            f"  Plex:  {server.plex_url}  (token: {shown_token})\n"
            f"  TMDb:  {server.tmdb_url}  (api key: {shown_key})\n"
            f"  IMDb:  {server.imdb_url}\n"
            + (f"  Churn: {args.churn} changes a minute, told on {server.plex_url}/:/websockets/notifications\n"
               if args.churn else "")
            + "Press Ctrl+C to stop.",
            flush=True,
        )
        done.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return _SIGNAL_CODES[received[0]] if received else ExitCode.OK
