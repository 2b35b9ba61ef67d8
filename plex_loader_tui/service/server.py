"""Running the control API on the service's own event loop.

:func:`start_api` binds an app (:func:`.api.make_app`) to a
:class:`~.listen.ListenPlan` with aiohttp's ``AppRunner`` and ``TCPSite`` and
returns a :class:`RunningApi` that knows the bound address (port 0 becomes the
real port) and stops cleanly: live event streams end, requests in flight get
a few seconds, the socket is closed.

The access log is our own (:class:`AccessLog`): method, path without its
query, status, size and time. No request header is ever logged (the
``Authorization`` header carries the token) and no query string (a client may
put a token there by mistake; it is refused, and not written down either).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ..config.service_kinds import ListenAddress
from .listen import ListenPlan

log = logging.getLogger(__name__)
access_log = logging.getLogger("plex_loader_tui.service.access")

#: Seconds requests in flight get to finish when the service stops.
SHUTDOWN_SECONDS = 5.0


class AccessLog(AbstractAccessLogger):
    """One line per request: ``GET /api/v1/status 200 812B 1.2ms from 127.0.0.1``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        size = response.body_length
        self.logger.info("%s %s %s %dB %.1fms from %s", request.method, request.path, response.status,
                         size, time * 1000, request.remote)


@dataclass(slots=True)
class RunningApi:
    """A started control API: where it listens, and how to stop it."""

    runner: web.AppRunner
    address: ListenAddress  # the bound one: port 0 resolved
    scheme: str

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8765``."""
        return f"{self.scheme}://{self.address}"

    async def stop(self) -> None:
        """Stop listening, end the event streams, let requests in flight finish (bounded)."""
        await self.runner.cleanup()
        log.info("control API stopped")


async def start_api(app: web.Application, plan: ListenPlan) -> RunningApi:
    """Serve ``app`` as ``plan`` says, on the running event loop; returns once it listens.

    Raises ``OSError`` when the address cannot be bound (in use, not ours).
    """
    if plan.warning:
        log.warning("%s", plan.warning)
    runner = web.AppRunner(app, access_log_class=AccessLog, access_log=access_log,
                           shutdown_timeout=SHUTDOWN_SECONDS, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, plan.address.host, plan.address.port, ssl_context=plan.ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = _bound_address(runner, plan.address)
    running = RunningApi(runner, bound, plan.scheme)
    log.info("control API listening on %s", running.url)
    return running


def _bound_address(runner: web.AppRunner, asked: ListenAddress) -> ListenAddress:
    """The address as asked, with the port the kernel picked when port 0 was asked for."""
    ports = [address[1] for address in runner.addresses if isinstance(address, tuple)]
    return ListenAddress(asked.host, ports[0]) if ports else asked
