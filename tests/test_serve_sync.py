"""The sync service end to end, in-process: the demo server's changes reach the collection.

Real parts throughout: the demo server (HTTP and its notification stream) on
127.0.0.1, plexapi's listener, the four stages with fastembed, embedded Qdrant,
the control API over aiohttp. Waits are bounded and wait on the service's
``on_sync`` (or poll a status with a deadline), never a fixed sleep.
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from plex_loader_tui.demo.library import DemoLibrary
from plex_loader_tui.demo.server import DemoServer
from plex_loader_tui.service.controls import ServiceState, SyncKind

from serve_support import running_service, service_config, until


@pytest.fixture
def server():
    with DemoServer(DemoLibrary.generate(seed=41, size=60)) as srv:
        yield srv


def _changes(r) -> bool:
    return r.kind == SyncKind.CHANGES


async def test_added_changed_and_removed_items_reach_search(server, tmp_path) -> None:
    async with running_service(service_config(server, tmp_path)) as svc:
        assert svc.syncs.records[0].loaded == server.library.size

        added = server.add_items(title="Zanzibar Quokka Lighthouse")[0]
        n = len(svc.syncs.records)
        await svc.syncs.wait(lambda r: _changes(r) and r.loaded == 1, after=n)
        assert str(added.rating_key) in {str(h["payload"]["rating_key"]) for h in await svc.hits(added.title, 3)}

        movie = server.library.movies()[0]
        n = len(svc.syncs.records)
        server.touch_items([movie.rating_key])
        await svc.syncs.wait(lambda r: _changes(r) and r.loaded == 1, after=n)
        hit = next(h for h in await svc.hits(movie.title, 5) if h["payload"]["rating_key"] == str(movie.rating_key))
        assert hit["payload"]["summary"].endswith("(Revised cut 1.)")

        n = len(svc.syncs.records)
        server.remove_items([added.rating_key])
        record = await svc.syncs.wait(lambda r: _changes(r) and r.deleted == 1, after=n)
        assert record.loaded == 0
        # The deleted key is accounted for: not an item "still to list" for ever.
        snapshot = (await svc.call("GET", "/api/v1/status"))[1]["snapshot"]
        assert (snapshot["total"], snapshot["unlisted"], snapshot["left"]) == (0, 0, 0)
        assert str(added.rating_key) not in {str(h["payload"]["rating_key"]) for h in await svc.hits(added.title, 10)}


async def test_a_burst_of_2000_notifications_costs_a_handful_of_plex_requests(tmp_path) -> None:
    # 250 items touched 8 times each, as fast as the library can: 2,000 timeline entries.
    with DemoServer(DemoLibrary.generate(seed=43, size=250)) as server:
        async with running_service(service_config(server, tmp_path)) as svc:
            keys = [m.rating_key for m in server.library.movies()] + [e.rating_key for e in server.library.episodes()]
            assert len(keys) == 250
            server.reset_log()
            received = svc.service.status().watch.events_received
            n = len(svc.syncs.records)
            for _ in range(8):
                server.touch_items(keys)
            await until(lambda: svc.service.status().watch.events_received - received >= 2000,
                        what="2,000 notifications")
            await until(lambda: sum(r.loaded for r in svc.syncs.records[n:]) >= 250 and
                        svc.service.status().watch.pending_changes == 0, what="every touched item loaded")
            assert sum(r.loaded for r in svc.syncs.records[n:]) == 250  # each item once, not 8 times
            # 250 keys at up to 100 per request: 3 requests per batch; the batcher makes 1 or 2 batches.
            assert server.count("plex", "/library/metadata") <= 6


async def test_a_change_made_while_the_stream_was_down_lands_after_it_reconnects(server, tmp_path) -> None:
    async with running_service(service_config(server, tmp_path)) as svc:
        await until(lambda: svc.service.status().watch.connected, what="the stream to connect")
        server.set_notifications_down(True)
        await until(lambda: not svc.service.status().watch.connected, what="the stream to drop")
        movie = server.library.movies()[3]
        server.touch_items([movie.rating_key])  # nobody hears of this one
        n = len(svc.syncs.records)
        server.set_notifications_down(False)
        record = await svc.syncs.wait(lambda r: r.kind == SyncKind.RECONCILE, after=n)
        assert (record.outcome, record.loaded) == ("finished", 1)
        assert svc.service.status().watch.reconnects >= 1
        hit = next(h for h in await svc.hits(movie.title, 5) if h["payload"]["rating_key"] == str(movie.rating_key))
        assert hit["payload"]["summary"].endswith("(Revised cut 1.)")


async def test_every_control_route_acts_on_the_real_service(server, tmp_path) -> None:
    async with running_service(service_config(server, tmp_path)) as svc:
        # PUT stages reaches the engine of the next sync.
        status, body = await svc.call("PUT", "/api/v1/stages/embed", json={"workers": 3, "batch_size": 5})
        assert status == 200 and (body["workers"], body["batch_size"]) == (3, 5)

        # Pause holds syncs: changes arrive, nothing loads.
        status, body = await svc.call("POST", "/api/v1/pause")
        assert status == 200 and body["state"] == "paused"
        keys = [m.rating_key for m in server.library.movies()[:4]]
        received = svc.service.status().watch.events_received
        n = len(svc.syncs.records)
        server.touch_items(keys)
        await until(lambda: svc.service.status().watch.events_received - received >= 4, what="the notifications")
        # The batch reaches the service (it wakes, sees it is paused and waits again).
        await until(lambda: svc.service.status().watch.pending_changes == 4, what="the batch to be handed over")
        status, body = await svc.call("GET", "/api/v1/status")
        assert body["state"] == "paused" and body["current_sync"] is None
        assert svc.syncs.records[n:] == [] and body["watch"]["pending_changes"] == 4

        status, body = await svc.call("POST", "/api/v1/resume")
        assert status == 200
        record = await svc.syncs.wait(_changes, after=n)
        assert record.loaded == 4
        pipeline = svc.service.session.pipeline
        assert pipeline is not None and (pipeline.workers("embed"), pipeline.batch_size("embed")) == (3, 5)
        status, body = await svc.call("GET", "/api/v1/status")
        embed = next(s for s in body["snapshot"]["stages"] if s["name"] == "embed")
        assert (embed["workers"], embed["batch_size"]) == (3, 5)

        # Metrics parse and say what the status says.
        status, text = await svc.call("GET", "/metrics")
        assert status == 200
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(text) for s in family.samples}
        status, body = await svc.call("GET", "/api/v1/status")
        assert samples[("plex_loader_service_state", (("state", "watching"),))] == 1
        for stage, settings in body["stage_settings"].items():
            assert samples[("plex_loader_workers", (("stage", stage),))] == settings["workers"]
        assert samples[("plex_loader_syncs_total", (("kind", "changes"),))] == body["totals"]["syncs"]["changes"]
        assert samples[("plex_loader_notification_events_received_total", ())] == body["watch"]["events_received"]
        assert samples[("plex_loader_watch_connected", ())] == 1
        assert set(body["totals"]["paced_seconds"]) == {"tmdb", "imdb"}
        for service, seconds in body["totals"]["paced_seconds"].items():
            assert samples[("plex_loader_paced_seconds_total", (("service", service),))] == seconds >= 0
        assert samples[("plex_loader_dead_letters_waiting", ())] == body["failed_waiting"] == 0
        upserted = sum(i["count"] for i in body["totals"]["items"] if (i["stage"], i["outcome"]) == ("upsert", "out"))
        assert samples[("plex_loader_items_processed_total", (("outcome", "out"), ("stage", "upsert")))] == upserted
        assert upserted == server.library.size + 4

        # Sync runs a reconcile; drain stops the service.
        n = len(svc.syncs.records)
        assert (await svc.call("POST", "/api/v1/sync"))[0] == 202
        record = await svc.syncs.wait(lambda r: r.kind == SyncKind.RECONCILE, after=n)
        assert (record.loaded, record.skipped) == (0, server.library.size)
        assert (await svc.call("POST", "/api/v1/drain"))[0] == 202
        await asyncio.wait_for(svc.task, 60)
        assert svc.service.state == ServiceState.STOPPED


async def test_changes_plex_failed_to_answer_fail_the_sync_and_bring_the_reconcile_forward(server, tmp_path) -> None:
    async with running_service(service_config(server, tmp_path)) as svc:
        server.set_faults("plex", fail_paths=r"^/library/metadata/", error_status=500)
        n = len(svc.syncs.records)
        server.touch_items([server.library.movies()[2].rating_key])
        record = await svc.syncs.wait(_changes, after=n)
        assert record.outcome == "failed" and "1 changed items could not be read from Plex" in record.error
        status = svc.service.status()
        # Not forgotten: a reconcile comes after the first retry delay, not the 6 h interval.
        assert status.next_sync_at is not None and status.next_sync_at - record.finished_at <= 60
        assert status.state == ServiceState.WATCHING


async def test_changes_in_a_library_the_load_does_not_take_cost_one_reconcile_not_one_each(server, tmp_path) -> None:
    config = service_config(server, tmp_path, libraries=["Movies"])
    async with running_service(config) as svc:
        shows_episode, later_episode = [e.rating_key for e in server.library.episodes()[:2]]
        movie = server.library.movies()[0].rating_key

        n = len(svc.syncs.records)
        server.touch_items([shows_episode])
        # A section the listing never had: a reconcile finds out whether it is a new library.
        await svc.syncs.wait(lambda r: r.kind == SyncKind.RECONCILE, after=n)

        n = len(svc.syncs.records)
        received = svc.service.status().watch.events_received
        server.touch_items([later_episode])
        # Its batch taken and planned (nothing of it to load), before the movie's change comes.
        await until(lambda: (w := svc.service.status().watch).events_received > received and not w.pending_changes,
                    what="the episode's change to be taken")
        server.touch_items([movie])
        await svc.syncs.wait(lambda r: _changes(r) and r.loaded == 1, after=n)
        # The listing confirmed the section is not loaded here: no second reconcile for it.
        assert [r.kind for r in svc.syncs.records[n:]] == [SyncKind.CHANGES]


async def test_a_stream_first_up_after_the_listing_brings_a_reconcile(server, tmp_path) -> None:
    server.set_notifications_down(True)  # Plex's stream refuses while the startup sync lists
    async with running_service(service_config(server, tmp_path)) as svc:
        assert not svc.service.status().watch.connected
        movie = server.library.movies()[0]
        server.touch_items([movie.rating_key])  # said on a stream nobody hears
        n = len(svc.syncs.records)
        server.set_notifications_down(False)
        record = await svc.syncs.wait(lambda r: r.kind == SyncKind.RECONCILE, after=n)
        assert record.loaded == 1
