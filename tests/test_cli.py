"""The command line: exit codes, one-line errors, help, the profiles commands, log redaction."""

from __future__ import annotations

import io
import logging
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from plex_loader_tui.cli import build_parser, configure_logging
from plex_loader_tui.config import DEFAULT_STAGES, DEMO_COLLECTION, ProfileStore
from plex_loader_tui.exit_codes import ExitCode
from plex_loader_tui.main import main

EXIT_USAGE = ExitCode.USAGE
TOKEN = "plexTOKENabcdef123456"
TMDB_KEY = "tmdbKEY0987654321zz"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A minimal environment with every path inside tmp_path."""
    return {
        "PLEX_LOADER_CONFIG_DIR": str(tmp_path / "config"),
        "PLEX_LOADER_DATA_DIR": str(tmp_path / "data"),
    }


def run(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, env)
    out, err = capsys.readouterr()
    return code, out, err


# (argv, extra env, the start of the one error line)
USAGE_ERRORS = [
    (["--demo", "--embed-workers", "0"], {}, "--embed-workers: must be between 1 and 64, got 0"),
    (["--demo", "--enrichment-workers", "-2"], {}, "--enrichment-workers: must be between 1 and 64, got -2"),
    (["--demo"], {"ENRICH_WORKERS": "0"}, "ENRICH_WORKERS: must be between 1 and 64, got 0"),
    # the flag is named as the user spelled it, also before a subcommand
    (["--enrich-workers", "0", "retry-failed", "--demo"], {}, "--enrich-workers: must be between 1 and 64"),
    (["retry-failed", "--demo", "--enrich-batch-size", "0"], {}, "--enrich-batch-size: must be between 1"),
    (["--demo", "--enrichment-batch-size", "0"], {}, "--enrichment-batch-size: must be between 1 and 10000"),
    (["--demo", "--plex-chunk-size", "0"], {}, "--plex-chunk-size: must be between 1 and 10000"),
    (["--plex-url", "htp//nowhere"], {}, "--plex-url: is not a valid URL"),
    (["--demo", "--qdrant-url", "localhost:6333"], {}, "--qdrant-url: is not a valid URL"),
    (["--profile", "ghost"], {}, "--profile: no profile named 'ghost'"),
    (["--no-ui"], {}, "--plex-url / PLEX_URL: not set"),
    (["--demo", "--bogus-flag"], {}, "unknown option --bogus-flag (see"),
    # a mistyped option is named as an option, with the one meant, before its value is misread
    (["--plex-urll", "http://x"], {}, "unknown option --plex-urll: did you mean --plex-url? (see"),
    (["--plex-url=http://x", "--demo-item=3"], {}, "unknown option --demo-item: did you mean --demo-items?"),
    (["retry-failed", "--enrich-worker", "2"], {}, "unknown option --enrich-worker: did you mean --enrich-workers?"),
    # abbreviations of long options are not taken for the option they prefix
    (["--embed-worker", "3"], {}, "unknown option --embed-worker: did you mean --embed-workers?"),
    (["--no-u"], {}, "unknown option --no-u: did you mean --no-ui?"),
    (["profiles", "save", "p", "--embed-worker", "2"], {}, "unknown option --embed-worker: did you mean --embed-workers?"),
    (["--demo", "--embed-workers"], {}, "argument --embed-workers: expected one argument"),
    (["search", "q", "--limit", "0"], {}, "--limit: must be between 1 and 1000, got 0"),
    (["demo-server", "--error-rate", "2"], {}, "--error-rate: must be between 0 and 1, got 2"),
    (["demo-server", "--port", "70000"], {}, "--port: must be between 0 and 65535"),
    (["profiles", "show", "ghost"], {}, "no profile named 'ghost'"),
    (["profiles", "delete", "ghost"], {}, "no profile named 'ghost'"),
    (["profiles", "save", "p"], {}, "profiles save: give at least one setting flag"),
    (["profiles", "save", "p", "--reset-state"], {}, "--reset-state: cannot be saved in a profile"),
    (["profiles", "save", "p", "--embed-workers", "99"], {}, "--embed-workers: must be between 1 and 64"),
    (["profiles"], {}, "the following arguments are required: ACTION"),
    (["serch", "x"], {}, "unknown command 'serch': did you mean search?"),
    (["profiles", "sho", "x"], {}, "unknown action 'sho': did you mean show?"),
    (["--demo", "--log-file", "/proc/no/such/dir/x.log"], {}, "--log-file: cannot write /proc/no/such/dir/x.log"),
    (["profiles", "save", "p", "--collection", "x", "--config-dir", "/proc/nope"], {},
     "cannot save the profile to /proc/nope/profiles/p.toml: No such file or directory (at /proc/nope)"),
    (["profiles", "save", "p", "--plex-token-env", "not a var"], {},
     "plex_token_env: is not a valid environment variable name"),
    (["--plex-url", f"http://h:32400/?X-Plex-Token={TOKEN}"], {},
     "--plex-url: holds a credential (X-Plex-Token=****); pass it with --plex-token / PLEX_TOKEN instead"),
]


@pytest.mark.parametrize(("argv", "extra", "start"), USAGE_ERRORS)
def test_usage_and_config_errors_exit_2_with_one_line(argv, extra, start, env, capsys):
    code, out, err = run(argv, {**env, **extra}, capsys)
    assert code == EXIT_USAGE
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"plex-loader-tui: error: {start}"), err
    assert "Traceback" not in err


def test_malformed_and_mistyped_profiles_exit_2_naming_file_and_key(env, tmp_path, capsys):
    profiles = tmp_path / "config" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "broken.toml").write_text("[stages.enrich\n")
    (profiles / "typed.toml").write_text('[stages.embed]\nworkers = "two"\n')
    code, _, err = run(["--profile", "broken", "--demo"], env, capsys)
    assert code == EXIT_USAGE
    assert err.startswith(f"plex-loader-tui: error: profile {profiles / 'broken.toml'}: not valid TOML")
    assert err.count("\n") == 1
    code, _, err = run(["--demo"], {**env, "PLEX_LOADER_PROFILE": "typed"}, capsys)
    assert code == EXIT_USAGE
    assert err == (f"plex-loader-tui: error: profile {profiles / 'typed.toml'} key stages.embed.workers: "
                   "expected an integer, got str 'two'\n")


def test_errors_never_show_secrets(env, capsys):
    # A token pasted into a URL the program cannot use, and a configured secret in the environment.
    code, _, err = run(["--plex-url", f"ftp://plex.lan/?X-Plex-Token={TOKEN}", "--plex-token", TOKEN], env, capsys)
    assert code == EXIT_USAGE and TOKEN not in err and "****" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "q", "--plex-token", TOKEN],
        ["search", "q", f"--plex-token={TOKEN}"],
        ["search", "q", "--tmdb-api-key", TMDB_KEY, "--plex-token", TOKEN],
        ["search", "q", "--qdrant-url", "http://q:6333", f"--qdrant-api-key={TMDB_KEY}", "--plex-tok", TOKEN],
        ["profiles", "save", "p", "--plex-token-env", TOKEN + "!"],
    ],
)
def test_secret_flag_values_never_echo_in_usage_errors(argv, env, capsys):
    code, out, err = run(argv, env, capsys)
    assert code == EXIT_USAGE and out == "", err
    assert TOKEN not in err and TMDB_KEY not in err, err
    assert err.count("\n") == 1, err


def test_search_prints_display_titles_with_show_and_episode(env, tmp_path, capsys):
    from embed_support import bundled_models, catalogue

    from plex_loader_tui.embed.stage import Embedder
    from plex_loader_tui.sinks.qdrant_edge import EdgeSink

    embedder = Embedder(bundled_models())
    items = [i for i in catalogue() if i.source.type == "episode"][:4]
    qdrant = tmp_path / "qdrant"
    sink = EdgeSink(qdrant, "media-items", embedder.dense_dim, *embedder.model_names)  # the default store
    sink.connect()
    try:
        sink.ensure_collection()
        sink.upsert(embedder.embed(items))
    finally:
        sink.close()
    code, out, err = run(["search", "ferry missing in fog with the mayor aboard", "--limit", "1",
                          "--qdrant-path", str(qdrant)], env, capsys)
    assert code == 0, err
    assert "Harbor Lights — S02E04 — Fog Bank (2017)" in out.splitlines()[1], out
    # The slow part is announced (once, on stderr), so the wait is not a silent one.
    assert err == (f"searching 'media-items' at {qdrant}: loading the embedding models "
                   "(BAAI/bge-small-en-v1.5 + Qdrant/bm25)…\n"), err


def test_search_demo_searches_the_demo_collection(env, capsys):
    code, out, err = run(["search", "--demo", "a heist"], env, capsys)
    assert code == 3 and out == "", err
    lines = err.splitlines()
    assert lines[0].startswith(f"searching '{DEMO_COLLECTION}' at "), err
    assert lines[1].startswith(f"plex-loader-tui: error: collection '{DEMO_COLLECTION}' does not exist"), err
    code, _, err = run(["search", "a heist"], env, capsys)
    assert code == 3 and f"run a load first (a --demo load writes {DEMO_COLLECTION}: search it with --demo)" in err


def run_module(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_"))}
    full_env.update(env)
    return subprocess.run([sys.executable, "-m", "plex_loader_tui", *args], capture_output=True, text=True,
                          env=full_env, cwd=REPO, timeout=60)


def test_real_process_exits_2_with_one_line_and_no_traceback(env):
    proc = run_module(["--demo", "--enrichment-workers", "0"], env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "plex-loader-tui: error: --enrichment-workers: must be between 1 and 64, got 0\n"
    proc = run_module(["--no-ui"], {**env, "PLEX_LOADER_PROFILE": "nope"})
    assert proc.returncode == 2
    assert proc.stderr.startswith("plex-loader-tui: error: PLEX_LOADER_PROFILE: no profile named 'nope'")
    assert "Traceback" not in proc.stderr


def test_help_lists_groups_defaults_mcp_plex_names_and_exit_codes(env, capsys):
    code, out, _ = run(["--help"], env, capsys)
    assert code == 0
    for group in ("Source:", "Enrichment:", "Target:", "Models:", "Stages:", "Run:", "Output:"):
        assert group in out
    for name in ("--plex-chunk-size", "--enrichment-batch-size", "--enrichment-workers", "PLEX_URL", "PLEX_TOKEN",
                 "TMDB_API_KEY", "QDRANT_URL", "QDRANT_API_KEY", "PLEX_CHUNK_SIZE", "ENRICHMENT_BATCH_SIZE",
                 "ENRICHMENT_WORKERS", "--no-ui", "--profile", "--summary-json", "--log-file"):
        assert name in out, name
    assert f"(default: {DEFAULT_STAGES['enrich'].workers}; env: ENRICH_WORKERS or ENRICHMENT_WORKERS)" in " ".join(
        out.split())
    for command in ("search", "demo-server", "profiles", "retry-failed"):
        assert command in out
    for line in ("2    usage or configuration error", "3    fatal error during the run", "130", "143"):
        assert line in out
    code, out, _ = run(["retry-failed", "--help"], env, capsys)
    assert code == 0 and "--enrichment-workers" in out and "Stages:" in out


def test_profiles_commands_round_trip_with_secrets_masked(env, tmp_path, capsys):
    env = {**env, "PLEX_TOKEN": TOKEN}
    code, out, _ = run(["profiles", "save", "nightly", "--plex-url", "http://plex.lan:32400",
                        "--plex-token", TOKEN, "--enrichment-workers", "12", "--library", "Movies",
                        "--comment", "cron at 03:00"], env, capsys)
    assert code == 0
    assert "plex_token not stored: the profile reads it from $PLEX_TOKEN" in out
    code, out, _ = run(["profiles", "save", "nightly", "--tmdb-api-key", TMDB_KEY, "--store-secrets"], env, capsys)
    assert code == 0 and "mode 0600" in out
    code, out, _ = run(["profiles", "list"], env, capsys)
    assert out == "nightly  (with stored secrets)\n"

    code, out, err = run(["profiles", "show", "nightly"], env, capsys)
    assert code == 0
    assert "# cron at 03:00" in out and 'plex_token_env = "PLEX_TOKEN"' in out and "workers = 12" in out
    assert 'tmdb_api_key = "****21zz"' in out and "mode 0600" in out
    assert TOKEN not in out + err and TMDB_KEY not in out + err

    # Nothing on disk holds the Plex token; the TMDb key sits only in the 0600 file.
    store = ProfileStore(tmp_path / "config")
    assert TOKEN not in store.path("nightly").read_text()
    assert TMDB_KEY not in store.path("nightly").read_text()
    assert TMDB_KEY in store.secrets_path("nightly").read_text()
    assert stat.S_IMODE(store.secrets_path("nightly").stat().st_mode) == 0o600

    # The profile drives a run: values come back, the token through $PLEX_TOKEN.
    parser_args = build_parser().parse_args(["--profile", "nightly"])
    from plex_loader_tui.config import resolve_config

    config = resolve_config(parser_args, env)
    assert config.plex_url == "http://plex.lan:32400" and config.libraries == ("Movies",)
    assert config.stage("enrich").workers == 12
    assert config.plex_token == TOKEN and config.tmdb_api_key == TMDB_KEY

    code, out, _ = run(["profiles", "delete", "nightly"], env, capsys)
    assert code == 0 and "deleted profile 'nightly'" in out
    assert list((tmp_path / "config" / "profiles").iterdir()) == []
    code, out, _ = run(["profiles", "list"], env, capsys)
    assert out.startswith("no profiles in ")


def test_profiles_save_with_explicit_secret_variable(env, tmp_path, capsys):
    code, _, _ = run(["profiles", "save", "ci", "--demo", "--tmdb-api-key-env", "CI_TMDB"], env, capsys)
    assert code == 0
    text = ProfileStore(tmp_path / "config").path("ci").read_text()
    assert 'tmdb_api_key_env = "CI_TMDB"' in text and "demo = true" in text


def test_log_records_are_redacted(tmp_path):
    stream = io.StringIO()
    log_file = tmp_path / "logs" / "run.log"
    handlers = configure_logging("DEBUG", log_file, [TOKEN, TMDB_KEY], stream=stream)
    log = logging.getLogger("plex_loader_tui.test_redaction")
    try:
        log.info("connecting with token %s", TOKEN)
        log.warning("GET https://api.example/3/movie/1?api_key=%s failed", "unconfigured-key-123456")
        try:
            raise RuntimeError(f"server said no to {TMDB_KEY}")
        except RuntimeError:
            log.exception("enrichment failed")
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
    for text in (stream.getvalue(), log_file.read_text()):
        assert TOKEN not in text and TMDB_KEY not in text and "unconfigured-key-123456" not in text
        assert "****3456" in text and "****21zz" in text and "api_key=****3456" in text
        assert "RuntimeError" in text  # the traceback is kept, only redacted


@pytest.mark.timeout(120)
def test_unreachable_plex_is_fatal_exit_3(env, tmp_path):
    pytest.importorskip("plex_loader_tui.sources.plex")
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = run_module(["--no-ui", "--plex-url", f"http://127.0.0.1:{port}", "--plex-timeout", "2",
                       "--plex-token", TOKEN, "--qdrant-path", str(tmp_path / "q")],
                      {**env, "NO_PROXY": "127.0.0.1,localhost", "PLEXAPI_CONFIG_PATH": str(tmp_path / "plexapi.ini"),
                       "PLEXAPI_PLEXAPI_AUTORELOAD": "false"})
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and TOKEN not in proc.stderr + proc.stdout
    assert f"127.0.0.1:{port}" in proc.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_demo_server_stops_on_signals_with_their_exit_codes(env, signum, code):
    pytest.importorskip("plex_loader_tui.demo.server")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PLEX_", "TMDB_", "QDRANT_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "plex_loader_tui", "demo-server", "--port", "0", "--items", "20",
         "--token", "my-own-token-998877"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**full_env, **env}, cwd=REPO,
    )
    try:
        lines = []
        for line in proc.stdout:  # the banner's last line says the server is up
            lines.append(line)
            if "Ctrl+C" in line:
                break
        banner = "".join(lines)
        assert "Plex:  http://127.0.0.1:" in banner
        assert "my-own-token-998877" not in banner and "****8877" in banner
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == code
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_command_line_loads_no_heavy_libraries_until_it_dispatches():
    # --help, profiles and config errors must stay quick: Textual, fastembed, Qdrant and
    # plexapi are imported only by the runner that needs them.
    code = ("import sys, plex_loader_tui.main, plex_loader_tui.cli, plex_loader_tui.config.profiles; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'textual', 'fastembed', 'qdrant_client', 'plexapi', 'httpx', 'onnxruntime', 'numpy'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
