"""The control API over real sockets on 127.0.0.1, against a real engine (tests/service_support.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from plex_loader_tui.config.service_kinds import ListenAddress
from plex_loader_tui.service.api import make_app
from plex_loader_tui.service.listen import ListenPlan
from plex_loader_tui.service.server import RunningApi, start_api
from plex_loader_tui.service.wire import status_from_json
from plex_loader_tui.stages import STAGE_NAMES

from service_support import SimService

TOKEN = "test-control-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: A bounded poll: conditions on a running engine become true within a few seconds.
POLL_LIMIT = 30.0


@dataclass
class Served:
    sim: SimService
    api: RunningApi
    client: aiohttp.ClientSession

    async def get(self, path: str, **kw) -> tuple[int, dict]:
        async with self.client.get(path, headers=kw.pop("headers", AUTH), **kw) as r:
            return r.status, await r.json()

    async def post(self, path: str) -> tuple[int, dict]:
        async with self.client.post(path, headers=AUTH) as r:
            return r.status, await r.json()

    async def put(self, path: str, body: str) -> tuple[int, dict]:
        async with self.client.put(path, headers={**AUTH, "Content-Type": "application/json"}, data=body) as r:
            return r.status, await r.json()

    async def status(self) -> dict:
        code, body = await self.get("/api/v1/status")
        assert code == 200, body
        return body

    async def until(self, check: Callable[[dict], bool]) -> dict:
        """Poll /api/v1/status until ``check`` holds (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + POLL_LIMIT
        while True:
            body = await self.status()
            if check(body):
                return body
            assert loop.time() < deadline, f"condition never held; last status: {body['state']}"
            await asyncio.sleep(0.02)


async def _serve(sim: SimService, *, metrics_public: bool = False) -> tuple[RunningApi, aiohttp.ClientSession]:
    app = make_app(sim, token=TOKEN, metrics_public=metrics_public)
    api = await start_api(app, ListenPlan(ListenAddress("127.0.0.1", 0), None))
    return api, aiohttp.ClientSession(base_url=api.url)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    sim = SimService(fail_every=40)
    await sim.start()
    api, client = await _serve(sim)
    try:
        yield Served(sim, api, client)
    finally:
        await client.close()
        await api.stop()
        await sim.close()


def _stages(status: dict) -> dict[str, dict]:
    return {s["name"]: s for s in status["snapshot"]["stages"]}


def _still(status: dict) -> bool:
    """Paused and every batch in flight finished: nothing can move."""
    return status["state"] == "paused" and all(s["busy_workers"] == 0 for s in _stages(status).values())


# --------------------------------------------------------------------------- the token

ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/status"), ("POST", "/api/v1/pause"), ("POST", "/api/v1/resume"), ("POST", "/api/v1/drain"),
    ("POST", "/api/v1/sync"), ("POST", "/api/v1/retry-failed"), ("PUT", "/api/v1/stages/embed"),
    ("GET", "/api/v1/failures"), ("GET", "/api/v1/search?q=x"), ("GET", "/api/v1/events"), ("GET", "/metrics"),
    ("GET", "/api/v1/nothing-here"),
]
BAD_CREDENTIALS = {
    "no token": {},
    "wrong token": {"Authorization": "Bearer not-the-token-0123456789abcdef"},
    "token one character short": {"Authorization": f"Bearer {TOKEN[:-1]}"},
    "token in the Basic scheme": {"Authorization": f"Basic {TOKEN}"},
    "scheme without a token": {"Authorization": "Bearer"},
    "non-ASCII token": {"Authorization": "Bearer t\u00f6ken"},
}


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS), ids=str)
async def test_every_route_but_healthz_answers_401_without_the_right_bearer_token(served, credentials):
    for method, path in ROUTES:
        async with served.client.request(method, path, headers=BAD_CREDENTIALS[credentials],
                                         data=b'{"workers": 3}') as r:
            assert r.status == 401, (method, path)
            assert r.headers["WWW-Authenticate"] == "Bearer"
            assert await r.json() == {"error": "unauthorized"}
            assert TOKEN not in await r.text() and TOKEN not in str(r.headers)
    assert served.sim.state.value == "loading" and served.sim.sync_requests == 0  # nothing was done
    assert served.sim.pipeline.workers("embed") == 2


