"""The durable load state store: real SQLite files in tmp_path, real processes killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plex_loader_tui.pipeline.errors import FatalError
from plex_loader_tui.state import (
    SCHEMA_VERSION,
    LoadedRecord,
    PendingRecord,
    StateCorruptError,
    StateCounts,
    StateError,
    StateStore,
    state_db_path,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "target.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with StateStore.open(db_path) as opened:
        yield opened


def loaded(key: str, *, updated_at: int | None = 100, source_hash: str = "s1",
           content_hash: str = "c1", section: str = "1", title: str = "") -> LoadedRecord:
    return LoadedRecord(
        key=key,
        point_id=f"pid-{key}",
        updated_at=updated_at,
        source_hash=source_hash,
        content_hash=content_hash,
        section_key=section,
        title=title or f"Title {key}",
    )


def pending(key: str, section: str = "1") -> PendingRecord:
    return PendingRecord(key=key, point_id=f"pid-{key}", section_key=section, title=f"Title {key}")


# --------------------------------------------------------------------------- basics


def test_open_creates_database_in_wal_mode_with_schema_version(db_path: Path) -> None:
    assert not db_path.parent.exists()
    with StateStore.open(db_path) as store:
        assert store.path == db_path
        assert store.counts() == StateCounts(0, 0, 0)
    assert db_path.is_file()
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_loaded_records_round_trip_across_reopen(db_path: Path) -> None:
    with StateStore.open(db_path) as store:
        store.mark_loaded([loaded("srv:1", content_hash="cA"), loaded("srv:2", updated_at=None)])
    with StateStore.open(db_path) as store:
        one = store.get("srv:1")
        assert one is not None
        assert (one.point_id, one.status, one.updated_at, one.source_hash, one.content_hash) == (
            "pid-srv:1", "loaded", 100, "s1", "cA",
        )
        assert one.title == "Title srv:1" and one.section_key == "1"
        assert one.loaded_at is not None and one.first_seen <= one.loaded_at
        assert store.get("srv:2").updated_at is None
        assert store.get("srv:3") is None
        assert store.counts() == StateCounts(loaded=2, failed=0, pending=0)


def test_pending_then_loaded_keeps_first_seen(store: StateStore) -> None:
    store.mark_pending([pending("a"), pending("b")])
    assert store.counts() == StateCounts(loaded=0, failed=0, pending=2)
    first_seen = store.get("a").first_seen
    store.mark_loaded([loaded("a")])
    state = store.get("a")
    assert state.status == "loaded" and state.first_seen == first_seen
    assert store.counts() == StateCounts(loaded=1, failed=0, pending=1)


def test_empty_batches_are_no_ops(store: StateStore) -> None:
    store.mark_pending([])
    store.mark_loaded([])
    store.mark_failed_many([])
    assert store.unchanged_keys([]) == set()
    assert store.delete([]) == 0
    assert store.counts().total == 0


# --------------------------------------------------------------------------- unchanged


def test_unchanged_keys_needs_loaded_status_same_updated_at_and_same_hash(
    store: StateStore,
) -> None:
    store.mark_loaded([loaded(k) for k in ("same", "new-time", "new-hash", "failed", "pending")])
    store.mark_loaded([loaded("no-time", updated_at=None)])
    store.mark_failed("failed", "pid-failed", "Failed", "enrich", "TMDb 500")
    store.mark_pending([pending("pending")])
    result = store.unchanged_keys(
        [
            ("same", 100, "s1"),
            ("new-time", 101, "s1"),
            ("new-hash", 100, "s2"),
            ("failed", 100, "s1"),
            ("pending", 100, "s1"),
            ("no-time", None, "s1"),
            ("unknown", 100, "s1"),
        ]
    )
    assert result == {"same", "no-time"}


def test_unchanged_keys_handles_batches_larger_than_one_sql_chunk(store: StateStore) -> None:
    keys = [f"srv:{i}" for i in range(1300)]
    store.mark_loaded([loaded(k) for k in keys])
    query = [(k, 100, "s1" if i % 3 else "other") for i, k in enumerate(keys)]
    assert store.unchanged_keys(query) == {k for i, k in enumerate(keys) if i % 3}


def test_changed_item_reloaded_becomes_unchanged_under_new_hash(store: StateStore) -> None:
    store.mark_loaded([loaded("a", source_hash="old")])
    assert store.unchanged_keys([("a", 100, "new")]) == set()
    store.mark_pending([pending("a")])
    assert store.get("a").status == "pending"
    store.mark_loaded([loaded("a", source_hash="new", updated_at=200)])
    assert store.unchanged_keys([("a", 200, "new")]) == {"a"}
    assert store.unchanged_keys([("a", 100, "old")]) == set()


# --------------------------------------------------------------------------- dead letters


def test_failures_count_attempts_and_keep_last_error_and_stage(store: StateStore) -> None:
    store.mark_pending([pending("a", section="7")])
    store.mark_failed("a", "pid-a", "Alien", "enrich", "TMDb timed out", section_key="7")
    store.mark_failed("a", "pid-a", "", "upsert", "Qdrant 503", section_key="")
    [record] = store.failed_items()
    assert record.key == "a" and record.point_id == "pid-a"
    assert record.attempts == 2
    assert (record.stage, record.error) == ("upsert", "Qdrant 503")
    # A report without title/section keeps what the store already knew.
    assert (record.title, record.section_key) == ("Alien", "7")
    assert store.failed_count() == 1
    assert store.counts() == StateCounts(loaded=0, failed=1, pending=0)


def test_failure_of_unknown_item_creates_a_dead_letter(store: StateStore) -> None:
    store.mark_failed("x", "pid-x", "X", "ingest", "bad XML", section_key="2")
    [record] = store.failed_items()
    assert (record.key, record.attempts, record.stage) == ("x", 1, "ingest")
    assert record.section_key == "2"


def test_loading_a_failed_item_clears_the_dead_letter(store: StateStore) -> None:
    store.mark_failed("a", "pid-a", "A", "embed", "ONNX error")
    store.mark_failed("b", "pid-b", "B", "embed", "ONNX error")
    store.mark_loaded([loaded("a")])
    assert [r.key for r in store.failed_items()] == ["b"]
    state = store.get("a")
    assert (state.status, state.attempts, state.last_error, state.error_stage) == (
        "loaded", 0, None, None,
    )
    assert store.failed_count() == 1


def test_marking_a_failed_item_pending_keeps_it_dead_lettered(store: StateStore) -> None:
    # A retry run that is killed before the item loads must not lose the dead letter.
    store.mark_failed("a", "pid-a", "A", "upsert", "Qdrant 503")
    store.mark_pending([pending("a")])
    assert [r.key for r in store.failed_items()] == ["a"]
    store.mark_failed("a", "pid-a", "A", "upsert", "Qdrant 503 again")
    assert store.failed_items()[0].attempts == 2


def test_failed_items_filter_by_section_and_order_most_recent_first(store: StateStore) -> None:
    store.mark_failed("a", "pid-a", "A", "enrich", "e1", section_key="1")
    store.mark_failed("b", "pid-b", "B", "enrich", "e2", section_key="2")
    store.mark_failed("c", "pid-c", "C", "enrich", "e3", section_key="1")
    assert [r.key for r in store.failed_items(section_key="1")] == ["c", "a"]
    assert [r.key for r in store.failed_items()][0] == "c"


def test_long_error_text_is_cut(store: StateStore) -> None:
    store.mark_failed("a", "pid-a", "A", "embed", "x" * 100_000)
    assert 0 < len(store.failed_items()[0].error) <= 4000


# --------------------------------------------------------------------------- sections, delete


def test_keys_in_section_lists_every_status_of_that_section_only(store: StateStore) -> None:
    store.mark_loaded([loaded("a", section="1"), loaded("b", section="2")])
    store.mark_pending([pending("c", section="1")])
    store.mark_failed("d", "pid-d", "D", "enrich", "boom", section_key="1")
    assert store.keys_in_section("1") == {"a": "pid-a", "c": "pid-c", "d": "pid-d"}
    assert store.keys_in_section("2") == {"b": "pid-b"}
    assert store.keys_in_section("9") == {}


def test_delete_forgets_items_and_reports_how_many_were_known(store: StateStore) -> None:
    store.mark_loaded([loaded(f"k{i}") for i in range(1200)])
    store.mark_failed("k4", "pid-k4", "", "upsert", "boom")
    store.mark_failed("k5", "pid-k5", "", "upsert", "boom")
    doomed = [f"k{i}" for i in range(0, 1200, 2)] + ["k0", "never-seen"]
    assert store.delete(doomed) == 600
    assert store.counts() == StateCounts(loaded=599, failed=1, pending=0)
    assert store.get("k0") is None and store.get("k1") is not None
    assert [r.key for r in store.failed_items()] == ["k5"]


def test_meta_values_persist(db_path: Path) -> None:
    with StateStore.open(db_path) as store:
        assert store.get_meta("models") is None
        store.set_meta("models", "bge-small|bm25")
        store.set_meta("models", "bge-small|splade")
    with StateStore.open(db_path) as store:
        assert store.get_meta("models") == "bge-small|splade"
        assert store.get_meta("created") is not None


# --------------------------------------------------------------------------- bad files


def assert_actionable(error: BaseException, path: Path) -> None:
    assert isinstance(error, FatalError)
    assert str(path) in str(error)
    assert "--reset-state" in str(error)


def test_garbage_file_raises_state_corrupt_error_naming_file_and_reset_flag(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(os.urandom(3000) + b"definitely not sqlite" * 200)
    before = db_path.read_bytes()
    with pytest.raises(StateCorruptError) as caught:
        StateStore.open(db_path)
    assert_actionable(caught.value, db_path)
    # Never a silent reset: the file is left exactly as it was.
    assert db_path.read_bytes() == before


def test_damaged_pages_are_caught_by_the_integrity_check(db_path: Path) -> None:
    with StateStore.open(db_path) as store:
        store.mark_loaded([loaded(f"srv:{i}", title="t" * 200) for i in range(2000)])
    data = bytearray(db_path.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    # Keep the header page intact so SQLite recognises the file, smash the rest.
    for offset in range(2 * page, len(data) - page, 3 * page):
        data[offset : offset + page] = os.urandom(page)
    db_path.write_bytes(bytes(data))
    with pytest.raises(StateCorruptError) as caught:
        StateStore.open(db_path)
    assert_actionable(caught.value, db_path)


def test_foreign_sqlite_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StateCorruptError) as caught:
        StateStore.open(db_path)
    assert_actionable(caught.value, db_path)
    assert "photos" in str(caught.value)


def test_newer_schema_version_is_refused(db_path: Path) -> None:
    StateStore.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StateCorruptError, match="newer") as caught:
        StateStore.open(db_path)
    assert_actionable(caught.value, db_path)


def test_directory_in_place_of_the_file_is_refused(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(StateCorruptError) as caught:
        StateStore.open(db_path)
    assert_actionable(caught.value, db_path)


def test_reset_deletes_database_wal_and_shm_then_opens_empty(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).write_bytes(b"stale")
    StateStore.reset(db_path)
    assert list(db_path.parent.iterdir()) == []
    StateStore.reset(db_path)  # nothing there: still fine
    with StateStore.open(db_path) as store:
        assert store.counts().total == 0


def test_wal_files_exist_while_open_and_reset_removes_them(db_path: Path) -> None:
    store = StateStore.open(db_path)
    store.mark_loaded([loaded("a")])
    names = {p.name for p in db_path.parent.iterdir()}
    assert {db_path.name, db_path.name + "-wal", db_path.name + "-shm"} <= names
    store.close()
    StateStore.reset(db_path)
    assert list(db_path.parent.iterdir()) == []


def test_closed_store_refuses_calls(store: StateStore) -> None:
    store.close()
    store.close()
    with pytest.raises(StateError, match="closed"):
        store.counts()


def test_write_lock_held_by_another_process_gives_a_clear_error(db_path: Path) -> None:
    with StateStore.open(db_path, busy_timeout=0.05) as store:
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StateError, match="another load") as caught:
                store.mark_loaded([loaded("a")])
            assert not isinstance(caught.value, StateCorruptError)
            other.execute("ROLLBACK")
        finally:
            other.close()
        store.mark_loaded([loaded("a")])  # usable again once the lock is gone
        assert store.counts().loaded == 1


def test_failed_batch_rolls_back_whole_transaction(store: StateStore) -> None:
    # point_id is NOT NULL in the schema: the second record makes the batch fail.
    bad = LoadedRecord("bad", None, 1, "s", "c")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid record"):
        store.mark_loaded([loaded("a"), bad, loaded("b")])
    assert store.counts().total == 0
    store.mark_loaded([loaded("a")])
    assert store.counts().loaded == 1


# --------------------------------------------------------------------------- threads


def test_store_can_be_used_from_several_threads(store: StateStore) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            start.wait()
            for batch in range(25):
                keys = [f"w{worker}-b{batch}-{i}" for i in range(20)]
                store.mark_pending([pending(k) for k in keys])
                store.unchanged_keys([(k, 100, "s1") for k in keys])
                store.mark_loaded([loaded(k) for k in keys])
                store.counts()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.counts() == StateCounts(loaded=4 * 25 * 20, failed=0, pending=0)


# --------------------------------------------------------------------------- paths


def test_state_paths_are_stable_and_differ_per_target_and_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    local = state_db_path(data, str(tmp_path / "qdrant"), "plex")
    assert local == state_db_path(data, str(tmp_path / "qdrant"), "plex")
    # A relative path is the same target as its absolute form.
    assert local == state_db_path(data, "./qdrant", "plex")
    assert local.parent == data / "state"
    assert local.name.startswith("qdrant-plex-") and local.suffix == ".sqlite3"
    others = {
        state_db_path(data, str(tmp_path / "qdrant"), "plex-tv"),
        state_db_path(data, str(tmp_path / "other"), "plex"),
        state_db_path(data, "http://localhost:6333", "plex"),
        state_db_path(data, "https://localhost:6333", "plex"),
        state_db_path(data, "http://qdrant.lan:6333", "plex"),
    }
    assert local not in others and len(others) == 5
    # The same server spelled differently, with or without credentials, is one target.
    url = state_db_path(data, "https://Qdrant.LAN:6333/", "Plex Movies")
    with_secrets = "https://user:hunter2@qdrant.lan:6333?api_key=s3cr3t"
    assert url == state_db_path(data, with_secrets, "Plex Movies")
    assert url.name.startswith("qdrant-lan-plex-movies-")
    assert "hunter2" not in str(url) and "s3cr3t" not in str(url)
    # Collections differing only by case or punctuation still get their own file.
    upper, lower = (state_db_path(data, "http://q:6333", name) for name in ("Plex", "plex"))
    assert upper != lower


def test_each_target_path_opens_its_own_database(tmp_path: Path) -> None:
    first = state_db_path(tmp_path, "http://q:6333", "movies")
    second = state_db_path(tmp_path, "http://q:6333", "shows")
    with StateStore.open(first) as a, StateStore.open(second) as b:
        a.mark_loaded([loaded("x")])
        assert b.counts().total == 0


# --------------------------------------------------------------------------- SIGKILL

WRITER = textwrap.dedent(
    """
    import sys
    from plex_loader_tui.state import LoadedRecord, PendingRecord, StateStore

    path, batch_size = sys.argv[1], int(sys.argv[2])
    store = StateStore.open(path)
    batch = 0
    while True:
        keys = [f"b{batch}-{i}" for i in range(batch_size)]
        store.mark_pending([PendingRecord(k, "pid-" + k, "1", k) for k in keys])
        store.mark_loaded(
            [LoadedRecord(k, "pid-" + k, batch, "src-" + k, "content-" + k, "1", k) for k in keys]
        )
        if batch % 7 == 3:
            store.mark_failed(keys[0], "pid-" + keys[0], keys[0], "upsert", "injected")
        # Only after the commit returned: the parent counts this batch as durable.
        sys.stdout.write(f"{batch}\\n")
        sys.stdout.flush()
        batch += 1
    """
)


@pytest.mark.parametrize("kill_after", [0, 15, 60])
def test_sigkill_mid_write_leaves_a_readable_consistent_database(
    tmp_path: Path, kill_after: int
) -> None:
    db_path = tmp_path / "killed.sqlite3"
    batch_size = 50
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(batch_size)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        acknowledged = -1
        while acknowledged < kill_after:
            line = proc.stdout.readline()
            assert line, f"writer exited early with {proc.wait()}"
            acknowledged = int(line)
        # The writer is inside its next batch (or between statements): kill it there.
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # It may have run ahead of our reading: every line it wrote before dying
        # is an acknowledged batch.
        for line in proc.stdout.read().splitlines():
            acknowledged = max(acknowledged, int(line))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert db_path.with_name(db_path.name + "-wal").exists()  # recovery has work to do

    with StateStore.open(db_path) as store:  # runs quick_check
        counts = store.counts()
        everything = store.keys_in_section("1")
        rows = [store.get(key) for key in everything]
    batches: dict[int, list] = {}
    for row in rows:
        batches.setdefault(int(row.key.split("-")[0][1:]), []).append(row)
    # Every acknowledged batch is there, whole; at most one more (the one in flight).
    assert set(range(acknowledged + 1)) <= set(batches)
    assert len(batches) <= acknowledged + 2
    for number, members in batches.items():
        assert len(members) == batch_size, f"batch {number} is torn"
        statuses = {row.status for row in members}
        if number <= acknowledged:
            assert statuses <= {"loaded", "failed"}
        for row in members:
            assert row.point_id == "pid-" + row.key
            if row.status == "loaded":
                assert (row.source_hash, row.content_hash, row.updated_at) == (
                    "src-" + row.key, "content-" + row.key, number,
                )
            if row.status == "failed":
                assert number % 7 == 3 and row.attempts == 1 and row.error_stage == "upsert"
    assert counts.total == len(rows)
    # And the store keeps working after recovery.
    with StateStore.open(db_path) as store:
        store.mark_loaded([loaded("after-crash", section="2")])
        assert store.counts().total == counts.total + 1


# --------------------------------------------------------------------------- model check

OPS = st.lists(
    st.tuples(
        st.sampled_from(["pending", "loaded", "failed", "delete"]),
        st.lists(st.sampled_from([f"k{i}" for i in range(8)]), min_size=1, max_size=4),
        st.sampled_from(["h1", "h2"]),
        st.sampled_from([1, 2]),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_store_agrees_with_a_simple_model(tmp_path: Path, ops) -> None:
    # A fresh file per example: hypothesis reuses tmp_path across examples.
    path = tmp_path / f"model-{os.urandom(6).hex()}.sqlite3"
    model: dict[str, dict] = {}
    with StateStore.open(path, check_integrity=False) as store:
        for op, keys, source_hash, updated_at in ops:
            keys = list(dict.fromkeys(keys))
            if op == "pending":
                store.mark_pending([pending(k) for k in keys])
                for k in keys:
                    entry = model.setdefault(k, {"status": "pending", "attempts": 0, "v": None})
                    if entry["status"] != "failed":
                        entry["status"] = "pending"
            elif op == "loaded":
                store.mark_loaded(
                    [loaded(k, updated_at=updated_at, source_hash=source_hash) for k in keys]
                )
                for k in keys:
                    model[k] = {"status": "loaded", "attempts": 0, "v": (updated_at, source_hash)}
            elif op == "failed":
                for k in keys:
                    store.mark_failed(k, f"pid-{k}", "", "embed", "boom")
                    entry = model.setdefault(k, {"status": "failed", "attempts": 0, "v": None})
                    entry["status"] = "failed"
                    entry["attempts"] += 1
            else:
                assert store.delete(keys) == sum(k in model for k in keys)
                for k in keys:
                    model.pop(k, None)
        statuses = [e["status"] for e in model.values()]
        assert store.counts() == StateCounts(
            statuses.count("loaded"), statuses.count("failed"), statuses.count("pending")
        )
        assert {r.key: r.attempts for r in store.failed_items()} == {
            k: e["attempts"] for k, e in model.items() if e["status"] == "failed"
        }
        for updated_at in (1, 2):
            for source_hash in ("h1", "h2"):
                query = [(f"k{i}", updated_at, source_hash) for i in range(8)]
                assert store.unchanged_keys(query) == {
                    k for k, e in model.items()
                    if e["status"] == "loaded" and e["v"] == (updated_at, source_hash)
                }


def test_many_processes_creating_the_same_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    db_path = tmp_path / "race.sqlite3"
    script = textwrap.dedent(
        """
        import sys
        from plex_loader_tui.state import LoadedRecord, StateStore
        sys.stdin.readline()  # every process waits here, then all open at once
        with StateStore.open(sys.argv[1]) as store:
            store.mark_loaded([LoadedRecord(sys.argv[2], "pid", 1, "s", "c")])
        """
    )
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(db_path), f"k{n}"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        for n in range(4)
    ]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [proc.communicate() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], [err for _, err in results]
    with StateStore.open(db_path) as store:
        assert store.counts().loaded == 4
