"""ChangeBatcher: bursts become few batches, one entry per key, a quiet window and a maximum delay."""

from __future__ import annotations

import asyncio

import pytest

from plex_loader_tui.sources.change_batcher import ChangeBatcher
from plex_loader_tui.sources.plex_watch import LibraryChange

#: A bound for waits that must end far sooner; never asserted as a duration.
GUARD = 30.0


def _change(key: int, kind: str = "changed", section: str = "1") -> LibraryChange:
    return LibraryChange(str(key), section, kind, "movie", 0.0)  # type: ignore[arg-type]


async def test_a_burst_of_2000_changes_is_two_batches_of_distinct_keys():
    batcher = ChangeBatcher(quiet=0.05, max_delay=5.0, max_batch=1_000)
    batcher.add_all(_change(i) for i in range(2_000))
    first = await asyncio.wait_for(batcher.next_batch(), GUARD)
    second = await asyncio.wait_for(batcher.next_batch(), GUARD)
    assert (len(first), len(second), batcher.pending) == (1_000, 1_000, 0)
    assert [c.rating_key for c in first.changes + second.changes] == [str(i) for i in range(2_000)]


async def test_repeated_keys_fold_into_one_with_the_last_kind():
    batcher = ChangeBatcher(quiet=0.05, max_delay=5.0)
    for _ in range(5):  # a scan says each item several times
        batcher.add_all(_change(i) for i in range(300))
    batcher.add(_change(7, "deleted"))
    batcher.add(_change(8, "deleted"))
    batcher.add(_change(8, "changed", section="2"))
    batch = await asyncio.wait_for(batcher.next_batch(), GUARD)
    assert len(batch) == 300 and batcher.merged == 1_203
    assert [c.rating_key for c in batch.deleted] == ["7"]
    assert batch.keys_by_section("deleted") == {"1": ["7"]}
    by_section = batch.keys_by_section()
    assert by_section["2"] == ["8"] and "7" not in by_section["1"] and len(by_section["1"]) == 298
    assert [c.rating_key for c in batch.changes][:3] == ["0", "1", "2"]  # a key keeps its first place


async def test_a_quiet_window_closes_a_batch():
    batcher = ChangeBatcher(quiet=0.1, max_delay=600.0)
    batcher.add(_change(1))
    batch = await asyncio.wait_for(batcher.next_batch(), GUARD)  # not the 600 s maximum
    assert [c.rating_key for c in batch.changes] == ["1"]


async def test_the_maximum_delay_closes_a_batch_that_never_goes_quiet():
    loop = asyncio.get_running_loop()
    batcher = ChangeBatcher(quiet=600.0, max_delay=0.3)
    started = loop.time()
    batcher.add(_change(1))

    async def keep_changing() -> None:
        n = 2
        while True:
            await asyncio.sleep(0.01)
            batcher.add(_change(n))
            n += 1

    dripping = asyncio.create_task(keep_changing())
    try:
        batch = await asyncio.wait_for(batcher.next_batch(), GUARD)  # the quiet window never came
    finally:
        dripping.cancel()
    assert len(batch) >= 1 and batch.changes[0].rating_key == "1"
    assert loop.time() - started >= 0.3  # and not before the maximum delay


async def test_waiting_costs_nothing_until_a_change_and_close_flushes():
    batcher = ChangeBatcher(quiet=600.0, max_delay=600.0)
    waiting = asyncio.create_task(batcher.next_batch())
    await asyncio.sleep(0)
    assert not waiting.done()
    batcher.add(_change(1))
    batcher.close()  # shutting down: what is pending goes out now
    batch = await asyncio.wait_for(waiting, GUARD)
    assert [c.rating_key for c in batch.changes] == ["1"]
    assert await asyncio.wait_for(batcher.next_batch(), GUARD) is None


def test_settings_are_checked():
    with pytest.raises(ValueError):
        ChangeBatcher(quiet=0)
    with pytest.raises(ValueError):
        ChangeBatcher(max_batch=0)
