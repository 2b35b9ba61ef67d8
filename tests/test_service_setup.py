"""What the service checks before it serves: its token, its listen address, its settings; and the wire format."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import aiohttp
import pytest

from plex_loader_tui.config import RunConfig, resolve_config
from plex_loader_tui.config.service_kinds import ListenAddress, parse_listen
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.pipeline import DeadLetter
from plex_loader_tui.secrets import RedactingFilter
from plex_loader_tui.service.api import make_app
from plex_loader_tui.service.controls import ServiceState, ServiceTotals, SyncKind, SyncRecord, WatchStatus
from plex_loader_tui.service.listen import listen_plan
from plex_loader_tui.service.server import start_api
from plex_loader_tui.service.token import TOKEN_ENV, load_control_token, token_path
from plex_loader_tui.service.wire import WireError, status_from_json, status_to_json

from service_support import SimService

# --------------------------------------------------------------------------- the token


def test_the_token_file_is_made_once_0600_and_reused(tmp_path):
    first = load_control_token(tmp_path, environ={})
    path = token_path(tmp_path)
    assert first.created and first.source == str(path) and len(first.value) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_control_token(tmp_path, environ={})
    assert again.value == first.value and not again.created
    assert first.value not in repr(first) and [p.name for p in tmp_path.iterdir()] == ["control-token"]


def test_the_variable_wins_over_the_file(tmp_path):
    token = load_control_token(tmp_path, environ={TOKEN_ENV: "from-the-environment-0123456789"})
    assert (token.value, token.source) == ("from-the-environment-0123456789", TOKEN_ENV)
    assert not token_path(tmp_path).exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_token_file_others_can_read_is_refused(tmp_path):
    load_control_token(tmp_path, environ={})
    token_path(tmp_path).chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by others \(mode 0644\): delete it .* chmod 600"):
        load_control_token(tmp_path, environ={})


@pytest.mark.parametrize("bad", ["short", "has a space in it 0123456789"])
def test_a_weak_token_in_the_variable_is_refused_without_echoing_it(tmp_path, bad):
    with pytest.raises(ConfigError) as caught:
        load_control_token(tmp_path, environ={TOKEN_ENV: bad})
    assert str(caught.value).startswith(f"{TOKEN_ENV}: the control token must be at least 16")
    assert bad not in str(caught.value)


def test_the_token_is_masked_in_logs_and_only_its_path_is_logged(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    token = load_control_token(tmp_path, environ={})
    assert str(token_path(tmp_path)) in caplog.text and token.value not in caplog.text
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sent %s", (token.value,), None)
    RedactingFilter().filter(record)  # a filter made before the token was known masks it too
    assert token.value not in record.getMessage() and token.value[-4:] in record.getMessage()


# --------------------------------------------------------------------------- the listen address

@pytest.mark.parametrize(("text", "address"), [
    ("127.0.0.1:8765", ListenAddress("127.0.0.1", 8765)),
    ("[::1]:0", ListenAddress("::1", 0)),
    ("nas.local:9000", ListenAddress("nas.local", 9000)),
    (" localhost:1 ", ListenAddress("localhost", 1)),
])
def test_listen_addresses_parse(text, address):
    assert parse_listen(text) == address


@pytest.mark.parametrize(("argv", "message"), [
    (["--listen", "8765"], "--listen: expected HOST:PORT (e.g. 127.0.0.1:8765), got '8765'"),
    (["--listen", "127.0.0.1:65536"], "--listen: the port must be a number from 0 to 65535, got '65536'"),
    (["--listen", "::1:8765"], "--listen: write an IPv6 address in brackets, e.g. [::1]:8765"),
    (["--listen", "[::g]:1"], "--listen: '::g' is not an IPv6 address"),
    (["--listen", "bad_host:1"], "--listen: 'bad_host' is not an IP address or host name"),
    (["--sync-interval", "6x"], "--sync-interval: expected a duration such as 90s, 15m, 6h or 1d (0 = never), got '6x'"),
    (["--sync-interval", "31d"], "--sync-interval: must be at most 30d, got 31d"),
])
def test_bad_serve_settings_stop_with_one_line(argv, message):
    flag, value = argv
    name = flag.lstrip("-").replace("-", "_")
    with pytest.raises(ConfigError) as caught:
        resolve_config({name: value, "_flag_names": {name: flag}}, {}, command="search")
    assert str(caught.value).startswith(message), str(caught.value)


def test_serve_settings_resolve_from_defaults_variables_and_flags():
    config = resolve_config({}, {}, command="search")
    assert (config.listen, config.sync_interval, config.metrics_public) == ("127.0.0.1:8765", 21600.0, False)
    config = resolve_config({"sync_interval": "30m"}, {"PLEX_LOADER_LISTEN": "[::1]:9100"}, command="search")
    assert (config.sync_interval, parse_listen(config.listen)) == (1800.0, ListenAddress("::1", 9100))
    assert resolve_config({"sync_interval": "0"}, {}, command="search").sync_interval == 0


def test_a_non_loopback_address_without_tls_is_refused_unless_allowed():
    with pytest.raises(ConfigError, match=r"^--listen: 0\.0\.0\.0:8765 is reachable from other machines .* "
                                          r"--allow-insecure-listen$"):
        listen_plan(RunConfig(listen="0.0.0.0:8765"))
    allowed = listen_plan(RunConfig(listen="0.0.0.0:8765", allow_insecure_listen=True))
    assert allowed.ssl_context is None and "without TLS" in allowed.warning
    assert listen_plan(RunConfig(listen="[::1]:8765")).warning is None
    assert listen_plan(RunConfig(listen="localhost:8765")).scheme == "http"


def test_tls_needs_both_files(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"^--tls-cert: needs --tls-key too"):
        listen_plan(RunConfig(listen="0.0.0.0:1", tls_cert=cert))
    with pytest.raises(ConfigError, match=r"^--tls-key: no such file: "):
        listen_plan(RunConfig(listen="0.0.0.0:1", tls_cert=cert, tls_key=tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match=r"^--tls-cert / --tls-key: cannot use "):
        listen_plan(RunConfig(listen="0.0.0.0:1", tls_cert=cert, tls_key=cert))


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_with_tls_the_api_serves_https_even_on_a_network_address(tmp_path):
    cert, key = _self_signed(tmp_path)
    plan = listen_plan(RunConfig(listen="127.0.0.1:0", tls_cert=cert, tls_key=key))
    assert plan.scheme == "https" and plan.warning is None
    assert listen_plan(RunConfig(listen="0.0.0.0:0", tls_cert=cert, tls_key=key)).warning is None
    api = await start_api(make_app(SimService(), token="x" * 32, metrics_public=False), plan)
    try:
        assert api.url.startswith("https://127.0.0.1:") and api.address.port != 0
        trust = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as client, client.get(f"{api.url}/healthz", ssl=trust) as r:
            assert r.status == 200
    finally:
        await api.stop()


# --------------------------------------------------------------------------- the wire format

def _round_trip(status):
    return status_from_json(json.loads(json.dumps(status_to_json(status))))


async def test_a_running_services_status_round_trips_exactly():
    sim = SimService(fail_every=7)
    await sim.start()
    try:
        while not sim.dead:  # the engine moves on the loop: let it run until a dead letter exists
            await asyncio.sleep(0.01)
        sim.pause()
        status = sim.status()
    finally:
        await sim.close()
    assert status.snapshot.recent_failures and _round_trip(status) == status


def test_every_optional_part_of_the_status_round_trips():
    base = SimService().status()
    record = SyncRecord(SyncKind.RECONCILE, 1.5, 9.25, "finished", loaded=3, skipped=1, failed=2, deleted=4,
                        error="Plex said \"no\"\n<b>")
    status = type(base)(
        state=ServiceState.WATCHING, started_at=1.0, now=2.0, info=base.info, snapshot=None,
        stage_settings=base.stage_settings,
        watch=WatchStatus(True, events_received=5, events_dropped=1, reconnects=2, last_event_at=1.75,
                          pending_changes=3),
        totals=ServiceTotals(items={("embed", "out"): 4, ("upsert", "failed"): 1}, retries={"enrich": 2},
                             errors={"enrich": 3}, rate_limited={"tmdb": 6}, paced_seconds={"imdb": 12.625},
                             syncs={"reconcile": 1}, deleted=4),
        failed_waiting=1, last_sync=record, last_success=record, next_sync_at=99.5,
        current_sync=SyncKind.CHANGES,
    )
    assert _round_trip(status) == status
    body = status_to_json(status)
    assert body["version"] == 1 and body["last_sync"]["duration"] == 7.75 and body["uptime"] == 1.0


def test_a_dead_letters_item_travels_as_its_facts():
    from plex_loader_tui.service.wire import dead_letter_from_json, dead_letter_to_json

    class Opaque:
        secret = "never sent"

    sent = dead_letter_to_json(DeadLetter("embed", Opaque(), "boom", "ValueError", 2, title="T"))
    assert sent["item"] == {"kind": "Opaque"} and "never sent" not in json.dumps(sent)
    assert dead_letter_from_json(sent).title == "T"


def test_another_version_is_refused():
    body = status_to_json(SimService().status()) | {"version": 2}
    with pytest.raises(WireError, match="expected a version 1 document, got version 2"):
        status_from_json(body)


def test_the_control_token_variable_is_a_known_secret_from_the_start():
    from plex_loader_tui.cli.redaction import known_secrets

    assert "from-the-environment-0123456789" in known_secrets([], {TOKEN_ENV: "from-the-environment-0123456789"})
