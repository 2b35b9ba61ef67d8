"""RunConfig resolution (defaults < profile < environment < flags) and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plex_loader_tui.cli import build_parser
from plex_loader_tui.config import (
    DEFAULT_STAGES,
    DEMO_COLLECTION,
    SETTINGS,
    ProfileStore,
    RunConfig,
    StageConfig,
    resolve_config,
)
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.stages import STAGE_NAMES

TOKEN = "plexTOKENabcdef123456"
TMDB_KEY = "tmdbKEY0987654321zz"


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """An environment that keeps every path inside tmp_path."""
    return {
        "PLEX_LOADER_CONFIG_DIR": str(tmp_path / "config"),
        "PLEX_LOADER_DATA_DIR": str(tmp_path / "data"),
    }


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config")


def resolve(argv: list[str], env: dict[str, str], store: ProfileStore | None = None) -> RunConfig:
    args = build_parser().parse_args(argv)
    return resolve_config(args, env, store, command=args.command or "load")


# (setting to read, profile values, env, flag argv, expected value, expected origin prefix)
PRECEDENCE = [
    # defaults only
    ("enrich_workers", {}, {}, [], DEFAULT_STAGES["enrich"].workers, "default"),
    ("collection", {}, {}, [], DEMO_COLLECTION, "default"),  # every row loads --demo
    # profile beats default
    ("enrich_workers", {"enrich_workers": 5}, {}, [], 5, "profile "),
    ("collection", {"collection": "from-profile"}, {}, [], "from-profile", "profile "),
    ("tmdb_rate", {"tmdb_rate": 12.5}, {}, [], 12.5, "profile "),
    # environment beats profile
    ("enrich_workers", {"enrich_workers": 5}, {"ENRICH_WORKERS": "6"}, [], 6, "ENRICH_WORKERS"),
    ("collection", {"collection": "p"}, {"QDRANT_COLLECTION": "e"}, [], "e", "QDRANT_COLLECTION"),
    ("tmdb_rate", {"tmdb_rate": 12.5}, {"TMDB_RATE": "3"}, [], 3.0, "TMDB_RATE"),
    ("log_level", {"log_level": "WARNING"}, {"LOG_LEVEL": "debug"}, [], "DEBUG", "LOG_LEVEL"),
    ("libraries", {"libraries": ["A"]}, {"PLEX_LIBRARIES": "Movies, TV Shows"}, [],
     ("Movies", "TV Shows"), "PLEX_LIBRARIES"),
    # flags beat everything
    ("enrich_workers", {"enrich_workers": 5}, {"ENRICH_WORKERS": "6"}, ["--enrich-workers", "7"], 7,
     "--enrich-workers"),
    ("collection", {"collection": "p"}, {"QDRANT_COLLECTION": "e"}, ["--collection", "f"], "f", "--collection"),
    ("tmdb_rate", {"tmdb_rate": 12.5}, {"TMDB_RATE": "3"}, ["--tmdb-rate", "4.5"], 4.5, "--tmdb-rate"),
    ("libraries", {"libraries": ["A"]}, {"PLEX_LIBRARIES": "B"}, ["--library", "C", "--library", "D"],
     ("C", "D"), "--library"),
    # a flag that is not given does not override (its parser default is SUPPRESS)
    ("embed_batch_size", {"embed_batch_size": 8}, {"EMBED_BATCH_SIZE": "24"}, ["--embed-workers", "1"], 24,
     "EMBED_BATCH_SIZE"),
    # mcp-plex names
    ("ingest_batch_size", {}, {"PLEX_CHUNK_SIZE": "150"}, [], 150, "PLEX_CHUNK_SIZE"),
    ("ingest_batch_size", {}, {"PLEX_CHUNK_SIZE": "150"}, ["--plex-chunk-size", "90"], 90, "--plex-chunk-size"),
    ("enrich_batch_size", {}, {"ENRICHMENT_BATCH_SIZE": "11"}, [], 11, "ENRICHMENT_BATCH_SIZE"),
    ("enrich_batch_size", {}, {}, ["--enrichment-batch-size", "12"], 12, "--enrichment-batch-size"),
    ("enrich_workers", {}, {"ENRICHMENT_WORKERS": "9"}, [], 9, "ENRICHMENT_WORKERS"),
    ("enrich_workers", {}, {}, ["--enrichment-workers", "13"], 13, "--enrichment-workers"),
    # booleans: env turns on, a negative flag turns off again
    ("full", {"full": True}, {}, [], True, "profile "),
    ("full", {}, {"PLEX_LOADER_FULL": "yes"}, ["--incremental"], False, "--incremental"),
    ("onnx_threads", {"onnx_threads": 2}, {"ONNX_THREADS": "auto"}, [], None, "ONNX_THREADS"),
]


@pytest.mark.parametrize(("name", "profile", "env", "argv", "expected", "origin"), PRECEDENCE)
def test_precedence_defaults_profile_env_flags(
    name, profile, env, argv, expected, origin, base_env, store
):
    argv = ["--demo", *argv]
    if profile:
        store.save("p", profile)
        argv += ["--profile", "p"]
    config = resolve(argv, {**base_env, **env}, store)
    assert config.setting_value(name) == expected
    assert config.origins[name].startswith(origin)


def test_profile_named_in_environment_is_used(base_env, store):
    store.save("nightly", {"upsert_batch_size": 128})
    config = resolve(["--demo"], {**base_env, "PLEX_LOADER_PROFILE": "nightly"}, store)
    assert config.stage("upsert") == StageConfig(workers=DEFAULT_STAGES["upsert"].workers, batch_size=128)
    assert config.profile == "nightly"
    assert config.origins["upsert_batch_size"] == f"profile {store.path('nightly')} key stages.upsert.batch_size"


def test_profile_store_defaults_to_config_dir(base_env, tmp_path):
    ProfileStore(tmp_path / "config").save("p", {"embed_workers": 1})
    config = resolve(["--demo", "--profile", "p"], base_env)
    assert config.stage("embed").workers == 1


def test_empty_environment_variable_counts_as_unset(base_env):
    config = resolve(["--demo"], {**base_env, "ENRICH_WORKERS": "", "QDRANT_URL": "  "})
    assert config.stage("enrich").workers == DEFAULT_STAGES["enrich"].workers
    assert config.qdrant_url is None


# (argv, env, expected start of the message, a phrase it must contain)
BAD_INPUT = [
    (["--demo", "--embed-workers", "0"], {}, "--embed-workers:", "between 1 and 64, got 0"),
    (["--demo", "--enrichment-workers", "-3"], {}, "--enrichment-workers:", "got -3"),
    (["--demo"], {"EMBED_WORKERS": "-1"}, "EMBED_WORKERS:", "between 1 and 64"),
    (["--demo", "--upsert-workers", "65"], {}, "--upsert-workers:", "between 1 and 64"),
    (["--demo", "--embed-batch-size", "0"], {}, "--embed-batch-size:", "between 1 and 10000, got 0"),
    (["--demo"], {"PLEX_CHUNK_SIZE": "0"}, "PLEX_CHUNK_SIZE:", "between 1 and 10000"),
    (["--demo", "--plex-chunk-size", "10001"], {}, "--plex-chunk-size:", "got 10001"),
    (["--demo", "--embed-workers", "two"], {}, "--embed-workers:", "expected a whole number"),
    (["--plex-url", "not a url"], {}, "--plex-url:", "is not a valid URL"),
    ([], {"PLEX_URL": "plex.local:32400"}, "PLEX_URL:", "expected http:// or https://"),
    (["--demo", "--tmdb-base-url", "ftp://x/3"], {}, "--tmdb-base-url:", "not a valid URL"),
    (["--demo", "--qdrant-url", "http://:6333"], {}, "--qdrant-url:", "not a valid URL"),
    (["--plex-url", "http://h:99999"], {}, "--plex-url:", "not a valid URL"),
    (["--demo", "--tmdb-rate", "0"], {}, "--tmdb-rate:", "greater than 0"),
    (["--demo"], {"IMDB_RATE": "fast"}, "IMDB_RATE:", "expected a number"),
    (["--demo", "--http-timeout", "nan"], {}, "--http-timeout:", "finite"),
    (["--demo"], {"PLEX_LOADER_NO_UI": "maybe"}, "PLEX_LOADER_NO_UI:", "expected true or false"),
    (["--demo", "--log-level", "loud"], {}, "--log-level:", "must be one of DEBUG"),
    (["--demo", "--collection", "a/b"], {}, "--collection:", "not a valid name"),
    (["--demo", "--onnx-threads", "0"], {}, "--onnx-threads:", "between 1 and 256"),
    (["--demo", "--queue-size", "0"], {}, "--queue-size:", "between 1 and 100000"),
    (["--demo", "--qdrant-path", "/tmp/q", "--qdrant-url", "http://q:6333"], {}, "--qdrant-path and --qdrant-url:",
     "not both"),
    ([], {"QDRANT_PATH": "/tmp/q", "QDRANT_URL": "http://q:6333", "PLEX_LOADER_DEMO": "1"},
     "QDRANT_PATH and QDRANT_URL:", "not both"),
    (["--demo", "--plex-url", "http://h:32400"], {}, "--demo and --plex-url:", "not both"),
    ([], {}, "--plex-url / PLEX_URL:", "--demo"),
    (["--profile", "missing"], {}, "--profile:", "no profile named 'missing'"),
    ([], {"PLEX_LOADER_PROFILE": "missing"}, "PLEX_LOADER_PROFILE:", "no profile named 'missing'"),
    (["--demo", "--library", " "], {}, "--library:", "empty"),
]


@pytest.mark.parametrize(("argv", "env", "start", "phrase"), BAD_INPUT)
def test_bad_input_names_the_setting_and_the_problem(argv, env, start, phrase, base_env, store):
    with pytest.raises(ConfigError) as info:
        resolve(argv, {**base_env, **env}, store)
    message = str(info.value)
    assert message.startswith(start), message
    assert phrase in message
    assert "\n" not in message


def test_higher_layer_wins_a_mutual_exclusion(base_env, store):
    # QDRANT_URL set for the whole shell, --qdrant-path for this run: the flag wins.
    config = resolve(["--demo", "--qdrant-path", "/tmp/local-q"], {**base_env, "QDRANT_URL": "http://q:6333"})
    assert config.qdrant_path == Path("/tmp/local-q") and config.qdrant_url is None
    assert config.effective_qdrant_path == Path("/tmp/local-q")
    # A profile that loads the demo, overridden by a real server on the command line.
    store.save("demo", {"demo": True})
    config = resolve(["--profile", "demo", "--plex-url", "http://h:32400"], base_env, store)
    assert config.demo is False and config.plex_url == "http://h:32400"


def test_search_needs_no_plex_source_and_retry_failed_sets_its_flag(base_env):
    assert resolve(["search", "space pirates"], base_env).plex_url is None
    retry = resolve(["retry-failed", "--demo", "--no-ui"], base_env)
    assert retry.retry_failed is True and retry.no_ui is True
    assert resolve(["--demo"], base_env).retry_failed is False


def test_default_paths_come_from_environment(base_env, tmp_path):
    config = resolve(["--demo"], base_env)
    assert config.data_dir == tmp_path / "data"
    assert config.config_dir == tmp_path / "config"
    assert config.effective_qdrant_path == tmp_path / "data" / "qdrant"
    remote = resolve(["--demo", "--qdrant-url", "https://q.example:6333"], base_env)
    assert remote.effective_qdrant_path is None
    assert remote.qdrant_location == "https://q.example:6333"


def test_runconfig_validates_when_built_directly(tmp_path):
    with pytest.raises(ConfigError, match="embed_workers: must be between 1 and 64, got 0"):
        RunConfig(data_dir=tmp_path, stages={**DEFAULT_STAGES, "embed": StageConfig(0, 16)})
    with pytest.raises(ConfigError, match="stages: expected exactly"):
        RunConfig(data_dir=tmp_path, stages={"embed": StageConfig(1, 16)})
    with pytest.raises(ConfigError, match="not both"):
        RunConfig(data_dir=tmp_path, qdrant_path=tmp_path, qdrant_url="http://q:6333")


def test_with_stage_returns_a_validated_copy(tmp_path):
    config = RunConfig(demo=True, data_dir=tmp_path, config_dir=tmp_path)
    tuned = config.with_stage("enrich", workers=6)
    assert tuned.stage("enrich") == StageConfig(6, DEFAULT_STAGES["enrich"].batch_size)
    assert config.stage("enrich") == DEFAULT_STAGES["enrich"]  # the original is untouched
    assert tuned.origins["enrich_workers"].startswith("live")
    retuned = tuned.with_stage("embed", batch_size=64)
    assert retuned.stage("embed").batch_size == 64 and retuned.stage("enrich").workers == 6
    with pytest.raises(ConfigError, match="upsert batch size: must be between 1 and 10000, got 0"):
        config.with_stage("upsert", batch_size=0)
    with pytest.raises(KeyError, match="unknown stage"):
        config.with_stage("transcode", workers=1)
    with pytest.raises(TypeError):
        config.stages["enrich"] = StageConfig(1, 1)  # type: ignore[index]


def test_masked_and_repr_never_show_secrets(base_env):
    env = {**base_env, "PLEX_TOKEN": TOKEN, "TMDB_API_KEY": TMDB_KEY, "QDRANT_API_KEY": "qdrant-key-XYZ12345"}
    config = resolve(["--plex-url", "http://h:32400/", "--qdrant-url", "https://q:6333"], env)
    masked = config.masked()
    text = json.dumps(masked) + repr(config)
    for secret in (TOKEN, TMDB_KEY, "qdrant-key-XYZ12345"):
        assert secret not in text
    assert masked["plex_token"] == "****" + TOKEN[-4:]
    assert masked["stages"]["enrich"] == {"workers": DEFAULT_STAGES["enrich"].workers,
                                          "batch_size": DEFAULT_STAGES["enrich"].batch_size}
    assert set(config.secret_values()) == {TOKEN, TMDB_KEY, "qdrant-key-XYZ12345"}


# (argv, extra env, the start of the error, where the credential is)
CREDENTIAL_URLS = [
    (["--plex-url", f"http://h:32400/?X-Plex-Token={TOKEN}"], {},
     "--plex-url: holds a credential (X-Plex-Token=****); pass it with --plex-token / PLEX_TOKEN instead"),
    (["--plex-url", f"http://me:{TOKEN}@h:32400"], {}, "--plex-url: holds a credential (****@ before the host)"),
    (["--demo"], {"QDRANT_URL": f"https://q:6333/?api_key={TOKEN}"},
     "QDRANT_URL: holds a credential (api_key=****); pass it with --qdrant-api-key"),
    (["--demo", "--tmdb-base-url", f"https://t/3?apikey={TOKEN}&x=1"], {},
     "--tmdb-base-url: holds a credential (apikey=****); pass it with --tmdb-api-key"),
    (["--demo", "--imdb-base-url", f"https://i/?access_token={TOKEN}"], {},
     "--imdb-base-url: holds a credential (access_token=****); remove it from the URL"),
    (["--demo", "--imdb-base-url", f"https://i/?token={TOKEN}"], {}, "--imdb-base-url: holds a credential (token=****)"),
]


@pytest.mark.parametrize(("argv", "env", "message"), CREDENTIAL_URLS)
def test_urls_holding_credentials_are_refused_without_echoing_them(argv, env, message, base_env):
    with pytest.raises(ConfigError) as caught:
        resolve(argv, {**base_env, **env})
    assert str(caught.value).startswith(message), str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN[-4:] not in str(caught.value)


def test_every_profile_setting_has_a_flag_and_an_environment_variable():
    for spec in SETTINGS:
        if spec.in_profile:
            assert spec.flags and spec.env, spec.name
    flags = [f for spec in SETTINGS for f in spec.flags + spec.neg_flags]
    envs = [e for spec in SETTINGS for e in spec.env]
    assert len(flags) == len(set(flags)) and len(envs) == len(set(envs))
    stage_settings = {spec.name for spec in SETTINGS if spec.stage}
    assert stage_settings == {f"{s}_{f}" for s in STAGE_NAMES for f in ("workers", "batch_size")}
