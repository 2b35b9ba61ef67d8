"""Items whose embedded text did not change are not embedded again (real load, real models and Qdrant).

Plex bumps ``updatedAt`` on a metadata refresh that found nothing new; the
item is then enriched again, but its text (and so its vectors) is the stored
one: only its payload is written. An item whose text and payload are both
the stored ones writes nothing at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.load import LoadSession
from plex_loader_tui.state import state_db_path
from plex_loader_tui.summary import build_summary
from store_support import EmbeddedStore
from test_load import make_config


def read_points(path: Path) -> dict[str, tuple[dict, list[float]]]:
    """rating key -> (payload, dense vector) of every point, whichever engine wrote the folder."""
    with EmbeddedStore(path) as store:
        return {payload["rating_key"]: (payload, store.vectors(pid)[0]) for pid, payload in store.payloads().items()}


async def test_a_touched_updated_at_writes_the_payload_and_computes_no_embedding(tmp_path: Path) -> None:
    with DemoServer(DemoLibrary.generate(seed=3, size=60)) as server:
        config = make_config(server, tmp_path)
        first = await LoadSession(config).run()
        assert first.content.embedded == server.library.size
        before = read_points(tmp_path / "qdrant")

        movies = [m.rating_key for m in server.library.movies()]
        refreshed, revised = movies[:3], movies[3:5]
        server.library.touch(refreshed, revise=False)  # only updatedAt moves
        server.library.touch(revised)  # the summary changes too
        second = await LoadSession(config).run()

        assert second.state == "finished" and second.snapshot.loaded == 5
        assert second.content.embedded == 2
        assert second.content.payload_only == 3
        after = read_points(tmp_path / "qdrant")
        for key in map(str, refreshed):
            payload, vector = after[key]
            assert payload["updated_at"] != before[key][0]["updated_at"]  # the new payload is stored
            assert vector == before[key][1]  # the vectors are the stored ones, not recomputed
        for key in map(str, revised):
            assert "(Revised cut" in after[key][0]["summary"]
            assert after[key][1] != before[key][1]
        counts = build_summary(second, LoadSession(config).info, config, exit_code=0)["counts"]
        assert (counts["embeddings_computed"], counts["payload_only_updates"]) == (2, 3)

        third = await LoadSession(config).run()  # the state recorded the new updatedAt: all skipped
        assert third.snapshot.skipped == server.library.size and third.content.embedded == 0


async def test_same_text_and_payload_writes_nothing(tmp_path: Path) -> None:
    with DemoServer(DemoLibrary.generate(seed=4, size=30)) as server:
        config = make_config(server, tmp_path)
        await LoadSession(config).run()
        before = read_points(tmp_path / "qdrant")
        # A Plex field that reaches neither the text nor the payload changed (an
        # actor's role, say): the source fingerprint differs, nothing else does.
        db = state_db_path(Path(config.data_dir), str((tmp_path / "qdrant").resolve()), config.collection)
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE items SET source_hash = 'stale' WHERE key IN "
                         "(SELECT key FROM items ORDER BY key LIMIT 4)")
        again = await LoadSession(config).run()
        assert again.snapshot.loaded == 4
        assert (again.content.embedded, again.content.payload_only, again.content.unchanged) == (0, 0, 4)
        assert read_points(tmp_path / "qdrant") == before
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM items WHERE source_hash = 'stale'").fetchone()[0] == 0
