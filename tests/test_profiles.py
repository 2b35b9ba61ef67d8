"""Saved profiles: round trip, comments kept, strict loading, secrets never in clear text."""

from __future__ import annotations

import os
import uuid
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plex_loader_tui.config import (
    DEFAULT_STAGES,
    ProfileNotFound,
    ProfileStore,
    RunConfig,
    StageConfig,
    profile_values_from_config,
    resolve_config,
)
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.pipeline import MAX_BATCH_SIZE, MAX_WORKERS
from plex_loader_tui.stages import STAGE_NAMES

TOKEN = "plexTOKENabcdef123456"
QDRANT_KEY = "qdrantKEY-77665544"


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config")


def all_text_under(path: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in path.rglob("*") if p.is_file())


def test_round_trip_save_list_load_delete(store):
    assert store.list() == []
    path = store.save("nightly", {"plex_url": "http://plex.lan:32400", "libraries": ("Movies", "TV"),
                                  "enrich_workers": 12, "embed_batch_size": 32, "tmdb_rate": 20,
                                  "qdrant_path": Path("/srv/q"), "full": True})
    store.save("quick", {"demo": True})
    assert path == store.path("nightly") and path.is_file()
    assert store.list() == ["nightly", "quick"]
    assert store.load("nightly") == {
        "plex_url": "http://plex.lan:32400", "libraries": ("Movies", "TV"), "enrich_workers": 12,
        "embed_batch_size": 32, "tmdb_rate": 20.0, "qdrant_path": Path("/srv/q"), "full": True,
    }
    text = path.read_text()
    assert "[stages.enrich]" in text and "workers = 12" in text and 'qdrant_path = "/srv/q"' in text
    store.delete("nightly")
    assert store.list() == ["quick"]
    with pytest.raises(ProfileNotFound, match="no profile named 'nightly'.*available: quick"):
        store.load("nightly")


def test_save_merges_and_keeps_the_operators_comments(store):
    path = store.path("tuned")
    path.parent.mkdir(parents=True)
    path.write_text(
        "# Tuned for the basement server. Do not lower enrich workers: TMDb is slow here.\n"
        'plex_url = "http://basement:32400"  # static IP\n'
        "\n"
        "[stages.enrich]\n"
        "# measured 2026-10-01\n"
        "workers = 16\n"
    )
    store.save("tuned", {"enrich_batch_size": 40, "embed_workers": 1, "collection": "basement"})
    store.save("tuned", {"plex_url": None})  # None removes a key
    text = path.read_text()
    assert "# Tuned for the basement server. Do not lower enrich workers" in text
    assert "# measured 2026-10-01" in text
    assert "workers = 16" in text and "batch_size = 40" in text
    assert "plex_url" not in text
    assert store.load("tuned") == {"collection": "basement", "enrich_workers": 16, "enrich_batch_size": 40,
                                   "embed_workers": 1}


def test_saving_a_new_target_replaces_the_one_it_excludes(store):
    store.save("t", {"qdrant_path": Path("/srv/q"), "demo": True})
    store.save("t", {"qdrant_url": "https://q.example:6333", "plex_url": "http://h:32400"})
    assert store.load("t") == {"qdrant_url": "https://q.example:6333", "plex_url": "http://h:32400"}
    resolve_config({"profile": "t"}, {"PLEX_LOADER_DATA_DIR": str(store.config_dir)}, store)  # loads cleanly


def test_new_profile_gets_a_header_and_the_callers_comment(store):
    store.save("c", {"demo": True}, comment="made for the demo\nsecond line")
    text = store.path("c").read_text()
    assert text.startswith('# plex-loader-tui run profile "c".')
    assert "# made for the demo\n# second line\n" in text
    assert stat.S_IMODE(store.path("c").stat().st_mode) == 0o644


