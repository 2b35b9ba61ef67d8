"""The demo server's own routes, under ``/demo``: change the library while it is served.

For tests, benchmarks and anyone watching ``serve --demo`` from another
terminal. They need the Plex token (like every Plex route), ignore the fault
knobs and are not written to the request log (they are not Plex traffic).

=========================================  ==============================================
``POST /demo/items``                       add movies: body ``{"count": N}`` or ``{"title": "…"}``
``POST /demo/items/{ratingKey}/touch``     change a movie or episode (new summary, new ``updatedAt``)
``DELETE /demo/items/{ratingKey}``         remove a movie, episode, season or show
=========================================  ==============================================

Each answers JSON naming the rating keys it changed (``{"added": [...]}``,
``{"changed": [...]}``, ``{"removed": [...]}``); a rating key the library does
not hold is a 404, a bad body a 400. Every change is sent to the notification
stream's clients (:mod:`.notifications`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from .replies import Reply, json_reply

if TYPE_CHECKING:
    from .server import DemoServer

#: Where these routes live.
CONTROL_PREFIX = "/demo"
#: Most movies one request may add.
MAX_ADD = 10_000

_ITEMS = "/demo/items"
_TOUCH = re.compile(r"^/demo/items/(\d+)/touch$")
_ITEM = re.compile(r"^/demo/items/(\d+)$")


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def control_route(demo: DemoServer, method: str, path: str, body: bytes) -> Reply:
    """Answer one request to a ``/demo`` route."""
    if method == "POST" and path == _ITEMS:
        return _add(demo, body)
    if method == "POST" and (m := _TOUCH.match(path)):
        key = int(m.group(1))
        try:
            demo.touch_items([key])
        except KeyError:
            return _error(404, f"no movie or episode with rating key {key}")
        return json_reply(200, {"changed": [str(key)]})
    if method == "DELETE" and (m := _ITEM.match(path)):
        key = int(m.group(1))
        try:
            removed = demo.remove_items([key])
        except KeyError:
            return _error(404, f"no item with rating key {key}")
        return json_reply(200, {"removed": [str(k) for k in removed]})
    return _error(404 if method in ("GET", "POST", "DELETE") else 405, f"no route {method} {path}")


def _add(demo: DemoServer, body: bytes) -> Reply:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return _error(400, "the body is not JSON")
    if not isinstance(payload, dict):
        return _error(400, 'expected {"count": N} or {"title": "..."}')
    title = payload.get("title")
    count = payload.get("count", 1)
    if title is not None and (not isinstance(title, str) or not title.strip()):
        return _error(400, "title: expected a non-empty string")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_ADD:
        return _error(400, f"count: expected a whole number from 1 to {MAX_ADD}")
    if title is not None and count != 1:
        return _error(400, "a title names one movie: count must be 1")
    added = demo.add_items(count, title=title)
    return json_reply(200, {"added": [{"ratingKey": str(m.rating_key), "title": m.title} for m in added]})
