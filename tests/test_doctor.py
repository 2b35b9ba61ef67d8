"""``doctor``, ``status`` and ``search --json`` through the real command line.

A demo library is loaded into an embedded Qdrant folder; the collection is
then changed behind the loader's back with a plain ``QdrantClient`` (a point
deleted, a payload edited, a stranger point added, another model recorded,
the sparse IDF modifier dropped), and ``doctor`` must name each with one
line and exit 1; ``--repair`` must bring it back to healthy (exit 0),
restoring the deleted point through a real reload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models

from plex_loader_tui.main import main
from plex_loader_tui.sinks.qdrant_schema import PAYLOAD_INDEXES, PayloadIndex, missing_indexes, shape_of
from plex_loader_tui.state.service import ServiceMarker, write_service_marker

pytestmark = pytest.mark.timeout(400)

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTION = "doctor-test"


@pytest.fixture()
def target(tmp_path: Path) -> list[str]:
    # qdrant-client's local mode, pinned: these tests change the collection with a QdrantClient
    # (metadata, the sparse modifier), which only that engine reads; Qdrant Edge: test_doctor_edge.py.
    args = ["--qdrant-path", str(tmp_path / "qdrant"), "--embedded-store", "local", "--data-dir", str(tmp_path / "data"),
            "--collection", COLLECTION]
    assert main(["--demo", "--no-ui", "--demo-items", "30", *args], {}) == 0
    return args


def _doctor(capsys, args: list[str], *extra: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    # The same demo library as the load: --repair reloads from it.
    code = main(["doctor", "--demo", "--demo-items", "30", *args, *extra], {})
    lines = capsys.readouterr().out.splitlines()
    return code, lines


def _findings(lines: list[str]) -> list[str]:
    """The finding lines of one pass: not notes, not the closing verdict, not the repair's own lines."""
    return [line for line in lines if not line.startswith(("note:", "healthy:", "repair", "checking"))
            and " finding(s): collection " not in line]


def _client(args: list[str]) -> QdrantClient:
    return QdrantClient(path=args[args.index("--qdrant-path") + 1])


def _points(client: QdrantClient) -> list[models.Record]:
    return client.scroll(COLLECTION, limit=1000, with_payload=True)[0]


def test_a_healthy_collection_exits_0(target, capsys):
    code, lines = _doctor(capsys, target)
    assert code == 0, lines
    assert _findings(lines) == [] and lines[-1].startswith("healthy: collection 'doctor-test'")


def test_a_deleted_point_is_found_and_restored_by_repair(target, capsys):
    client = _client(target)
    victim = _points(client)[0]
    client.delete(COLLECTION, points_selector=models.PointIdsList(points=[victim.id]))
    client.close()
    # An incremental load believes the state: the point stays missing.
    assert main(["--demo", "--no-ui", "--demo-items", "30", *target], {}) == 0
    code, lines = _doctor(capsys, target)
    assert code == 1
    assert len(_findings(lines)) == 1 and "have no point in the collection" in _findings(lines)[0]
    assert repr(victim.payload["title"]) in _findings(lines)[0]
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 0, lines
    assert any("reloaded 1 drifted item" in line for line in lines)
    client = _client(target)
    restored = client.retrieve(COLLECTION, ids=[victim.id], with_payload=True)
    client.close()
    assert restored and restored[0].payload == victim.payload


def test_a_payload_changed_by_hand_is_found_and_reloaded(target, capsys):
    client = _client(target)
    victim = _points(client)[3]
    client.set_payload(COLLECTION, payload={"title": "Edited by hand"}, points=[victim.id])
    client.close()
    code, lines = _doctor(capsys, target)
    assert code == 1 and len(_findings(lines)) == 1 and "hold another payload" in _findings(lines)[0]
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 0, lines
    client = _client(target)
    assert client.retrieve(COLLECTION, ids=[victim.id], with_payload=True)[0].payload["title"] == victim.payload["title"]
    client.close()


def test_an_orphan_point_is_found_and_deleted(target, capsys):
    client = _client(target)
    model = _points(client)[0]
    stranger = str(uuid.uuid4())
    vector = client.retrieve(COLLECTION, ids=[model.id], with_vectors=True)[0].vector
    client.upsert(COLLECTION, points=[models.PointStruct(id=stranger, vector=vector, payload={"title": "Stranger"})])
    client.close()
    code, lines = _doctor(capsys, target)
    assert code == 1 and len(_findings(lines)) == 1
    assert "no item of the load state maps to" in _findings(lines)[0] and stranger in _findings(lines)[0]
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 0, lines
    client = _client(target)
    assert client.retrieve(COLLECTION, ids=[stranger]) == []
    client.close()