def test_secrets_are_refused_unless_stored_in_a_0600_file(store, tmp_path):
    with pytest.raises(ValueError, match="plex_token is a secret"):
        store.save("s", {"plex_token": TOKEN})
    store.save("s", {"plex_url": "http://h:32400", "plex_token": TOKEN, "qdrant_api_key": QDRANT_KEY},
               store_secrets=True)
    assert TOKEN not in store.path("s").read_text()
    secrets_file = store.secrets_path("s")
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert store.load("s")["plex_token"] == TOKEN
    assert store.stored_secrets("s") == {"plex_token": TOKEN, "qdrant_api_key": QDRANT_KEY}
    # Removing the last secret removes the file.
    store.save("s", {"plex_token": None, "qdrant_api_key": None}, store_secrets=True)
    assert not secrets_file.exists()
    store.delete("s")
    assert list((tmp_path / "config" / "profiles").iterdir()) == []


def test_onnx_threads_auto_and_a_number(store):
    write(store, "auto", 'onnx_threads = "auto"\n')
    write(store, "two", "onnx_threads = 2\n")
    assert store.load("auto") == {"onnx_threads": None}
    assert store.load("two") == {"onnx_threads": 2}


def test_a_secrets_file_readable_by_others_is_refused(store):
    store.save("s", {"plex_token": TOKEN}, store_secrets=True)
    os.chmod(store.secrets_path("s"), 0o644)
    with pytest.raises(ConfigError, match=r"readable by others \(mode 0644\); run: chmod 600"):
        store.load("s")


def test_profile_names_the_variable_that_holds_a_secret(store, tmp_path):
    store.save("env", {"plex_url": "http://h:32400", "plex_token_env": "MY_PLEX_TOKEN"})
    assert "MY_PLEX_TOKEN" in store.path("env").read_text()
    env = {"MY_PLEX_TOKEN": TOKEN, "PLEX_LOADER_DATA_DIR": str(tmp_path / "d")}
    config = resolve_config({"profile": "env"}, env, store)
    assert config.plex_token == TOKEN
    assert config.origins["plex_token"].startswith("MY_PLEX_TOKEN (named by profile ")
    # PLEX_TOKEN in the environment is a higher layer than the profile's reference.
    config = resolve_config({"profile": "env"}, {**env, "PLEX_TOKEN": "other-token-000000"}, store)
    assert config.plex_token == "other-token-000000"


def write(store: ProfileStore, name: str, text: str) -> Path:
    path = store.path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# (file content, key named in the message, phrase in the message)
BAD_PROFILES = [
    ('plex_ulr = "http://h:32400"\n', "plex_ulr", "unknown setting (did you mean 'plex_url'?)"),
    ("[stages.enrich]\nworkers = \"eight\"\n", "stages.enrich.workers", "expected an integer, got str 'eight'"),
    ("[stages.enrich]\nworkers = 0\n", "stages.enrich.workers", "between 1 and 64, got 0"),
    ("[stages.embed]\nbatch_size = 0\n", "stages.embed.batch_size", "between 1 and 10000, got 0"),
    ("[stages.transcode]\nworkers = 2\n", "stages.transcode", "unknown setting"),
    ("stages = 3\n", "stages", "expected a table"),
    ("demo = \"yes\"\n", "demo", "expected true or false"),
    ("tmdb_rate = -1\n", "tmdb_rate", "greater than 0"),
    ("libraries = \"Movies\"\n", "libraries", "expected a list of strings"),
    ('plex_url = "plex.lan"\n', "plex_url", "not a valid URL"),
    (f'plex_token = "{TOKEN}"\n', "plex_token", "secrets are not kept in profile files"),
    ('plex_token_env = "not a var"\n', "plex_token_env", "is not a valid environment variable name"),
    (f'tmdb_api_key_env = "{TOKEN}!"\n', "tmdb_api_key_env", "is not a valid environment variable name"),
    ("qdrant_api_key_env = 3\n", "qdrant_api_key_env", "is not a valid environment variable name"),
    ('profile = "other"\n', "profile", "cannot be set in a profile"),
    ("reset_state = true\n", "reset_state", "cannot be set in a profile"),
]


