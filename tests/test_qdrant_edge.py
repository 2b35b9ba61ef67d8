"""The Qdrant Edge sink against real Edge shards (and real local-mode stores to compare and migrate)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import qdrant_edge as qe

from embed_support import bundled_models, catalogue
from plex_loader_tui.cli.app import run_command_line
from plex_loader_tui.embed.stage import Embedder
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.models import PayloadUpdate, SearchFilters
from plex_loader_tui.search import search
from plex_loader_tui.sinks.fusion import RRF_K, rrf_fuse
from plex_loader_tui.sinks.migrate import migrate_local_to_edge
from plex_loader_tui.sinks.qdrant import QdrantSettings, QdrantSink
from plex_loader_tui.sinks.qdrant_edge import RECORD_FILE, EdgeSink
from plex_loader_tui.sinks.qdrant_errors import CollectionMismatchError, QdrantUnavailableError
from plex_loader_tui.sinks.qdrant_schema import PAYLOAD_INDEXES
from plex_loader_tui.sinks.store_format import NEW_FOLDER_ENGINE, StoreFormat, StoreFormatError, choose_engine, detect_format

DENSE, SPARSE = "BAAI/bge-small-en-v1.5", "Qdrant/bm25"
REPO = Path(__file__).resolve().parents[1]
QUERIES = (
    "astronaut left alone on mars growing potatoes",
    "ferry missing in fog with the mayor aboard",
    "chess prodigy and a KGB plot",
    "counterfeit wine sold at auction",
    "the",  # BM25 drops stopwords: the sparse side is empty, dense alone ranks
)


@pytest.fixture(scope="module")
def embedder():
    return Embedder(bundled_models())


@pytest.fixture(scope="module")
def points(embedder):
    return embedder.embed(catalogue())


def edge_sink(path: Path, dense_model: str = DENSE, dim: int = 384) -> EdgeSink:
    return EdgeSink(path, "media-items", dim, dense_model, SPARSE)


def local_store(path: Path, points) -> None:
    """A real qdrant-client local-mode store at ``path`` holding ``points``."""
    sink = QdrantSink(QdrantSettings(path=path), 384, DENSE, SPARSE)
    sink.connect()
    sink.ensure_collection()
    sink.upsert(points)
    sink.close()


@pytest.fixture
def sink(tmp_path):
    s = edge_sink(tmp_path / "qdrant")
    s.connect()
    yield s
    s.close()


def test_a_new_collection_is_created_once_with_indexes_and_a_model_record(sink):
    assert not sink.collection_exists()
    assert sink.ensure_collection() is True
    assert sink.ensure_collection() is False
    assert sink.collection_exists()
    assert set(sink.shard.info().payload_schema) == {i.field for i in PAYLOAD_INDEXES}
    assert (sink.folder / RECORD_FILE).read_text().count(DENSE) == 1


def test_the_record_carries_text_version_and_payload_format_and_follows_a_newer_version(tmp_path):
    with EdgeSink(tmp_path / "q", "media-items", 384, DENSE, SPARSE, text_version=1, payload_format="p1") as s:
        s.ensure_collection()
        assert s.read_record() == {"dense_model": DENSE, "sparse_model": SPARSE, "created_by": "plex-loader-tui",
                                   "text_version": 1, "payload_format": "p1", "dense_dim": 384}
    with EdgeSink(tmp_path / "q", "media-items", 384, DENSE, SPARSE, text_version=2, payload_format="p2") as s:
        assert s.ensure_collection() is False
        shape = s.shape()
    assert shape.metadata["text_version"] == 2 and shape.metadata["payload_format"] == "p2"
    assert shape.dense["dense"].size == 384 and shape.dense["dense"].distance == "Cosine"
    assert shape.sparse == {"sparse": "idf"} and shape.points == 0
    assert shape.indexes == {i.field: i.kind.value for i in PAYLOAD_INDEXES}


def test_set_payload_replaces_the_payload_keeps_the_vectors_and_skips_a_vanished_point(sink, points):
    sink.ensure_collection()
    sink.upsert(points[:3])
    def vectors(records):
        return {str(r.id): (r.vector["dense"], r.vector["sparse"].indices, r.vector["sparse"].values) for r in records}

    before = vectors(sink.retrieve([p.point_id for p in points[:3]], with_vectors=True))
    gone = "00000000-0000-4000-8000-000000000000"
    updates = [PayloadUpdate(p.point_id, f"k{i}", {"title": f"new {i}", "year": 1900 + i}, "c", "t")
               for i, p in enumerate(points[:2])] + [PayloadUpdate(gone, "gone", {"title": "x"}, "c", "t")]
    assert sink.set_payload(updates) == updates[:2]
    after = {str(r.id): r for r in sink.retrieve([p.point_id for p in points[:3]], with_vectors=True)}
    assert after[points[0].point_id].payload == {"title": "new 0", "year": 1900}  # replaced whole, not merged
    assert after[points[2].point_id].payload == points[2].payload
    assert vectors(after.values()) == before
    assert sink.count() == 3


def test_search_filters_apply_inside_both_candidate_queries(sink, points, embedder):
    sink.ensure_collection()
    sink.upsert(points)
    query = embedder.embed_query("a storm at sea")
    kinds = {p.payload["type"] for p in points}
    for kind in kinds:
        hits = sink.hybrid_query(query, 50, SearchFilters(type=kind))
        assert hits and all(h.payload["type"] == kind for h in hits)
        assert len(hits) == sum(p.payload["type"] == kind for p in points)
    one = points[0].payload
    hits = sink.hybrid_query(query, 50, SearchFilters(year=one["year"], genre=one["genres"][0]))
    assert points[0].point_id in {h.point_id for h in hits}
    assert all(h.payload["year"] == one["year"] and one["genres"][0] in h.payload["genres"] for h in hits)
    assert sink.hybrid_query(query, 5, SearchFilters(actor="Nobody At All")) == []


def test_scroll_page_walks_every_point_once(sink, points):
    sink.ensure_collection()
    sink.upsert(points)
    seen, offset = [], None
    while True:
        page, offset = sink.scroll_page(offset, 4)
        seen += [str(r.id) for r in page]
        assert all(r.payload for r in page)
        if offset is None:
            break
    assert sorted(seen) == sorted(p.point_id for p in points)


def test_upsert_delete_and_hybrid_query_find_the_expected_item(sink, points, embedder):
    sink.ensure_collection()
    assert sink.upsert(points) == points
    assert sink.upsert(points[:5]) == points[:5]  # again: updated, not duplicated
    assert sink.count() == len(points)
    hits = search(sink, embedder, "astronaut left alone on mars growing potatoes", 3)
    assert "stranded on Mars" in hits[0].payload["summary"]
    mars = hits[0].point_id
    sink.delete([mars, "00000000-0000-4000-8000-000000000000"])  # an unknown id is ignored
    assert sink.count() == len(points) - 1
    assert mars not in {h.point_id for h in search(sink, embedder, "astronaut left alone on mars growing potatoes", 10)}


def test_rrf_ranks_exactly_like_local_modes_server_side_fusion(tmp_path, points, embedder):
    local = QdrantSink(QdrantSettings(path=tmp_path / "local"), 384, DENSE, SPARSE)
    local.connect()
    local.ensure_collection()
    local.upsert(points)
    edge = edge_sink(tmp_path / "edge")
    edge.connect()
    edge.ensure_collection()
    edge.upsert(points)
    try:
        for query in QUERIES:
            for limit in (1, 10):
                theirs = [(h.point_id, round(h.score, 9)) for h in search(local, embedder, query, limit)]
                ours = [(h.point_id, round(h.score, 9)) for h in search(edge, embedder, query, limit)]
                assert ours == theirs, query
    finally:
        local.close()
        edge.close()


def test_rrf_fuse_scores_by_position_with_qdrants_constant():
    fused = rrf_fuse([["a", "b", "c"], ["c", "a"]], limit=2)
    assert RRF_K == 2
    assert fused == [("a", 1 / 2 + 1 / 3), ("c", 1 / 4 + 1 / 2)]
    assert rrf_fuse([["x", "y"], ["y", "x"]], limit=5) == [("x", 1 / 2 + 1 / 3), ("y", 1 / 3 + 1 / 2)]  # tie: first seen


def test_points_survive_reopening_and_a_second_opener_gets_one_clear_line(tmp_path, points):
    first = edge_sink(tmp_path / "qdrant")
    first.connect()
    first.ensure_collection()
    first.upsert(points[:10])
    try:
        second = edge_sink(tmp_path / "qdrant")
        with pytest.raises(QdrantUnavailableError) as err:
            second.connect()
        message = str(err.value)
        assert "in use by another process" in message and str(tmp_path / "qdrant") in message
        assert "\n" not in message
    finally:
        first.close()
    again = edge_sink(tmp_path / "qdrant")
    again.connect()
    try:
        assert again.ensure_collection() is False and again.count() == 10
    finally:
        again.close()


def test_other_models_or_another_size_do_not_fit_an_existing_collection(tmp_path, points):
    with edge_sink(tmp_path / "qdrant") as s:
        s.ensure_collection()
        s.upsert(points[:3])
    with pytest.raises(CollectionMismatchError, match="dense model 'BAAI/bge-small-en-v1.5', this run uses 'other'"):
        edge_sink(tmp_path / "qdrant", dense_model="other").connect()
    with pytest.raises(CollectionMismatchError, match="expected vector size 512"):
        edge_sink(tmp_path / "qdrant", dim=512).connect()
    with edge_sink(tmp_path / "qdrant") as s:  # refused, never touched
        assert s.count() == 3


_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from embed_support import bundled_models, catalogue
    from plex_loader_tui.embed.stage import Embedder
    from plex_loader_tui.sinks.qdrant_edge import EdgeSink
    import dataclasses, uuid
    points = Embedder(bundled_models()).embed(catalogue()[:8])
    sink = EdgeSink(Path({path!r}), "media-items", 384, {dense!r}, {sparse!r})
    sink.connect()
    sink.ensure_collection()
    n = 0
    while True:
        batch = [dataclasses.replace(p, point_id=str(uuid.UUID(int=n + i + 1))) for i, p in enumerate(points)]
        sink.upsert(batch)
        n += len(batch)
        print(n, flush=True)
""")


