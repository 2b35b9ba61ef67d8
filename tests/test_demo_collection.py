"""The demo never touches the user's real collection.

A demo load writes its own collection (:data:`DEMO_COLLECTION`), its own load
state and its own TMDb/IMDb cache, unless the user names a collection (flag,
environment or profile). The end-to-end test loads a "real" library first (a
demo server on loopback standing in for the user's Plex, through
``--plex-url``), then runs ``--demo`` twice into the same data dir and embedded
Qdrant folder, and checks that the real collection, its state and its cache
are exactly as they were, and that no demo run reports deleting anything.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plex_loader_tui.config import DEMO_COLLECTION, Layer, ProfileStore, resolve_config
from plex_loader_tui.config.settings import SETTINGS_BY_NAME
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer

pytestmark = pytest.mark.timeout(400)

REAL_COLLECTION = SETTINGS_BY_NAME["collection"].default


# ----------------------------------------------------------------- resolution
def _resolve(args: dict[str, Any], environ: dict[str, str] | None = None, tmp_path: Path | None = None):
    store = ProfileStore(tmp_path / "config") if tmp_path is not None else None
    return resolve_config(args, environ or {}, store, command="load")


def test_a_demo_load_writes_the_demo_collection_unless_one_is_named(tmp_path: Path) -> None:
    assert DEMO_COLLECTION != REAL_COLLECTION
    assert _resolve({"demo": True}).collection == DEMO_COLLECTION
    assert _resolve({"demo": True}, {"PLEX_LOADER_DEMO": "1"}).collection == DEMO_COLLECTION
    assert _resolve({}, {"PLEX_LOADER_DEMO": "1"}).collection == DEMO_COLLECTION
    assert _resolve({"plex_url": "http://plex.lan:32400"}).collection == REAL_COLLECTION
    # Named by the user: a flag, a variable, a profile; even the default's own name.
    assert _resolve({"demo": True, "collection": "mine"}).collection == "mine"
    named = _resolve({"demo": True, "collection": REAL_COLLECTION})
    assert named.collection == REAL_COLLECTION and named.provenance_of("collection").layer is Layer.FLAG
    assert _resolve({"demo": True}, {"QDRANT_COLLECTION": "from-env"}).collection == "from-env"
    ProfileStore(tmp_path / "config").save("p", {"collection": "from-profile"})
    profiled = resolve_config({"demo": True, "profile": "p", "config_dir": tmp_path / "config"}, {}, command="load")
    assert profiled.collection == "from-profile"


def test_a_config_built_directly_or_changed_follows_the_demo_too(tmp_path: Path) -> None:
    import dataclasses

    from plex_loader_tui.config import RunConfig

    demo = RunConfig(demo=True, data_dir=tmp_path)
    assert demo.collection == DEMO_COLLECTION
    assert dataclasses.replace(demo, demo=False).collection == REAL_COLLECTION
    assert dataclasses.replace(demo, demo=False, collection="films").collection == "films"
    assert demo.with_stage("embed", workers=2).collection == DEMO_COLLECTION


def test_the_demo_collection_is_declared_only_in_the_settings_table() -> None:
    package = Path(__file__).resolve().parents[1] / "plex_loader_tui"
    def holders(literal: str) -> list[str]:
        return [p.relative_to(package).as_posix() for p in package.rglob("*.py")
                if literal in p.read_text(encoding="utf-8")]

    # The default is written once; the demo's name is made from it there, never spelled out.
    assert holders(f'"{REAL_COLLECTION}"') == ["config/settings.py"]
    assert holders(DEMO_COLLECTION) == []


# ----------------------------------------------------------------- end to end
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_", "LOG_LEVEL"))}
    env.update(extra)
    return env


def _load(args: list[str], tmp_path: Path, **env: str) -> dict[str, Any]:
    summary = tmp_path / "summary.json"
    proc = subprocess.run([sys.executable, "-m", "plex_loader_tui", "--no-ui", *args, "--summary-json", str(summary)],
                          capture_output=True, text=True, env=_env(**env), cwd=tmp_path, timeout=240,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(summary.read_text(encoding="utf-8"))


def _points(qdrant: Path, collection: str) -> dict[str, tuple[str, str]]:
    """point id -> (title, text), read after the child exited."""
    from store_support import EmbeddedStore

    with EmbeddedStore(qdrant) as store:
        points = store.payloads(collection)
    return {point_id: (str(p["title"]), str(p["text"])) for point_id, p in points.items()}


def _rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return sorted(conn.execute(query).fetchall())


def test_a_demo_load_leaves_a_real_collection_its_state_and_its_cache_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    qdrant = data / "qdrant"
    real = DemoServer(DemoLibrary.generate(seed=11, size=40), machine_identifier="home-server",
                      friendly_name="Home Plex")
    with real:
        first = _load(["--plex-url", real.plex_url, "--tmdb-base-url", real.tmdb_url,
                       "--imdb-base-url", real.imdb_url, "--data-dir", str(data)], tmp_path,
                      PLEX_TOKEN=real.token or "", TMDB_API_KEY=real.tmdb_api_key or "")
    assert first["collection"] == REAL_COLLECTION and first["counts"]["loaded"] == 40
    real_points = _points(qdrant, REAL_COLLECTION)
    (real_state,) = (data / "state").glob("*.sqlite3")
    state_rows = _rows(real_state, "SELECT * FROM items")
    cache_rows = _rows(data / "http-cache.sqlite3", "SELECT key, body FROM responses")
    assert len(real_points) == 40 and len(state_rows) == 40 and cache_rows

    for run in (1, 2):
        demo = _load(["--demo", "--demo-items", "30", "--data-dir", str(data)], tmp_path)
        assert demo["collection"] == DEMO_COLLECTION
        counts = demo["counts"]
        assert counts["deleted"] == 0, counts
        assert (counts["loaded"], counts["skipped_unchanged"]) == ((30, 0) if run == 1 else (0, 30)), counts
        # The real collection, its load state and its response cache: exactly as before.
        assert _points(qdrant, REAL_COLLECTION) == real_points
        assert _rows(real_state, "SELECT * FROM items") == state_rows
        assert _rows(data / "http-cache.sqlite3", "SELECT key, body FROM responses") == cache_rows
    assert len(_points(qdrant, DEMO_COLLECTION)) == 30
    assert len(list((data / "state").glob("*.sqlite3"))) == 2