@pytest.mark.parametrize(("text", "key", "phrase"), BAD_PROFILES)
def test_strict_loading_names_file_key_and_problem(store, text, key, phrase):
    path = write(store, "bad", text)
    with pytest.raises(ConfigError) as info:
        store.load("bad")
    message = str(info.value)
    assert message.startswith(f"profile {path} key {key}: "), message
    assert phrase in message
    assert TOKEN not in message


def test_malformed_toml_names_the_file_and_line(store):
    path = write(store, "broken", "[stages.enrich\nworkers = 2\n")
    with pytest.raises(ConfigError) as info:
        store.load("broken")
    assert str(info.value).startswith(f"profile {path}: not valid TOML: ")
    assert "line 1" in str(info.value)


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x.secrets", "sp ace"])
def test_profile_names_are_checked(store, name):
    with pytest.raises(ConfigError, match="profile name"):
        store.path(name)


def test_dashboard_profile_holds_live_tuned_values_and_no_secrets(store, tmp_path):
    env = {"PLEX_TOKEN": TOKEN, "PLEX_LOADER_DATA_DIR": str(tmp_path / "d"), "QDRANT_API_KEY": QDRANT_KEY}
    config = resolve_config({"plex_url": "http://h:32400", "collection": "films",
                             "qdrant_url": "https://q:6333"}, env, store)
    tuned = config.with_stage("enrich", workers=6).with_stage("embed", batch_size=48)
    values = profile_values_from_config(tuned)
    assert values["enrich_workers"] == 6 and values["embed_batch_size"] == 48
    assert values["plex_token_env"] == "PLEX_TOKEN" and values["qdrant_api_key_env"] == "QDRANT_API_KEY"
    # Secrets, per-run switches and untouched defaults stay out; what the environment set stays in.
    assert "plex_token" not in values and "retry_failed" not in values and "tmdb_rate" not in values
    assert values["data_dir"] == tmp_path / "d"
    store.save("from-dashboard", values)
    assert TOKEN not in all_text_under(tmp_path / "config")
    assert QDRANT_KEY not in all_text_under(tmp_path / "config")
    # Loading it back gives the same effective settings.
    again = resolve_config({"profile": "from-dashboard"}, env, store)
    for name in ("plex_url", "collection", "qdrant_url", "plex_token", "qdrant_api_key"):
        assert getattr(again, name) == getattr(tuned, name)
    assert dict(again.stages) == dict(tuned.stages)


stage_values = st.fixed_dictionaries(
    {},
    optional={
        f"{stage}_{field}": st.integers(1, MAX_WORKERS if field == "workers" else MAX_BATCH_SIZE)
        for stage in STAGE_NAMES
        for field in ("workers", "batch_size")
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=stage_values, second=stage_values)
def test_any_stage_values_round_trip_through_two_saves(tmp_path, first, second):
    store = ProfileStore(tmp_path / uuid.uuid4().hex)  # tmp_path is shared by all examples
    store.save("p", first)
    store.save("p", second)
    assert store.load("p") == {**first, **second}
    config = resolve_config({"profile": "p", "demo": True}, {"PLEX_LOADER_DATA_DIR": str(tmp_path)}, store)
    for stage in STAGE_NAMES:
        want = {**first, **second}
        default = DEFAULT_STAGES[stage]
        assert config.stage(stage).workers == want.get(f"{stage}_workers", default.workers)
        assert config.stage(stage).batch_size == want.get(f"{stage}_batch_size", default.batch_size)


def test_runconfig_from_a_profile_matches_one_built_directly(store, tmp_path):
    store.save("p", {"demo": True, "demo_items": 50, "upsert_workers": 2})
    resolved = resolve_config({"profile": "p"}, {}, store)
    direct = RunConfig(demo=True, demo_items=50, profile="p", data_dir=resolved.data_dir,
                       config_dir=resolved.config_dir,
                       stages={**DEFAULT_STAGES, "upsert": StageConfig(2, DEFAULT_STAGES["upsert"].batch_size)})
    assert resolved == direct
