"""The control API: an aiohttp application over a :class:`~.controls.ServiceControls`.

:func:`make_app` builds it; :mod:`.server` runs it on the service's own event
loop. Every route but ``GET /healthz`` (and ``GET /metrics`` when it is
public) needs ``Authorization: Bearer <token>``; every answer, errors
included, is JSON (``/metrics`` and ``/api/v1/events`` excepted). The routes,
their bodies and their status codes are tabled in the README (``serve`` →
*Control API*); the JSON shapes are :mod:`.wire`'s.

A control's refusal maps to a status: :class:`~.controls.UnknownStage` → 404,
:class:`~.controls.NotAllowedNow` → 409, :class:`ValueError` → 400, each with
the control's own message.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ..pipeline.waiting import wait_event
from . import wire
from .controls import NotAllowedNow, ServiceControls, UnknownStage
from .metrics import service_registry

log = logging.getLogger(__name__)

API = "/api/v1"
#: Most dead letters one failures page holds.
MAX_FAILURES_PAGE = 500
DEFAULT_FAILURES_PAGE = 50
#: Most hits one search returns, and the longest query accepted (characters).
MAX_SEARCH_HITS = 100
DEFAULT_SEARCH_HITS = 10
MAX_QUERY_CHARS = 500
#: Status messages per second on /api/v1/events: bounds and default of ``?hz=``.
EVENTS_HZ = (1, 4)
DEFAULT_EVENTS_HZ = 2
#: Largest request body (a PUT of stage settings is a few dozen bytes).
MAX_BODY_BYTES = 16 * 1024
#: The fields ``PUT /api/v1/stages/{stage}`` accepts.
STAGE_FIELDS = ("workers", "batch_size")

CONTROLS = web.AppKey("controls", ServiceControls)
TOKEN = web.AppKey("token", bytes)
PUBLIC_PATHS = web.AppKey("public_paths", frozenset)
REGISTRY = web.AppKey("registry", CollectorRegistry)
#: Set when the server shuts down: live event streams end.
STOPPING = web.AppKey("stopping", asyncio.Event)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(controls: ServiceControls, *, token: str, metrics_public: bool) -> web.Application:
    """The control API and ``/metrics`` of ``controls``, guarded by ``token``."""
    if not token:
        raise ValueError("the control API needs a token")
    app = web.Application(middlewares=[_errors_as_json, _require_token], client_max_size=MAX_BODY_BYTES)
    app[CONTROLS] = controls
    app[TOKEN] = token.encode("utf-8")
    app[PUBLIC_PATHS] = frozenset({"/healthz", "/metrics"} if metrics_public else {"/healthz"})
    app[REGISTRY] = service_registry(controls)
    app[STOPPING] = asyncio.Event()
    app.on_shutdown.append(_stop_streams)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(f"{API}/status", status)
    for action, answer in _ACTIONS.items():
        app.router.add_post(f"{API}/{action}", answer)
    app.router.add_put(f"{API}/stages/{{stage}}", put_stage)
    app.router.add_get(f"{API}/failures", failures)
    app.router.add_get(f"{API}/search", search)
    app.router.add_get(f"{API}/events", events)
    return app


async def _stop_streams(app: web.Application) -> None:
    app[STOPPING].set()


# --------------------------------------------------------------------------
# Middlewares: errors as JSON, the token
# --------------------------------------------------------------------------


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def unauthorized() -> web.Response:
    """401, the same for every reason: no hint which part of a credential was wrong."""
    return _error(401, "unauthorized", **{"WWW-Authenticate": "Bearer"})


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "WWW-Authenticate")}
        message = exc.text if exc.content_type == "application/json" else exc.reason.lower()
        if exc.content_type == "application/json":
            return web.Response(status=exc.status, text=message, content_type="application/json", headers=headers)
        return _error(exc.status, message, **headers)
    except UnknownStage as exc:
        return _error(404, str(exc))
    except NotAllowedNow as exc:
        return _error(409, str(exc))
    except ValueError as exc:
        return _error(400, str(exc))
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("control API: %s %s failed", request.method, request.path)
        return _error(500, "internal error (see the service's log)")


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in request.app[PUBLIC_PATHS] and request.method in ("GET", "HEAD"):
        return await handler(request)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    given = credentials.strip().encode("utf-8")
    # compare_digest on bytes: constant time, and no TypeError for a non-ASCII header.
    if scheme.lower() != "bearer" or not hmac.compare_digest(given, request.app[TOKEN]):
        return unauthorized()
    return await handler(request)


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


# --------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """Open to all: the process answers. Nothing about the library."""
    return web.json_response({"ok": True})


async def metrics(request: web.Request) -> web.Response:
    # On the loop, not in a thread: the collector reads controls.status(), and the engine's
    # counters are only consistent from the event loop's thread (a scrape costs well under 1 ms).
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def status(request: web.Request) -> web.Response:
    return web.json_response(wire.status_to_json(request.app[CONTROLS].status()))


def _action(call: Callable[[ServiceControls], None], code: int) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        controls = request.app[CONTROLS]
        call(controls)
        return web.json_response(wire.status_to_json(controls.status()), status=code)

    return answer


#: POST /api/v1/<action>: what each calls, and its status (202: it happens after the answer).
_ACTIONS: dict[str, Handler] = {
    "pause": _action(lambda c: c.pause(), 200),
    "resume": _action(lambda c: c.resume(), 200),
    "drain": _action(lambda c: c.drain(), 202),
    "sync": _action(lambda c: c.request_sync(), 202),
    "retry-failed": _action(lambda c: c.retry_failed(), 202),
}


async def put_stage(request: web.Request) -> web.Response:
    stage = request.match_info["stage"]
    changes = stage_changes(await _json_body(request))
    config = request.app[CONTROLS].set_stage(stage, **changes)
    return web.json_response(wire.stage_config_to_json(stage, config))


def stage_changes(body: Any) -> dict[str, int]:
    """The ``workers``/``batch_size`` a PUT body asks for; raises 400 for anything else.

    Ranges are the engine's to check (its message reaches the client); here
    only the shape: an object, known keys, at least one, whole numbers.
    """
    if not isinstance(body, dict):
        raise bad_request('expected a JSON object such as {"workers": 4, "batch_size": 32}')
    unknown = sorted(set(body) - set(STAGE_FIELDS))
    if unknown:
        raise bad_request(f"unknown field(s) {', '.join(map(repr, unknown))}; expected workers and/or batch_size")
    if not body:
        raise bad_request("give workers and/or batch_size")
    for name, value in body.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"{name} must be a whole number, got {json.dumps(value)}")
    return dict(body)


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("the body is not valid JSON") from None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """Query parameter ``name`` as a whole number in ``low..high``; 400 otherwise."""
    text = request.query.get(name)
    if text is None:
        return default
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}, got {text[:20]!r}")
    return int(text)


async def failures(request: web.Request) -> web.Response:
    limit = int_param(request, "limit", DEFAULT_FAILURES_PAGE, 1, MAX_FAILURES_PAGE)
    offset = int_param(request, "offset", 0, 0, 10**9)
    page = request.app[CONTROLS].failures(limit=limit, offset=offset)
    return web.json_response(wire.failures_to_json(page, limit=limit, offset=offset))


async def search(request: web.Request) -> web.Response:
    query = request.query.get("q", "")
    if not query.strip():
        raise bad_request("q is required: what to look for, in plain words")
    if len(query) > MAX_QUERY_CHARS:
        raise bad_request(f"q is {len(query)} characters long; at most {MAX_QUERY_CHARS}")
    limit = int_param(request, "limit", DEFAULT_SEARCH_HITS, 1, MAX_SEARCH_HITS)
    hits = await request.app[CONTROLS].search(query, limit)
    return web.json_response(wire.hits_to_json(query, hits))


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``event: status`` with the status JSON, ``hz`` times a second.

    Ends when the client goes away or the server shuts down.
    """
    hz = int_param(request, "hz", DEFAULT_EVENTS_HZ, *EVENTS_HZ)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    stopping, controls = request.app[STOPPING], request.app[CONTROLS]
    try:
        while not stopping.is_set():
            # One line of JSON (json.dumps escapes newlines inside strings): one data field.
            data = json.dumps(wire.status_to_json(controls.status()), ensure_ascii=False)
            await response.write(f"event: status\ndata: {data}\n\n".encode())
            await wait_event(stopping, 1 / hz)  # the wait is the rate; the shutdown event cuts it short
    except ConnectionResetError:  # the client went away (aiohttp's ClientConnectionResetError too)
        log.debug("control API: event stream client left")
    return response
