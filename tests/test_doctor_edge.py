"""``doctor``, ``status`` and ``search`` on a Qdrant Edge folder, through the real command line.

A demo library is loaded into a Qdrant Edge store; the shard is then changed
behind the loader's back with Edge itself (a point deleted, a payload
overwritten, a stranger point added, a payload index dropped, the record
removed), and ``doctor`` must name each and ``--repair`` bring it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import qdrant_edge as qe

from plex_loader_tui.main import main
from plex_loader_tui.sinks.qdrant_edge import RECORD_FILE
from store_support import EmbeddedStore, edge_shard

pytestmark = pytest.mark.timeout(400)

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTION = "doctor-edge"


@pytest.fixture()
def target(tmp_path: Path) -> list[str]:
    args = ["--qdrant-path", str(tmp_path / "qdrant"), "--embedded-store", "edge", "--data-dir", str(tmp_path / "data"),
            "--collection", COLLECTION]
    assert main(["--demo", "--no-ui", "--demo-items", "30", *args], {}) == 0
    return args


def _folder(args: list[str]) -> Path:
    return Path(args[args.index("--qdrant-path") + 1])


def _doctor(capsys, args: list[str], *extra: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["doctor", "--demo", "--demo-items", "30", *args, *extra], {})
    return code, capsys.readouterr().out.splitlines()


def _findings(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith(("note:", "healthy:", "repair", "checking"))
            and " finding(s): collection " not in line]


def _payloads(args: list[str]) -> dict[str, dict]:
    with EmbeddedStore(_folder(args)) as store:
        return store.payloads(COLLECTION)


def test_a_healthy_edge_collection_exits_0_with_its_indexes_checked(target, capsys):
    code, lines = _doctor(capsys, target)
    assert code == 0, lines
    assert lines[-1].startswith("healthy: collection 'doctor-edge' at edge:") and "30 points" in lines[-1]
    assert not any("keeps no payload indexes" in line for line in lines)


def test_drift_in_an_edge_shard_is_found_and_repaired(target, capsys):
    before = _payloads(target)
    deleted, edited, model = sorted(before)[:3]
    shard = edge_shard(_folder(target), COLLECTION)
    vector = shard.retrieve([model], False, True)[0].vector
    stranger = str(uuid.uuid4())
    shard.update(qe.UpdateOperation.delete_points([deleted]))
    shard.update(qe.UpdateOperation.overwrite_payload([edited], {**before[edited], "title": "Edited by hand"}))
    shard.update(qe.UpdateOperation.upsert_points([qe.Point(stranger, vector, {"title": "Stranger"})]))
    shard.flush()
    shard.close()
    code, lines = _doctor(capsys, target)
    found = _findings(lines)
    assert code == 1 and len(found) == 3, lines
    assert any("have no point in the collection" in f and repr(before[deleted]["title"]) in f for f in found)
    assert any("hold another payload" in f for f in found)
    assert any("no item of the load state maps to" in f and stranger in f for f in found)
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 0, lines
    assert _payloads(target) == before  # the deleted point and the edited payload back, the stranger gone


def test_a_dropped_index_and_a_lost_record_are_repaired_in_place(target, capsys):
    shard = edge_shard(_folder(target), COLLECTION)
    shard.update(qe.UpdateOperation.delete_field_index("year"))
    shard.close()
    record = _folder(target) / "edge" / COLLECTION / RECORD_FILE
    kept = json.loads(record.read_text())
    record.unlink()
    code, lines = _doctor(capsys, target)
    found = _findings(lines)
    assert code == 1 and len(found) == 2, lines
    assert any("payload indexes: 1 of" in f and "year (integer)" in f for f in found)
    assert any("records no models" in f for f in found)
    code, lines = _doctor(capsys, target, "--repair")
    assert code == 0, lines
    assert json.loads(record.read_text()) == kept


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "plex_loader_tui", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_status_and_filtered_search_on_an_edge_folder(target):
    done = _cli("status", "--demo", "--json", *target)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["exists"] is True and status["points"] == 30 and status["last_run"]["loaded"] == 30
    done = _cli("search", "--demo", "--json", "--type", "episode", "--limit", "3", *target, "a storm at sea")
    assert done.returncode == 0, done.stderr
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(hits) == 3 and all(h["payload"]["type"] == "episode" for h in hits)
    year, genre = hits[0]["payload"]["year"], hits[0]["payload"]["genres"][0]
    done = _cli("search", "--demo", "--json", "--year", str(year), "--genre", genre, *target, "anything")
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert hits and all(h["payload"]["year"] == year and genre in h["payload"]["genres"] for h in hits)