async def test_a_token_in_the_query_string_is_refused_and_not_logged(served, caplog):
    caplog.set_level(logging.INFO, logger="plex_loader_tui.service.access")
    for param in ("token", "access_token"):
        async with served.client.get(f"/api/v1/status?{param}={TOKEN}") as r:
            assert r.status == 401
    code, _ = await served.get("/api/v1/status")  # the header's token: accepted, and not logged either
    assert code == 200
    assert "GET /api/v1/status 401" in caplog.text and "GET /api/v1/status 200" in caplog.text
    assert TOKEN not in caplog.text and "Bearer" not in caplog.text


async def test_healthz_is_open(served):
    code, body = await served.get("/healthz", headers={})
    assert (code, body) == (200, {"ok": True})


async def test_unknown_routes_and_wrong_methods_answer_json(served):
    assert await served.get("/api/v1/nothing-here") == (404, {"error": "not found"})
    async with served.client.get("/api/v1/pause", headers=AUTH) as r:
        assert r.status == 405 and "POST" in r.headers["Allow"]
        assert await r.json() == {"error": "method not allowed"}


# --------------------------------------------------------------------------- controls

async def test_status_is_the_engine_snapshot_and_parses_back(served):
    body = await served.until(lambda s: s["snapshot"]["loaded"] > 0)
    assert body["version"] == 1 and body["state"] == "loading"
    status = status_from_json(body)
    assert [s.name for s in status.snapshot.stages] == list(STAGE_NAMES)
    assert status.stage_settings["embed"].workers == 2
    assert "abcd" in status.info.source and TOKEN not in json.dumps(body)


async def test_pause_stops_items_flowing_and_resume_starts_them_again(served):
    code, body = await served.post("/api/v1/pause")
    assert code == 200 and body["state"] == "paused"
    still = await served.until(_still)
    loaded = still["snapshot"]["loaded"]
    # Three status messages at 4 Hz (the API's own clock): not one item moves while paused.
    async with served.client.get("/api/v1/events?hz=4", headers=AUTH) as r:
        seen = [await _next_event(r) for _ in range(3)]
    assert [e["snapshot"]["loaded"] for e in seen] == [loaded] * 3
    assert await served.post("/api/v1/pause") == (409, {"error": "cannot pause while paused"})
    code, body = await served.post("/api/v1/resume")
    assert code == 200 and body["state"] == "loading"
    await served.until(lambda s: s["snapshot"]["loaded"] > loaded)


async def test_put_stage_reaches_the_engine(served):
    code, body = await served.put("/api/v1/stages/embed", '{"workers": 5, "batch_size": 16}')
    assert (code, body) == (200, {"version": 1, "stage": "embed", "workers": 5, "batch_size": 16})
    assert served.sim.pipeline.workers("embed") == 5 and served.sim.pipeline.batch_size("embed") == 16
    status = await served.until(lambda s: _stages(s)["embed"]["workers"] == 5)
    assert _stages(status)["embed"]["batch_size"] == 16 and status["stage_settings"]["embed"]["workers"] == 5
    assert (await served.put("/api/v1/stages/upsert", '{"batch_size": 3}'))[0] == 200
    assert served.sim.pipeline.batch_size("upsert") == 3 and served.sim.pipeline.workers("upsert") == 2