def test_a_mismatched_model_and_a_missing_idf_modifier(target, capsys):
    client = _client(target)
    meta = dict(client.get_collection(COLLECTION).config.metadata)
    client.update_collection(COLLECTION, metadata={**meta, "sparse_model": "Qdrant/bm42-all-minilm-l6-v2-attentions"})
    client.close()
    code, lines = _doctor(capsys, target)
    assert code == 1 and len(_findings(lines)) == 1, lines
    assert "filled with sparse model 'Qdrant/bm42-all-minilm-l6-v2-attentions'" in _findings(lines)[0]
    assert "SPARSE_MODEL" in _findings(lines)[0]
    # --repair cannot choose the model for the user: it says so and changes nothing.
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 1 and any("nothing here --repair can fix" in line for line in lines)

    client = _client(target)
    client.update_collection(COLLECTION, metadata=meta)
    # What mcp-plex's own loader creates: a sparse vector without IDF.
    client.update_collection(COLLECTION, sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.NONE)})
    client.close()
    code, lines = _doctor(capsys, target)
    assert code == 1 and len(_findings(lines)) == 1 and "no IDF modifier" in _findings(lines)[0]
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 0, lines


def test_doctor_that_cannot_connect_exits_3(tmp_path, capsys):
    code = main(["doctor", "--qdrant-path", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path)], {})
    assert code == 3 and "no embedded Qdrant folder" in capsys.readouterr().err


def test_missing_payload_indexes_are_named_by_kind():
    # A server's collection info as Qdrant sends it, with two indexes left out.
    have = {i.field: models.PayloadIndexInfo(data_type=models.PayloadSchemaType(i.kind.value), points=0)
            for i in PAYLOAD_INDEXES if i.field not in ("added_at", "data.imdb.id")}
    info = models.CollectionInfo(
        status=models.CollectionStatus.GREEN, optimizer_status=models.OptimizersStatusOneOf.OK,
        segments_count=1, payload_schema=have,
        config=models.CollectionConfig(
            params=models.CollectionParams(), hnsw_config=models.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10),
            optimizer_config=models.OptimizersConfig(deleted_threshold=0.2, vacuum_min_vector_number=1000,
                                                     default_segment_number=0, flush_interval_sec=5),
        ),
    )
    assert {i.field for i in missing_indexes(shape_of(info))} == {"added_at", "data.imdb.id"}
    assert PayloadIndex("added_at", PAYLOAD_INDEXES[-4].kind) in missing_indexes(shape_of(info))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "plex_loader_tui", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_status_and_search_json_through_the_real_cli(target, tmp_path):
    done = _cli("status", "--demo", "--json", *target)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["points"] == 30 and status["exists"] is True and status["dead_letters"] == 0
    assert status["last_run"]["state"] == "finished" and status["last_run"]["loaded"] == 30
    assert status["service"] is None
    # A service marker whose process is alive counts; a stale one does not.
    state = Path(status["state"])
    write_service_marker(state, ServiceMarker(pid=os.getpid(), listen="http://127.0.0.1:8765", started_at=1.0))
    text = _cli("status", "--demo", *target)
    assert text.returncode == 0 and "service: running (pid" in text.stdout and "127.0.0.1:8765" in text.stdout
    assert "30 points" in text.stdout and "last run: load finished" in text.stdout
    write_service_marker(state, ServiceMarker(pid=2**22 + 12345, listen="x", started_at=1.0))
    assert json.loads(_cli("status", "--demo", "--json", *target).stdout)["service"] is None

    done = _cli("search", "--demo", "--json", "--type", "episode", "--limit", "3", *target, "a storm at sea")
    assert done.returncode == 0, done.stderr
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(hits) == 3 and all(set(h) == {"score", "id", "payload"} for h in hits)
    assert all(h["payload"]["type"] == "episode" and "text" not in h["payload"] for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    year = hits[0]["payload"]["year"]
    genre = hits[0]["payload"]["genres"][0]
    done = _cli("search", "--demo", "--json", "--with-text", "--year", str(year), "--genre", genre, *target, "anything")
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert hits and all(h["payload"]["year"] == year and genre in h["payload"]["genres"] for h in hits)
    assert all(h["payload"]["text"] for h in hits)
    actor = hits[0]["payload"]["actors"][0]
    done = _cli("search", "--demo", "--json", "--actor", actor, *target, "anything")
    assert all(actor in json.loads(line)["payload"]["actors"] for line in done.stdout.splitlines())
    bad = _cli("search", "--demo", "--with-text", *target, "anything")
    assert bad.returncode == 2 and "--with-text: only with --json" in bad.stderr
