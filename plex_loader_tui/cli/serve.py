"""``plex-loader-tui serve``: the sync service with its control API, until a signal drains it.

Order matters: the settings of the listener are checked before anything
starts (a bad ``--listen`` costs one line, exit 2); the API listens before
the models load, so ``/healthz`` and ``/api/v1/status`` answer "starting";
then Plex, the models and Qdrant open (a failure is one line, exit 3), the
notification stream starts and the startup sync runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

from ..config import RunConfig
from ..exit_codes import ExitCode
from ..service.api import make_app
from ..service.listen import ListenPlan, listen_plan
from ..service.server import start_api
from ..service.sync import SyncService
from ..service.token import load_control_token
from ..state.paths import state_path_of
from ..state.service import ServiceMarker, remove_service_marker, write_service_marker

log = logging.getLogger(__name__)

_EXIT_ON_CANCEL = {signal.SIGINT: ExitCode.SIGINT, signal.SIGTERM: ExitCode.SIGTERM}


def run_serve(config: RunConfig) -> int:
    """Run the service until drained; return the exit code (0 after a drain)."""
    plan = listen_plan(config)  # ConfigError: exit 2, nothing started
    return asyncio.run(_serve(config, plan))


async def _serve(config: RunConfig, plan: ListenPlan) -> int:
    token = load_control_token(config.config_dir)
    service = SyncService(config)
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        if len(received) == 1:
            log.info("%s: draining (send it again to stop at once)", sig.name)
            if not service.stopping:
                service.drain()
        else:
            log.warning("%s again: stopping now", sig.name)
            service.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    api = await start_api(make_app(service, token=token.value, metrics_public=config.metrics_public), plan)
    state_path, marked = state_path_of(config), False
    try:
        await service.open()
        # `status`, `attach` and a second `serve` look for this to find the running service.
        write_service_marker(state_path, ServiceMarker(pid=os.getpid(), listen=api.url, started_at=time.time()))
        marked = True
        await service.run()
    finally:
        if marked:
            remove_service_marker(state_path)
        await api.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if len(received) > 1:
        return _EXIT_ON_CANCEL[received[1]]
    return ExitCode.OK
