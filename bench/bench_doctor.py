"""How long ``doctor`` takes on a 20,000-point collection (it pages; it never loads the collection whole).

The points are synthetic (loading 20,000 demo items through the models
would take about half an hour here): each has a demo-sized payload with an
embedded-text field, a random 384-dim dense vector and a small sparse one,
and the load state records each as loaded with the content hash the embed
stage would have stored. A few points are then deleted, edited and added
behind the state's back, and ``diagnose`` must find exactly those.

    PYTHONPATH=. python bench/bench_doctor.py [--points 20000] [--page-size 256]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from plex_loader_tui.config import resolve_config
from plex_loader_tui.doctor import diagnose
from plex_loader_tui.doctor.drift import stored_hash
from plex_loader_tui.embed.payload import PAYLOAD_FORMAT
from plex_loader_tui.embed.text import TEXT_VERSION
from plex_loader_tui.sinks.qdrant_schema import CollectionSpec, create_collection
from plex_loader_tui.state import LoadedRecord, StateStore
from plex_loader_tui.state.paths import state_path_of

MODELS = ("BAAI/bge-small-en-v1.5", "Qdrant/bm25")


def _payload(i: int, rng: random.Random) -> dict[str, object]:
    words = " ".join(rng.choice(("storm", "harbor", "signal", "night", "mirror", "parade")) for _ in range(120))
    return {"rating_key": str(i), "title": f"Title {i}", "type": "movie", "year": 1950 + i % 75, "summary": words[:400],
            "genres": ["Drama"], "actors": [f"Actor {i % 97}"], "text": f"Title {i}\n{words}",
            "data": {"plex": {"rating_key": str(i)}, "tmdb": {"id": i}, "imdb": None}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=256)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        config = resolve_config({"qdrant_path": Path(tmp) / "q", "data_dir": Path(tmp) / "d", "collection": "bench"},
                                {}, None, command="doctor")
        client = QdrantClient(path=str(config.effective_qdrant_path))
        create_collection(client, CollectionSpec("bench", 384, *MODELS, text_version=TEXT_VERSION,
                                                 payload_format=PAYLOAD_FORMAT), payload_indexes=False)
        built = time.perf_counter()
        records, ids = [], []
        for start in range(0, args.points, 500):
            batch = []
            for i in range(start, min(start + 500, args.points)):
                pid, payload = str(uuid.uuid5(uuid.NAMESPACE_URL, str(i))), _payload(i, rng)
                ids.append(pid)
                batch.append(qm.PointStruct(id=pid, payload=payload, vector={
                    "dense": [rng.random() for _ in range(384)],
                    "sparse": qm.SparseVector(indices=[i % 1000, 1000 + i % 7], values=[1.0, 0.5])}))
                records.append(LoadedRecord(f"srv:{i}", pid, 1, "src", stored_hash(payload, MODELS), "srv:1", f"Title {i}"))
            client.upsert("bench", points=batch, wait=True)
        client.delete("bench", points_selector=qm.PointIdsList(points=ids[:3]))
        client.set_payload("bench", payload={"title": "edited"}, points=ids[10:12])
        client.upsert("bench", points=[qm.PointStruct(id=str(uuid.uuid4()), payload={"title": "stranger"}, vector={
            "dense": [0.5] * 384, "sparse": qm.SparseVector(indices=[1], values=[1.0])})])
        client.close()
        with StateStore.open(state_path_of(config)) as store:
            store.mark_loaded(records)
        print(f"built {args.points} points + state in {time.perf_counter() - built:.1f} s")
        started = time.perf_counter()
        diagnosis = diagnose(config, page_size=args.page_size)
        seconds = time.perf_counter() - started
        drift = diagnosis.drift
        assert drift is not None
        print(f"doctor: {seconds:.2f} s for {drift.points} points in {drift.pages} pages of {args.page_size} "
              f"({drift.points / seconds:,.0f} points/s; paging {drift.seconds:.2f} s); found missing "
              f"{len(drift.missing)}, changed {len(drift.changed)}, orphans {len(drift.orphans)}")
        assert (len(drift.missing), len(drift.changed), len(drift.orphans)) == (3, 2, 1)


if __name__ == "__main__":
    main()
