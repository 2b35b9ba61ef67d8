"""Pure logic behind the dashboard: number formats and applying a profile to a running config."""

from __future__ import annotations

from pathlib import Path

import pytest

from plex_loader_tui.config import ProfileStore, resolve_config
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.tui import format as fmt
from plex_loader_tui.tui.plain import plain_line
from plex_loader_tui.tui.profiles import config_with_profile, live_config, save_profile


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (0, "0:00"), (75.2, "1:15"), (3725, "1:02:05"), (-3, "0:00")],
)
def test_duration(seconds, text):
    assert fmt.duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0.00/s"), (3.14159, "3.14/s"), (37.61, "37.6/s"), (1234.5, "1,234/s")],
)
def test_rate(value, text):
    assert fmt.rate(value) == text


@pytest.mark.parametrize(("value", "text"), [(None, "–"), (0.0123, "12 ms"), (1.35, "1,350 ms")])
def test_latency_is_in_one_unit_whatever_its_size(value, text):
    assert fmt.latency(value) == text


def test_plain_line_collapses_and_truncates():
    assert plain_line("a\n  b\tc").plain == "a b c"
    assert plain_line("x" * 50, width=10).plain == "x" * 9 + "…"


def _resolve(tmp_path: Path, flags: dict, environ: dict | None = None):
    """Resolve as the command line does (``search`` needs no source, so none is forced)."""
    store = ProfileStore(tmp_path / "config")
    args = {"config_dir": str(tmp_path / "config"), "data_dir": str(tmp_path / "data"), **flags}
    return resolve_config(args, environ or {}, store, command="search"), store


def test_loading_a_profile_keeps_flags_and_replaces_defaults_and_the_old_profile(tmp_path: Path):
    store = ProfileStore(tmp_path / "config")
    store.save("old", {"embed_workers": 3, "collection": "old-collection"})
    store.save("new", {"enrich_workers": 5, "embed_batch_size": 48, "upsert_workers": 4})
    config, _ = _resolve(tmp_path, {"profile": "old", "upsert_workers": 2, "_flag_names": {"upsert_workers": "--upsert-workers"}})
    assert config.stage("embed").workers == 3 and config.collection == "old-collection"

    loaded = config_with_profile(config, "new", environ={})
    assert loaded.profile == "new"
    assert loaded.stage("enrich").workers == 5  # was a default
    assert loaded.stage("embed").batch_size == 48  # was a default
    assert loaded.stage("upsert").workers == 2  # the flag still wins over the profile
    assert loaded.stage("embed").workers == config.__class__().stage("embed").workers  # the old profile's value is gone
    assert loaded.collection == "media-items"
    assert loaded.origin("enrich_workers").startswith("profile ")


def test_loading_a_profile_takes_a_secret_from_the_variable_it_names(tmp_path: Path):
    store = ProfileStore(tmp_path / "config")
    store.save("remote", {"plex_url": "http://plex.lan:32400", "plex_token_env": "MY_PLEX_TOKEN"})
    config, _ = _resolve(tmp_path, {})
    loaded = config_with_profile(config, "remote", environ={"MY_PLEX_TOKEN": "tok-abcdef123456"})
    assert loaded.plex_url == "http://plex.lan:32400"
    assert loaded.plex_token == "tok-abcdef123456"
    assert "tok-abcdef123456" not in repr(loaded)


def test_a_broken_profile_is_a_config_error_naming_the_file(tmp_path: Path):
    config, store = _resolve(tmp_path, {})
    store.directory.mkdir(parents=True, exist_ok=True)
    store.path("bad").write_text("enrich_workers = 0\n")
    with pytest.raises(ConfigError, match="bad.toml"):
        config_with_profile(config, "bad", environ={})


def test_saved_live_values_round_trip(tmp_path: Path):
    config, store = _resolve(tmp_path, {})
    from plex_loader_tui.config import StageConfig as StageTuning

    live = live_config(config, {"enrich": StageTuning(7, 30)})
    path = save_profile(live, "live")
    assert path.is_file()
    again = config_with_profile(config, "live", environ={})
    assert again.stage("enrich").workers == 7 and again.stage("enrich").batch_size == 30
    assert again.stage("embed") == config.stage("embed")


def test_a_demo_flag_beats_a_profile_plex_url_and_a_profile_demo_beats_a_default_url(tmp_path: Path):
    store = ProfileStore(tmp_path / "config")
    store.save("remote", {"plex_url": "http://plex.lan:32400"})
    store.save("demo", {"demo": True})
    flagged, _ = _resolve(tmp_path, {"demo": True, "_flag_names": {"demo": "--demo"}})
    kept = config_with_profile(flagged, "remote", environ={})
    assert kept.demo is True and kept.plex_url is None
    remote = config_with_profile(flagged.__class__(config_dir=flagged.config_dir, data_dir=flagged.data_dir), "remote", environ={})
    assert remote.plex_url == "http://plex.lan:32400"
    back = config_with_profile(remote, "demo", environ={})
    assert back.demo is True and back.plex_url is None
