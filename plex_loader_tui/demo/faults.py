"""Fault injection for the demo server: what a failing service, a proxy or a captive portal sends.

Each service (Plex, TMDb, IMDb) has its own :class:`FaultSettings`, which
tests change at run time, and a :class:`ServiceState` with the seeded RNG that
decides which requests fail and the window that enforces its rate limit.

Most faults replace the answer to some requests. Each of those is picked by a
share of the requests (``<fault>_rate``, rolled on the service's seeded RNG)
or by the request's target (``<fault>_paths``, see :class:`FaultSettings`):

====================  ==========================================================
``error``             a 5xx (or ``error_status``) with the service's error body
``malformed``         a 200 whose body is cut off mid-element
``html``              a 200 ``text/html`` sign-in page, as a captive portal sends
``wrong_shape``       a 200 that parses but lacks the fields a client expects
                      (Plex: XML without a ``MediaContainer``; TMDb/IMDb: JSON
                      shaped like their status bodies)
``huge``              a 200 whose body is ``huge_bytes`` long, streamed in
                      chunks without a ``Content-Length`` (never built in memory)
``throttle``          a 429 with ``Retry-After: retry_after`` (an hour by default)
``stall``             silence for ``stall_ms`` before the headers
``stall_body``        the headers, then silence for ``stall_ms`` before the body
====================  ==========================================================

Two more change the real answer: ``short_total`` makes Plex section listings
report at most that many items in ``totalSize`` (the items past it are still
served to whoever asks), and ``hostile`` puts markup, escape sequences and
control characters (:mod:`.hostile`) into the service's titles, summaries,
tags and error bodies.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

Service = Literal["plex", "tmdb", "imdb"]
SERVICES: tuple[Service, ...] = ("plex", "tmdb", "imdb")
#: A path predicate: a regular expression (searched) or a function.
PathMatcher = str | re.Pattern[str] | Callable[[str], bool]
#: The faults that replace an answer, in the order the handler tries them.
ANSWER_FAULTS = ("throttle", "error", "html", "wrong_shape", "huge")


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """How one service misbehaves (see the module docstring for each fault).

    ``…_paths`` are matched against the request's *target*: the
    service-relative path, then ``?`` and the query sorted by name (``str``
    order: upper case first), credentials left out. For Plex the container
    paging headers are folded into that query, so
    ``r"X-Plex-Container-Start=200&.*type=1\\b"`` picks exactly one page of the
    movie listing whether the client sent the paging as headers or query.
    ``short_total_paths`` left unset means every section listing.
    """

    latency_ms: float = 0.0
    rate_limit: float | None = None
    error_rate: float = 0.0
    fail_paths: PathMatcher | None = None
    error_status: int | None = None
    malformed_rate: float = 0.0
    malformed_paths: PathMatcher | None = None
    html_rate: float = 0.0
    html_paths: PathMatcher | None = None
    wrong_shape_rate: float = 0.0
    wrong_shape_paths: PathMatcher | None = None
    huge_rate: float = 0.0
    huge_paths: PathMatcher | None = None
    huge_bytes: int = 200 * 1024 * 1024
    throttle_rate: float = 0.0
    throttle_paths: PathMatcher | None = None
    retry_after: int = 3600
    stall_rate: float = 0.0
    stall_paths: PathMatcher | None = None
    stall_body_rate: float = 0.0
    stall_body_paths: PathMatcher | None = None
    stall_ms: float = 30_000.0
    short_total: int | None = None
    short_total_paths: PathMatcher | None = None
    hostile: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, got {value}")
        checks = (
            ("latency_ms", self.latency_ms >= 0, ">= 0"),
            ("stall_ms", self.stall_ms >= 0, ">= 0"),
            ("rate_limit", self.rate_limit is None or self.rate_limit > 0, "> 0 requests/s"),
            ("error_status", self.error_status is None or 400 <= self.error_status <= 599, "an HTTP error status"),
            ("huge_bytes", self.huge_bytes >= 0, ">= 0"),
            ("retry_after", self.retry_after >= 0, ">= 0 seconds"),
            ("short_total", self.short_total is None or self.short_total >= 0, ">= 0"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"{name} must be {expected}, got {getattr(self, name)}")

    def trigger(self, fault: str) -> tuple[float, PathMatcher | None]:
        """The share and the paths that pick requests for ``fault`` (``"error"``, ``"html"``, …)."""
        rate = getattr(self, f"{fault}_rate")
        paths = self.fail_paths if fault == "error" else getattr(self, f"{fault}_paths")
        return rate, paths


def matches(matcher: PathMatcher | None, target: str) -> bool:
    """Whether ``target`` (see :class:`FaultSettings`) is one ``matcher`` picks."""
    if matcher is None:
        return False
    if callable(matcher) and not isinstance(matcher, re.Pattern):
        return bool(matcher(target))
    return re.search(matcher, target) is not None


class ServiceState:
    """Faults, RNG and rate-limit window of one service (guarded by ``lock``)."""

    def __init__(self, faults: FaultSettings, seed: int) -> None:
        self.faults = faults
        self.rng = random.Random(seed)
        self.window: deque[float] = deque()
        self.lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self.lock:
            return self.rng.random() < rate

    def picks(self, faults: FaultSettings, fault: str, target: str) -> bool:
        """Whether this request gets ``fault``: its target matches, or the seeded roll says so."""
        rate, paths = faults.trigger(fault)
        return matches(paths, target) or self.roll(rate)

    def admit(self, now: float) -> float | None:
        """Count a request against the rate limit; return seconds to wait if over it."""
        limit = self.faults.rate_limit
        if limit is None:
            return None
        with self.lock:
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= limit:
                return max(0.0, 1.0 - (now - self.window[0]))
            self.window.append(now)
            return None