BAD_BODIES = [
    ('{"workers": 0}', "stage 'embed': workers must be a whole number from 1 to 64, got 0"),
    ('{"batch_size": 10001}', "stage 'embed': batch size must be a whole number from 1 to 10000, got 10001"),
    ('{"workers": 3, "batch_size": 0}', "stage 'embed': batch size must be a whole number from 1 to 10000, got 0"),
    ('{"workers": "4"}', 'workers must be a whole number, got "4"'),
    ('{"workers": true}', "workers must be a whole number, got true"),
    ('{"workers": 1.5}', "workers must be a whole number, got 1.5"),
    ('{"workers": null}', "workers must be a whole number, got null"),
    ('{"workers": 2, "threads": 4}', "unknown field(s) 'threads'; expected workers and/or batch_size"),
    ("{}", "give workers and/or batch_size"),
    ("[4]", 'expected a JSON object such as {"workers": 4, "batch_size": 32}'),
    ("workers=4", "the body is not valid JSON"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES, ids=[b for b, _ in BAD_BODIES])
async def test_bad_stage_settings_answer_400_and_change_nothing(served, body, message):
    assert await served.put("/api/v1/stages/embed", body) == (400, {"error": message})
    assert served.sim.pipeline.workers("embed") == 2 and served.sim.pipeline.batch_size("embed") == 4


async def test_an_unknown_stage_is_404(served):
    code, body = await served.put("/api/v1/stages/transcode", '{"workers": 2}')
    assert (code, body) == (404, {"error": "no stage named 'transcode' (stages: ingest, enrich, embed, upsert)"})


async def test_sync_and_retry_failed_are_accepted_and_reach_the_service(served):
    assert (await served.post("/api/v1/sync"))[0] == 202
    assert (await served.post("/api/v1/retry-failed"))[0] == 202
    assert (served.sim.sync_requests, served.sim.retry_requests) == (1, 1)


async def test_drain_ends_the_run_and_then_controls_are_409(served):
    await served.until(lambda s: s["snapshot"]["loaded"] > 0)
    code, body = await served.post("/api/v1/drain")
    assert code == 202 and body["state"] == "draining"
    status = await served.until(lambda s: s["state"] == "stopped")
    assert status["snapshot"]["state"] == "drained" and status["last_sync"]["outcome"] == "drained"
    assert status["snapshot"]["loaded"] < served.sim.items
    assert await served.post("/api/v1/sync") == (409, {"error": "the service is stopped"})
    assert (await served.post("/api/v1/drain"))[0] == 409


# --------------------------------------------------------------------------- failures and search

@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=-1", "limit=ten", "offset=-1", "limit=1e3"])
async def test_failure_pages_are_bounded(served, query):
    code, body = await served.get(f"/api/v1/failures?{query}")
    assert code == 400 and body["error"].startswith(query.split("=")[0] + " must be a whole number from")


async def test_failures_are_the_dead_letters_page_by_page(served):
    await served.until(lambda s: s["failed_waiting"] >= 3)
    code, body = await served.get("/api/v1/failures?limit=2&offset=1")
    assert code == 200 and body["limit"] == 2 and body["offset"] == 1 and body["total"] >= 3
    assert [f["key"] for f in body["items"]] == [str(d.item) for d in served.sim.dead[1:3]]
    first = body["items"][0]
    assert first["stage"] == "embed" and "cannot embed item" in first["error"] and first["attempts"] >= 1


@pytest.mark.parametrize(("query", "message"), [
    ("", "q is required: what to look for, in plain words"),
    ("q=%20%20", "q is required: what to look for, in plain words"),
    ("q=" + "x" * 501, "q is 501 characters long; at most 500"),
    ("q=heist&limit=0", "limit must be a whole number from 1 to 100, got '0'"),
    ("q=heist&limit=101", "limit must be a whole number from 1 to 100, got '101'"),
])
async def test_search_checks_its_parameters(served, query, message):
    assert await served.get(f"/api/v1/search?{query}") == (400, {"error": message})


async def test_search_answers_hits_through_the_service(served):
    await served.until(lambda s: s["snapshot"]["loaded"] >= 3)
    code, body = await served.get("/api/v1/search?q=heist&limit=3")
    assert code == 200 and body["query"] == "heist" and len(body["hits"]) == 3
    hit = body["hits"][0]
    assert hit["display_title"] == "Simulated item 0 (2000)" and hit["payload"]["query"] == "heist"
    assert "text" not in hit["payload"]


# --------------------------------------------------------------------------- events

async def _next_event(response: aiohttp.ClientResponse) -> dict:
    """The next ``event: status`` message of a server-sent event stream, parsed."""
    event, data = None, None
    while True:
        line = (await response.content.readline()).decode()
        assert line, "the stream ended"
        line = line.rstrip("\n")
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            data = line[len("data: "):]
        elif line == "" and data is not None:
            assert event == "status"
            return json.loads(data)


async def test_events_stream_status_messages_and_end_when_the_server_stops(served):
    async with served.client.get("/api/v1/events", headers=AUTH) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        first, second = await _next_event(r), await _next_event(r)
        assert status_from_json(first).now < status_from_json(second).now
        await served.api.stop()
        rest = await asyncio.wait_for(r.content.read(), POLL_LIMIT)  # EOF: the server ended the stream
        assert rest == b"" or rest.startswith(b"event: status")


@pytest.mark.parametrize("hz", ["0", "5", "fast"])
async def test_event_rate_is_bounded(served, hz):
    code, body = await served.get(f"/api/v1/events?hz={hz}")
    assert code == 400 and body["error"].startswith("hz must be a whole number from 1 to 4")


# --------------------------------------------------------------------------- metrics

def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text) for s in family.samples
    }


