"""The contract with mcp-plex: its server's Qdrant queries, run against a collection we loaded.

mcp-plex's MCP server (constructorfleet/mcp-plex, ``mcp_plex/server/media.py``
and ``mcp_plex/server/tools/media_library.py``, read at commit f06f7bf) reads
the collection ``media-items`` with the queries below, written out here as it
sends them: the same payload keys, match kinds (``MatchValue``, ``MatchText``,
``MatchAny``, ``Range``), ``order_by`` keys, prefetches and fusion. The only
difference is how the query vectors are made: mcp-plex hands qdrant-client a
``Document(text, model=DENSE_MODEL / SPARSE_MODEL)`` to embed; here the same
models (bundled, no network) embed the same text with our ``Embedder``.

The collection is loaded from the demo server by the real command line, and
every expectation comes from the demo library itself, not from the collection.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models

from embed_support import bundled_models
from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.embed.payload import slug
from plex_loader_tui.embed.stage import Embedder
from plex_loader_tui.main import main

pytestmark = pytest.mark.timeout(300)

COLLECTION = "media-items"  # mcp-plex's server names no other
ITEMS, SEED = 60, 7


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("contract")
    argv = ["--demo", "--no-ui", "--demo-items", str(ITEMS), "--demo-seed", str(SEED), "--collection", COLLECTION,
            "--qdrant-path", str(root / "qdrant"), "--data-dir", str(root / "data"),
            # qdrant-client's local mode, pinned: mcp-plex talks to a Qdrant server's API, and these
            # tests replay its queries through qdrant-client (which reads only local-mode folders).
            "--embedded-store", "local"]
    assert main(argv, {}) == 0
    client = QdrantClient(path=str(root / "qdrant"))
    yield client, DemoLibrary.generate(seed=SEED, size=ITEMS)
    client.close()


@pytest.fixture(scope="module")
def embedder():
    return Embedder(bundled_models())


def _keys(points) -> list[str]:
    return [p.payload["data"]["plex"]["rating_key"] for p in points]


def _movie(lib: DemoLibrary):
    """A movie whose ids Plex shows (imdb + tmdb Guid children) and that sits in a collection."""
    return next(m for m in lib.movies() if m.collections and len(m.guids) == 2 and m.summary and m.tagline)


def _query(client, flt, limit=50):
    """query-media with filters only: mcp-plex samples at random within the filter."""
    return client.query_points(COLLECTION, query=models.SampleQuery(sample=models.Sample.RANDOM),
                               query_filter=flt, limit=limit, with_payload=True).points


def _must(*conditions) -> models.Filter:
    return models.Filter(must=list(conditions))


def test_filters_on_each_key_find_the_item(loaded):
    client, lib = loaded
    m = _movie(lib)
    key = str(m.rating_key)
    word_pairs = {
        "summary": m.summary, "overview": m.external.tmdb_overview, "plot": m.external.imdb_plot, "tagline": m.tagline,
        "title": m.title,
    }
    conditions = [
        models.FieldCondition(key="type", match=models.MatchValue(value="movie")),
        models.FieldCondition(key="year", match=models.MatchValue(value=m.year)),
        models.FieldCondition(key="actors", match=models.MatchValue(value=m.cast[0].name)),
        models.FieldCondition(key="directors", match=models.MatchValue(value=m.directors[0])),
        models.FieldCondition(key="writers", match=models.MatchValue(value=m.writers[0])),
        models.FieldCondition(key="genres", match=models.MatchValue(value=m.genres[0])),
        models.FieldCondition(key="collections", match=models.MatchValue(value=m.collections[0])),
        models.FieldCondition(key="title_slug", match=models.MatchValue(value=slug(m.title))),
        models.FieldCondition(key="year", range=models.Range(gte=m.year, lte=m.year)),
        models.FieldCondition(key="added_at", range=models.Range(gte=m.added_at, lte=m.added_at)),
        models.FieldCondition(key="data.plex.rating_key", match=models.MatchValue(value=key)),
        models.FieldCondition(key="data.imdb.id", match=models.MatchValue(value=m.imdb_id)),
        models.FieldCondition(key="data.tmdb.id", match=models.MatchValue(value=int(m.tmdb_id))),
        *(models.FieldCondition(key=field, match=models.MatchText(text=" ".join(text.split()[:2])))
          for field, text in word_pairs.items()),
    ]
    for condition in conditions:
        assert key in _keys(_query(client, _must(condition))), condition
    # All at once, as query-media sends them together.
    assert _keys(_query(client, _must(*conditions))) == [key]


def test_episode_filters_find_the_episode(loaded):
    client, lib = loaded
    e = lib.episodes()[5]
    show = lib.show(e.show_key)
    found = _query(client, _must(
        models.FieldCondition(key="type", match=models.MatchValue(value="episode")),
        models.FieldCondition(key="show_title", match=models.MatchValue(value=show.title)),
        models.FieldCondition(key="season_number", match=models.MatchValue(value=e.season_index)),
        models.FieldCondition(key="episode_number", match=models.MatchValue(value=e.index)),
    ))
    assert _keys(found) == [str(e.rating_key)]
    payload = found[0].payload
    assert payload["show_title_slug"] == slug(show.title) and payload["season_title"] == f"Season {e.season_index}"


def test_new_movies_and_new_shows_order_by_added_at(loaded):
    client, lib = loaded
    for kind, items in (("movie", lib.movies()), ("episode", lib.episodes())):
        newest = sorted(items, key=lambda i: i.added_at, reverse=True)[:5]
        res = client.query_points(
            COLLECTION, query=models.OrderByQuery(order_by=models.OrderBy(key="added_at", direction=models.Direction.DESC)),
            query_filter=_must(models.FieldCondition(key="type", match=models.MatchValue(value=kind))),
            limit=5, with_payload=True,
        )
        assert _keys(res.points) == [str(i.rating_key) for i in newest]


def test_actor_movies_orders_by_year_within_a_range(loaded):
    client, lib = loaded
    actor = _movie(lib).cast[0].name
    theirs = sorted((m for m in lib.movies() if any(c.name == actor for c in m.cast)), key=lambda m: m.year, reverse=True)
    res = client.query_points(
        COLLECTION,
        query=models.OrderByQuery(order_by=models.OrderBy(key="year", direction=models.Direction.DESC)),
        query_filter=_must(
            models.FieldCondition(key="type", match=models.MatchValue(value="movie")),
            models.FieldCondition(key="actors", match=models.MatchValue(value=actor)),
            models.FieldCondition(key="year", range=models.Range(gte=1900, lte=2100)),
        ),
        limit=50, with_payload=True,
    )
    assert [p.payload["year"] for p in res.points] == [m.year for m in theirs]
    assert set(_keys(res.points)) == {str(m.rating_key) for m in theirs}


def test_hybrid_rrf_query_ranks_the_described_movie_first(loaded, embedder):
    client, lib = loaded
    m = _movie(lib)
    dense, sparse = embedder.embed_query(m.summary)
    res = client.query_points(
        COLLECTION,
        prefetch=[
            models.Prefetch(query=models.NearestQuery(nearest=list(dense)), using="dense", limit=15,
                            filter=_must(models.FieldCondition(key="type", match=models.MatchValue(value="movie")))),
            models.Prefetch(query=models.NearestQuery(nearest=models.SparseVector(
                indices=list(sparse.indices), values=list(sparse.values))), using="sparse", limit=15,
                filter=_must(models.FieldCondition(key="type", match=models.MatchValue(value="movie")))),
        ],
        query=models.FusionQuery(fusion=models.Fusion.RRF),
        query_filter=_must(models.FieldCondition(key="type", match=models.MatchValue(value="movie"))),
        limit=5, with_payload=True,
    )
    assert _keys(res.points)[0] == str(m.rating_key)


def test_lookups_by_rating_key_imdb_and_tmdb_id(loaded):
    client, lib = loaded
    m = _movie(lib)
    key = str(m.rating_key)
    # _find_records: first a retrieve by the identifier as a point id (ours are UUIDs: nothing), then a scroll.
    assert client.retrieve(COLLECTION, ids=[int(key)], with_payload=True) == []
    for identifier in (key, m.imdb_id, m.tmdb_id):
        should = [
            models.FieldCondition(key="data.plex.rating_key", match=models.MatchValue(value=identifier)),
            models.FieldCondition(key="data.imdb.id", match=models.MatchValue(value=identifier)),
        ]
        if identifier.isdigit():
            should.append(models.FieldCondition(key="data.tmdb.id", match=models.MatchValue(value=int(identifier))))
        points, _ = client.scroll(COLLECTION, scroll_filter=models.Filter(should=should), limit=5, with_payload=True)
        assert key in _keys(points), identifier
    # _history_recommendations: watched rating keys, MatchAny.
    points, _ = client.scroll(COLLECTION, scroll_filter=_must(models.FieldCondition(
        key="data.plex.rating_key", match=models.MatchAny(any=[key, "no-such-key"]))), limit=10, with_payload=True)
    assert _keys(points) == [key]
    payload = points[0].payload
    assert payload["data"]["plex"]["guid"] == m.guid and isinstance(payload["added_at"], int)


def test_the_collection_records_what_filled_it(loaded):
    client, _ = loaded
    meta = client.get_collection(COLLECTION).config.metadata
    assert meta["dense_model"] == "BAAI/bge-small-en-v1.5" and meta["sparse_model"] == "Qdrant/bm25"
    assert meta["payload_format"] == "superset-1" and meta["text_version"] == 2
    sparse = client.get_collection(COLLECTION).config.params.sparse_vectors["sparse"]
    assert sparse.modifier == models.Modifier.IDF
