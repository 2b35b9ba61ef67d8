"""The demo server's Plex notification stream, its /demo routes and its churn, over real sockets."""

from __future__ import annotations

import requests
import websocket

from plex_loader_tui.demo import DemoLibrary, DemoServer
from plex_loader_tui.demo.churn import Churn
from plex_loader_tui.demo.notifications import NOTIFICATIONS_PATH

from notify_support import StreamClient

TOKEN = {"X-Plex-Token": "demo-token"}


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _states(entries, key):
    return [(e["state"], e.get("metadataState"), e.get("mediaState")) for e in entries if e["itemID"] == str(key)]


def test_touch_add_and_remove_reach_a_connected_client_as_plex_sends_them():
    with DemoServer(DemoLibrary.generate(seed=7, size=60)) as server, StreamClient(server) as client:
        assert client.opened.wait(20)
        movie = server.library.movies()[0]
        episode = server.library.episodes()[0]
        server.touch_items([movie.rating_key, episode.rating_key])
        (added,) = server.add_items(title="A Brand New Film")
        server.remove_items([movie.rating_key])
        assert client.wait_for(lambda ms: sum(m["type"] == "status" for m in ms) == 3)
        entries = client.entries()
        assert _states(entries, episode.rating_key) == [(4, "processing", None), (5, None, None)]
        assert _states(entries, added.rating_key) == [(0, "created", None), (5, None, "analyzing"), (5, None, None)]
        assert _states(entries, movie.rating_key) == [(4, "processing", None), (5, None, None), (9, "deleted", None)]
        first = next(e for e in entries if e["itemID"] == str(episode.rating_key))
        assert first["identifier"] == "com.plexapp.plugins.library"
        assert (first["sectionID"], first["type"], first["title"]) == ("2", 4, episode.title)
        kinds = {m["type"] for m in client.messages}
        assert kinds == {"activity", "timeline", "status"}
        assert all(m["size"] == len(m.get("TimelineEntry", m.get("ActivityNotification", m.get("StatusNotification"))))
                   for m in client.messages)


def test_a_removed_show_is_told_item_by_item():
    with DemoServer(DemoLibrary.generate(seed=7, size=60)) as server, StreamClient(server) as client:
        assert client.opened.wait(20)
        show = server.library.shows()[0]
        episodes = {e.rating_key for e in server.library.episodes_of(show.rating_key)}
        removed = server.remove_items([show.rating_key])
        assert client.wait_for(lambda ms: any(m["type"] == "status" for m in ms))
        deleted = {int(e["itemID"]): e["type"] for e in client.entries() if e["state"] == 9}
        assert set(removed) == set(deleted) and episodes < set(deleted)
        assert deleted[show.rating_key] == 2 and {deleted[k] for k in episodes} == {4}


def test_the_stream_needs_the_token_and_is_logged():
    with DemoServer(DemoLibrary.generate(seed=7, size=20)) as server:
        url = server.url.replace("http://", "ws://") + NOTIFICATIONS_PATH
        for header in ({}, {"X-Plex-Token": "wrong"}):
            try:
                websocket.create_connection(url, header=header, timeout=10).close()
                raise AssertionError("connected without the right token")
            except websocket.WebSocketBadStatusException as exc:
                assert exc.status_code == 401
        ws = websocket.create_connection(url + "?X-Plex-Token=demo-token", timeout=10)  # plexapi's way
        ws.close()
        statuses = [r.status for r in server.requests if r.path == NOTIFICATIONS_PATH]
        assert statuses == [401, 401, 101]
        assert all("demo-token" not in str(r.query) for r in server.requests)


def test_clients_can_be_cut_and_refused_while_plex_is_down():
    with DemoServer(DemoLibrary.generate(seed=7, size=20)) as server, StreamClient(server) as client:
        assert client.opened.wait(20)
        server.set_notifications_down(True)
        assert client.closed.wait(20)
        url = server.url.replace("http://", "ws://") + NOTIFICATIONS_PATH
        try:
            websocket.create_connection(url, header=TOKEN, timeout=10)
            raise AssertionError("connected while the stream is down")
        except websocket.WebSocketBadStatusException as exc:
            assert exc.status_code == 503
        server.set_notifications_down(False)
        with StreamClient(server) as again:
            assert again.opened.wait(20)
            assert server.drop_notification_clients() == 1
            assert again.closed.wait(20)