async def test_metrics_parse_and_the_gauges_match_the_status(served):
    await served.until(lambda s: s["failed_waiting"] > 0)
    await served.post("/api/v1/pause")
    status = await served.until(_still)
    async with served.client.get("/metrics", headers=AUTH) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=")
        samples = _samples(await r.text())
    for stage in status["snapshot"]["stages"]:
        label = (("stage", stage["name"]),)
        assert samples[("plex_loader_queue_depth_items", label)] == stage["queue_depth"]
        assert samples[("plex_loader_queue_capacity_items", label)] == stage["queue_capacity"]
        assert samples[("plex_loader_busy_workers", label)] == stage["busy_workers"] == 0
        assert samples[("plex_loader_workers", label)] == stage["workers"]
        assert samples[("plex_loader_batch_size_items", label)] == stage["batch_size"]
        assert samples[("plex_loader_errors_total", label)] == stage["errors"]
        outcome = (("outcome", "out"), ("stage", stage["name"]))
        assert samples[("plex_loader_items_processed_total", outcome)] == stage["items_out"]
        assert samples[("plex_loader_batch_duration_seconds_count", label)] > 0
    assert samples[("plex_loader_dead_letters_waiting", ())] == status["failed_waiting"] > 0
    assert samples[("plex_loader_service_state", (("state", "paused"),))] == 1
    assert samples[("plex_loader_service_state", (("state", "loading"),))] == 0
    assert samples[("plex_loader_syncs_total", (("kind", "startup"),))] == 1
    assert samples[("plex_loader_watch_connected", ())] == 0


async def test_metrics_can_be_public_while_the_controls_stay_guarded():
    sim = SimService()
    api, client = await _serve(sim, metrics_public=True)
    try:
        async with client.get("/metrics") as r:
            assert r.status == 200 and "plex_loader_service_state" in await r.text()
        async with client.get("/api/v1/status") as r:
            assert r.status == 401
    finally:
        await client.close()
        await api.stop()


async def test_two_apps_in_one_process_have_their_own_metrics():
    apps: list[tuple[RunningApi, aiohttp.ClientSession]] = [await _serve(SimService()) for _ in range(2)]
    try:
        for _, client in apps:
            async with client.get("/metrics", headers=AUTH) as r:
                assert r.status == 200
    finally:
        for api, client in apps:
            await client.close()
            await api.stop()