def test_every_point_confirmed_before_kill_9_is_there_after_reopening(tmp_path):
    path = tmp_path / "qdrant"
    code = _WRITER.format(tests=str(REPO / "tests"), path=str(path), dense=DENSE, sparse=SPARSE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    confirmed = 0
    for line in proc.stdout:
        confirmed = int(line)
        if confirmed >= 400:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    confirmed = max([confirmed, *(int(line) for line in proc.stdout)])
    assert proc.returncode == -signal.SIGKILL and confirmed >= 400
    with edge_sink(path) as s:
        found = s.retrieve([str(uuid.UUID(int=i + 1)) for i in range(confirmed)])
        assert len(found) == confirmed
        assert s.count() >= confirmed  # a batch written but not yet reported may be there too


def test_the_folder_format_is_detected_and_a_mismatch_names_the_migrate_command(tmp_path, points):
    empty, local, edge = tmp_path / "empty", tmp_path / "local", tmp_path / "edge"
    local_store(local, points[:3])
    with edge_sink(edge) as s:
        s.ensure_collection()
    assert [detect_format(p) for p in (empty, local, edge)] == [StoreFormat.EMPTY, StoreFormat.LOCAL, StoreFormat.EDGE]
    assert [choose_engine(p, "auto") for p in (empty, local, edge)] == [NEW_FOLDER_ENGINE, "local", "edge"]
    with pytest.raises(StoreFormatError, match=f"migrate-store --qdrant-path {local}"):
        choose_engine(local, "edge")
    with pytest.raises(StoreFormatError, match="holds a Qdrant Edge store"):
        choose_engine(edge, "local")
    (local / "edge").mkdir()
    assert detect_format(local) is StoreFormat.MIXED
    with pytest.raises(StoreFormatError, match="both"):
        choose_engine(local, "auto")


def test_an_edge_sink_never_writes_into_a_local_mode_folder(tmp_path, points):
    local_store(tmp_path / "local", points[:3])
    with pytest.raises(StoreFormatError):
        edge_sink(tmp_path / "local").connect()
    assert not (tmp_path / "local" / "edge").exists()


def test_migration_copies_every_point_and_keeps_the_local_files(tmp_path, points, embedder):
    path = tmp_path / "qdrant"
    local_store(path, points)
    local = QdrantSink(QdrantSettings(path=path), 384, DENSE, SPARSE)
    local.connect()
    before = {q: [(h.point_id, h.score) for h in search(local, embedder, q, 10)] for q in QUERIES}
    local.close()
    (path / "edge.migrating" / "edge" / "stale").mkdir(parents=True)  # left by a migration that was killed
    seen: list[int] = []
    result = migrate_local_to_edge(path, on_page=lambda name, copied: seen.append(copied))
    assert [(c.name, c.points) for c in result.collections] == [("media-items", len(points))]
    assert seen[-1] == len(points)
    assert detect_format(path) is StoreFormat.EDGE and not (path / "edge.migrating").exists()
    assert (result.backup / "meta.json").is_file() and (result.backup / "collection" / "media-items").is_dir()
    with edge_sink(path) as s:
        assert s.ensure_collection() is False and s.count() == len(points)
        record = s.retrieve([points[7].point_id], with_vectors=True)[0]
        assert dict(record.payload) == points[7].payload
        assert record.vector["dense"] == pytest.approx(list(points[7].dense), abs=1e-6)
        assert {q: [(h.point_id, h.score) for h in search(s, embedder, q, 10)] for q in QUERIES} == before
    with pytest.raises(StoreFormatError, match="no qdrant-client local-mode store"):
        migrate_local_to_edge(path)


def test_the_command_line_refuses_a_mismatched_engine_then_migrates(tmp_path, points, capsys):
    path = tmp_path / "qdrant"
    local_store(path, points[:6])
    code = run_command_line(["search", "mars", "--qdrant-path", str(path), "--embedded-store", "edge",
                             "--data-dir", str(tmp_path / "data")], {}, lambda c: 0)
    err = capsys.readouterr().err
    assert code == ExitCode.FATAL
    assert "migrate-store" in err and err.count("\n") == 2  # the "searching…" line and the one error line
    assert run_command_line(["migrate-store", "--qdrant-path", str(path), "--data-dir", str(tmp_path / "data")],
                            {}, lambda c: 0) == ExitCode.OK
    assert "migrated collection 'media-items': 6 points" in capsys.readouterr().out
    code = run_command_line(["search", "mars", "--qdrant-path", str(path), "--data-dir", str(tmp_path / "data")],
                            {}, lambda c: 0)
    assert code == ExitCode.OK and "1   1.0000  movie    Desert Falls" in capsys.readouterr().out  # the Mars movie


def test_edge_payload_index_types_follow_the_schema_table():
    from plex_loader_tui.sinks.edge_schema import edge_index_schema

    from plex_loader_tui.sinks.qdrant_schema import IndexKind

    schemas = {i.field: edge_index_schema(i) for i in PAYLOAD_INDEXES}
    kinds = {IndexKind.TEXT: qe.TextIndexParams, IndexKind.KEYWORD: qe.KeywordIndexParams,
             IndexKind.INTEGER: qe.IntegerIndexParams}
    assert isinstance(schemas["year"], qe.IntegerIndexParams) and isinstance(schemas["genres"], qe.KeywordIndexParams)
    assert all(isinstance(schemas[i.field], kinds[i.kind]) for i in PAYLOAD_INDEXES)


def test_a_read_only_file_system_under_edge_is_a_storage_error():
    from plex_loader_tui.sinks.qdrant_errors import storage_failure

    exc = Exception("Service runtime error: failed to flush: Read-only file system (os error 30)")
    assert storage_failure(exc) == "read-only"
    assert storage_failure(Exception("No space left on device (os error 28)")) == "no space left"


def test_upkeep_moves_points_into_on_disk_segments_and_changes_no_answer(tmp_path, points, embedder, monkeypatch):
    # The sink optimizes every UPKEEP_EVERY points (immutable segments, indexes on disk): with a
    # small one, 50 points cross it five times. Every answer must be the one a single appendable
    # segment gives: counts, scores, filters, payload updates.
    import plex_loader_tui.sinks.qdrant_edge as edge

    def loaded(name: str, every: int) -> EdgeSink:
        monkeypatch.setattr(edge, "UPKEEP_EVERY", every)
        s = edge_sink(tmp_path / name)
        s.connect()
        s.ensure_collection()
        for lo in range(0, len(points), 7):
            s.upsert(points[lo:lo + 7])
        return s

    plain, kept = loaded("plain", 10_000), loaded("upkept", 10)
    try:
        assert plain.shard.info().segments_count == 1 and kept.shard.info().segments_count > 1
        assert kept.count() == plain.count() == len(points)
        for query in QUERIES:
            a, b = search(plain, embedder, query, 10), search(kept, embedder, query, 10)
            assert [(h.point_id, round(h.score, 6)) for h in a] == [(h.point_id, round(h.score, 6)) for h in b]
        movie = SearchFilters(type="movie")
        assert ({h.point_id for h in search(plain, embedder, "a storm", 50, movie)}
                == {h.point_id for h in search(kept, embedder, "a storm", 50, movie)})
        first = points[0]
        kept.set_payload([PayloadUpdate(first.point_id, first.item_key, {**first.payload, "year": 1901}, "c", "t")])
        assert kept.retrieve([first.point_id])[0].payload["year"] == 1901
    finally:
        plain.close()
        kept.close()
    with edge_sink(tmp_path / "upkept") as again:  # reopened: the optimized segments are on disk
        assert again.count() == len(points)


def test_an_older_shards_in_ram_payload_indexes_are_rebuilt_on_disk_and_still_filter(tmp_path, points, embedder, caplog):
    # A shard as earlier versions left it: the same vectors, its payload indexes in RAM (text
    # indexes with params but no memory setting; keyword and integer ones from a bare schema
    # type, no params at all). Opening it for a load must put them on disk, not only new ones.
    from plex_loader_tui.sinks.qdrant_schema import IndexKind

    in_ram = {IndexKind.TEXT: lambda: qe.TextIndexParams(tokenizer=qe.TokenizerType.Word, lowercase=True),
              IndexKind.KEYWORD: lambda: qe.PayloadSchemaType.Keyword,
              IndexKind.INTEGER: lambda: qe.PayloadSchemaType.Integer}
    with edge_sink(tmp_path / "old") as old:
        old.ensure_collection()
        old.upsert(points)
        for index in PAYLOAD_INDEXES:
            old.shard.update(qe.UpdateOperation.create_field_index(index.field, in_ram[index.kind]()))
        movie = SearchFilters(type="movie")
        before = {h.point_id for h in search(old, embedder, "a storm", 50, movie)}
        assert all(getattr(i.params, "memory", None) is None for i in old.shard.info().payload_schema.values())

    with caplog.at_level("INFO", logger="plex_loader_tui.sinks.qdrant_edge"), edge_sink(tmp_path / "old") as again:
        again.ensure_collection()
        schema = again.shard.info().payload_schema
        assert {name: i.params.memory for name, i in schema.items()} == {i.field: qe.Memory.Cold for i in PAYLOAD_INDEXES}
        assert {h.point_id for h in search(again, embedder, "a storm", 50, movie)} == before != set()
        assert again.count() == len(points)
    assert f"Rebuilding {len(PAYLOAD_INDEXES)} payload indexes" in caplog.text

    with caplog.at_level("INFO"), edge_sink(tmp_path / "old") as third:  # once: nothing left to rebuild
        caplog.clear()
        third.ensure_collection()
    assert "Rebuilding" not in caplog.text
