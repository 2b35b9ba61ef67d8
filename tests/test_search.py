"""Hybrid (dense + sparse, RRF) search over a real embedded collection."""

from __future__ import annotations

import pytest

from embed_support import bundled_models, catalogue
from plex_loader_tui.embed.stage import Embedder
from plex_loader_tui.search import SearchHit, hybrid_search
from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    embedder = Embedder(bundled_models())
    items = catalogue()
    sink = QdrantSink(
        QdrantSettings(path=tmp_path_factory.mktemp("search") / "qdrant"),
        embedder.dense_dim, *embedder.model_names,
    )
    sink.connect()
    sink.ensure_collection()
    for start in range(0, len(items), 16):
        sink.upsert(embedder.embed(items[start : start + 16]))
    yield sink, embedder, items
    sink.close()


def test_an_items_own_summary_finds_it_first_for_most_items(loaded):
    sink, embedder, items = loaded
    assert len(items) >= 50
    first = 0
    misses = []
    for item in items:
        hits = hybrid_search(sink, None, embedder, item.source.summary, limit=5)
        if hits and hits[0].payload["rating_key"] == item.source.rating_key:
            first += 1
        else:
            misses.append(item.source.display_title)
    assert first >= 0.9 * len(items), f"{first}/{len(items)} first; missed {misses}"


def test_a_paraphrased_query_finds_the_right_movie(loaded):
    sink, embedder, _ = loaded
    hits = hybrid_search(sink, "media-items", embedder, "astronaut left alone on mars growing potatoes", limit=3)
    assert "stranded on Mars" in hits[0].payload["summary"]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hits_carry_display_titles_for_episodes(loaded):
    sink, embedder, _ = loaded
    hits = hybrid_search(sink, None, embedder, "ferry missing in fog with the mayor aboard", limit=1)
    hit = hits[0]
    assert isinstance(hit, SearchHit) and hit.type == "episode"
    assert hit.display_title == "Harbor Lights — S02E04 — Fog Bank (2017)"
    assert hit.show_title == "Harbor Lights" and hit.year == 2017


def test_search_works_with_a_plain_client_and_respects_limit(loaded):
    sink, embedder, items = loaded
    hits = hybrid_search(sink.client, "media-items", embedder, "a heist", limit=7)
    assert len(hits) == 7 and len({h.point_id for h in hits}) == 7
    with pytest.raises(ValueError):
        hybrid_search(sink, None, embedder, "x", limit=0)