def test_demo_routes_add_change_and_remove_items():
    with DemoServer(DemoLibrary.generate(seed=7, size=40)) as server, _http() as http:
        base = server.url + "/demo/items"
        size = server.library.size
        answer = http.post(base, json={"count": 3}, headers=TOKEN)
        assert answer.status_code == 200
        added = [int(a["ratingKey"]) for a in answer.json()["added"]]
        assert len(added) == 3 and server.library.size == size + 3
        named = http.post(base, json={"title": "Zebra Crossing"}, headers=TOKEN).json()["added"][0]
        assert server.library.get(int(named["ratingKey"])).title == "Zebra Crossing"
        before = server.library.get(added[0])
        assert http.post(f"{base}/{added[0]}/touch", headers=TOKEN).json() == {"changed": [str(added[0])]}
        after = server.library.get(added[0])
        assert after.updated_at > before.updated_at and after.summary != before.summary
        assert http.delete(f"{base}/{added[1]}", headers=TOKEN).json() == {"removed": [str(added[1])]}
        assert server.library.get(added[1]) is None
        assert http.delete(f"{base}/{added[1]}", headers=TOKEN).status_code == 404
        assert http.post(f"{base}/999999/touch", headers=TOKEN).status_code == 404
        assert http.post(base, json={"count": 0}, headers=TOKEN).status_code == 400
        assert http.post(base, data=b"not json", headers=TOKEN).status_code == 400
        assert http.post(base, json={"count": 1}).status_code == 401
        assert server.count("plex") == 0  # not Plex traffic: the request log stays clean


def test_added_movies_are_deterministic_and_enrichable():
    def made(seed):
        lib = DemoLibrary.generate(seed=seed, size=40)
        return [(m.rating_key, m.title, m.tmdb_id, m.imdb_id) for m in lib.add(3)], lib

    first, lib = made(7)
    again, _ = made(7)
    assert first == again
    known = {m.tmdb_id for m in DemoLibrary.generate(seed=7, size=40).movies()}
    for key, _title, tmdb_id, _imdb in first:
        assert tmdb_id not in known and lib.tmdb_movie(tmdb_id).rating_key == key


def test_churn_is_seeded_and_stops_its_thread():
    def steps(seed):
        lib = DemoLibrary.generate(seed=7, size=40)
        churn = Churn(lib, 60, seed=seed)
        kinds = [churn.step() for _ in range(40)]
        return kinds, sorted(m.rating_key for m in lib.movies()), lib.size

    assert steps(3) == steps(3)
    kinds, _, _ = steps(3)
    assert set(kinds) == {"touched", "added", "removed"}
    with DemoServer(DemoLibrary.generate(seed=7, size=40)) as server, StreamClient(server) as client:
        assert client.opened.wait(20)
        churn = server.start_churn(6000)  # one change every 10 ms
        assert client.wait_for(lambda ms: sum(m["type"] == "status" for m in ms) >= 3)
        server.stop_churn()
        assert churn._thread is None and sum(churn.counts.values()) >= 3


def test_the_demo_server_command_churns_and_tells_its_clients():
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(repo)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "demo-server", "--port", "0", "--items", "30", "--churn", "1200",
         "--log-level", "WARNING"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=repo,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        plex_url = lines[1].split()[1]
        assert lines[4].startswith("  Churn: 1200 changes a minute")

        class Remote:  # what StreamClient needs of a server
            url, token = plex_url, "demo-token"

        with StreamClient(Remote()) as client:  # type: ignore[arg-type]
            assert client.opened.wait(20)
            assert client.wait_for(lambda ms: sum(m["type"] == "status" for m in ms) >= 2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
