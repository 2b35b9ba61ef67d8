"""PlexWatcher against the demo server's notification stream: parsing, filtering, reconnecting, secrets."""

from __future__ import annotations

import logging
import random
import threading
import time

import pytest

from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.notifications import NOTIFICATIONS_PATH
from plex_loader_tui.sources.plex_watch import Backoff, LibraryChange, PlexWatcher, parse_notification

SECRET = "wAtch-s3cret-T0ken-9876"


class Changes:
    """What the watcher reports, with a condition to wait on."""

    def __init__(self) -> None:
        self.items: list[LibraryChange] = []
        self.reconnects = 0
        self.states: list[bool] = []
        self.cond = threading.Condition()

    def change(self, change: LibraryChange) -> None:
        with self.cond:
            self.items.append(change)
            self.cond.notify_all()

    def reconnect(self) -> None:
        with self.cond:
            self.reconnects += 1
            self.cond.notify_all()

    def state(self, connected: bool) -> None:
        with self.cond:
            self.states.append(connected)
            self.cond.notify_all()

    def wait(self, predicate, timeout: float = 20.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self), timeout)


def _watcher(server: DemoServer, seen: Changes, **kw) -> PlexWatcher:
    return PlexWatcher(server.url, server.token, seen.change, on_reconnect=seen.reconnect, on_state=seen.state,
                       backoff=kw.pop("backoff", Backoff(base=0.05, cap=0.2)), seed=1, **kw)


def _entry(state, type_=1, **extra):
    return {"identifier": "com.plexapp.plugins.library", "sectionID": "1", "itemID": "42", "type": type_,
            "state": state, **extra}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (_entry(5), ("changed", "movie")),
        (_entry(5, 4), ("changed", "episode")),
        (_entry(9, metadataState="deleted"), ("deleted", "movie")),
        (_entry(0, metadataState="created"), None),
        (_entry(4, metadataState="processing"), None),
        (_entry(5, mediaState="analyzing"), None),
        (_entry(5, 2), None),  # a show
        (_entry(9, 3, metadataState="deleted"), None),  # a season
        ({**_entry(5), "identifier": "com.plexapp.system"}, None),
        ({**_entry(5), "sectionID": "-1"}, None),
        ({**_entry(5), "itemID": "../42"}, None),
    ],
)
def test_timeline_entries_are_filtered(entry, expected):
    changes, dropped = parse_notification({"type": "timeline", "size": 1, "TimelineEntry": [entry]}, at=1.0)
    if expected is None:
        assert (changes, dropped) == ([], 1)
    else:
        assert [(c.rating_key, c.section_key, c.kind, c.item_type, c.at) for c in changes] == [
            ("42", "1", *expected, 1.0)]
        assert dropped == 0


def test_other_notifications_are_dropped():
    assert parse_notification({"type": "activity", "size": 1, "ActivityNotification": [{}]}, 1.0) == ([], 1)
    assert parse_notification({"type": "playing", "size": 1, "PlaySessionStateNotification": [{}]}, 1.0) == ([], 1)
    assert parse_notification({"type": "timeline"}, 1.0) == ([], 1)


def test_backoff_grows_with_jitter_up_to_its_cap():
    backoff, rng = Backoff(base=1.0, cap=60.0), random.Random(5)
    for attempt, ceiling in [(0, 1), (1, 2), (3, 8), (5, 32), (6, 60), (40, 60)]:
        delays = [backoff.delay(attempt, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter


def _eventually(check, timeout: float = 20.0) -> bool:
    """A bounded poll, for counters that have no event of their own."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_library_changes_arrive_typed_and_the_rest_is_counted():
    with DemoServer(DemoLibrary.generate(seed=7, size=60)) as server:
        seen = Changes()
        with _watcher(server, seen) as watcher:
            assert watcher.wait_connected(20)
            movie, episode = server.library.movies()[0], server.library.episodes()[0]
            server.touch_items([movie.rating_key, episode.rating_key])
            (added,) = server.add_items()
            server.remove_items([movie.rating_key])
            assert seen.wait(lambda s: len(s.items) == 4)
            assert [(c.rating_key, c.section_key, c.kind, c.item_type) for c in seen.items] == [
                (str(movie.rating_key), "1", "changed", "movie"),
                (str(episode.rating_key), "2", "changed", "episode"),
                (str(added.rating_key), "1", "changed", "movie"),
                (str(movie.rating_key), "1", "deleted", "movie"),
            ]
            # Per scan: activity started, ended and a status; plus the in-progress entries
            # (2 for the touch, 2 for the add): 3 * 3 + 4.
            assert _eventually(lambda: watcher.counters().events_dropped == 13)
            counters = watcher.counters()
        assert counters.events_received == 4 and counters.reconnects == 0
        assert counters.last_event_at == seen.items[-1].at
        assert seen.states == [True, False]


def test_a_cut_stream_is_reconnected_with_backoff_and_reported():
    with DemoServer(DemoLibrary.generate(seed=7, size=40)) as server:
        seen = Changes()
        with _watcher(server, seen) as watcher:
            assert watcher.wait_connected(20)
            server.set_notifications_down(True)  # cut, and refuse new connections (503)
            assert seen.wait(lambda s: s.states == [True, False])
            refused = lambda: sum(r.status == 503 for r in server.requests if r.path == NOTIFICATIONS_PATH)  # noqa: E731
            assert _eventually(lambda: refused() >= 3)  # it keeps trying, with waits between
            assert not watcher.connected and seen.reconnects == 0
            movie = server.library.movies()[1]
            server.set_notifications_down(False)
            assert seen.wait(lambda s: s.reconnects == 1)
            assert seen.states[-1] is True and watcher.counters().reconnects == 1
            server.touch_items([movie.rating_key])  # the stream works again
            assert seen.wait(lambda s: any(c.rating_key == str(movie.rating_key) for c in s.items))
            server.drop_notification_clients()  # a plain cut: back at once, reported again
            assert seen.wait(lambda s: s.reconnects == 2)
        assert "503" in (watcher.last_error or "503")


def test_close_leaves_no_thread_even_while_reconnecting():
    with DemoServer(DemoLibrary.generate(seed=7, size=20)) as server:
        seen = Changes()
        watcher = _watcher(server, seen, backoff=Backoff(base=30.0, cap=60.0)).start()
        assert watcher.wait_connected(20)
        server.set_notifications_down(True)
        assert seen.wait(lambda s: s.states == [True, False])
        watcher.close()  # in a 15-30 s backoff wait: must not sit it out
        assert not [t for t in threading.enumerate() if t.name.startswith("plex-watch")]


def test_the_token_is_in_no_log_record_while_connecting_and_reconnecting():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(n) for n in ("", "plexapi", "websocket", "plex_loader_tui")]
    levels = [lg.level for lg in loggers]
    root = logging.getLogger()
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        with DemoServer(DemoLibrary.generate(seed=7, size=20), token=SECRET) as server:
            seen = Changes()
            with _watcher(server, seen) as watcher:
                assert watcher.wait_connected(20)
                server.touch_items([server.library.movies()[0].rating_key])
                assert seen.wait(lambda s: len(s.items) == 1)
                server.set_notifications_down(True)
                assert _eventually(lambda: any(r.status == 503 for r in server.requests))
                server.set_notifications_down(False)
                assert seen.wait(lambda s: s.reconnects == 1)
    finally:
        root.removeHandler(handler)
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
    texts = [r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "") for r in records]
    assert any("Plex notifications: connected" in t for t in texts)  # the log was really captured
    assert not [t for t in texts if SECRET in t]
    assert SECRET not in repr(watcher) and SECRET not in watcher.ws_url
