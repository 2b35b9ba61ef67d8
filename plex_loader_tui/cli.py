"""The command line: argument parsing, profiles, logging set-up and dispatch.

``main(argv)`` is the console script ``plex-loader-tui`` (and
``python -m plex_loader_tui``). It turns the command line, the environment
and the chosen profile into one :class:`RunConfig`, sets up logging with
secret redaction, and hands the config to the front end that runs it. The
runners are imported lazily so that ``--help``, ``profiles`` and config
errors stay fast and do not load Textual, fastembed or qdrant-client.

Exit codes: see :mod:`plex_loader_tui.exit_codes`.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

from plex_loader_tui.config import (
    APP_NAME,
    DEFAULT_ORIGIN,
    FLAG_NAME_PREFIX,
    GROUPS,
    SECRET_SETTINGS,
    SETTINGS_BY_NAME,
    RunConfig,
    Setting,
    default_config_dir,
    resolve_config,
    settings_in_group,
)
from plex_loader_tui.errors import ConfigError, FatalError
from plex_loader_tui.exit_codes import EXIT_CODE_TABLE, ExitCode
from plex_loader_tui.secrets import RedactingFilter, mask, mask_in_text, redact

logger = logging.getLogger(__name__)

EXIT_OK = ExitCode.OK
EXIT_USAGE = ExitCode.USAGE
EXIT_FATAL = ExitCode.FATAL
EXIT_SIGINT = ExitCode.SIGINT
EXIT_SIGTERM = ExitCode.SIGTERM

PROG = APP_NAME

EPILOG = """\
Settings resolve in this order: built-in defaults < profile (--profile) <
environment variables < command-line flags.  Profiles live in
<config dir>/profiles/<name>.toml (see `plex-loader-tui profiles --help`).

Exit codes:
""" + "".join(f"  {code:<4} {meaning}\n" for code, meaning in EXIT_CODE_TABLE)

# Groups each subcommand accepts, besides its own arguments.
_LOAD_GROUPS = GROUPS
_SEARCH_GROUPS = ("Target", "Models")
_COMMON_RUN = ("config_dir", "profile", "data_dir")
_COMMON_OUTPUT = ("log_level", "log_file")


class _UsageError(Exception):
    """An argparse error, kept to one line."""


class _Terminated(BaseException):
    """SIGTERM arrived outside a runner that handles it."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not exit the process."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34, width=min(100, _terminal_width()))


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


class _Store(argparse.Action):
    """Store a value and remember how the user spelled the flag (for error messages)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if self.nargs == 0:  # a switch: its value is its constant
            values = self.const
        if getattr(self, "append", False):
            items = list(getattr(namespace, self.dest, None) or [])
            items.append(values)
            values = items
        setattr(namespace, self.dest, values)
        # One attribute per setting (not one dict): a subcommand's namespace is copied
        # attribute by attribute over the main one, and a dict would be replaced whole.
        setattr(namespace, f"{FLAG_NAME_PREFIX}{self.dest}", option_string or self.dest)


class _StoreConst(_Store):
    def __init__(self, option_strings: Sequence[str], dest: str, const: Any = None, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, const=const, **kwargs)


class _Append(_Store):
    append = True


def _default_text(spec: Setting) -> str:
    if spec.name == "data_dir":
        return "the platformdirs user data dir"
    if spec.name == "config_dir":
        return str(default_config_dir())
    if spec.stage is not None or spec.kind in ("int", "float"):
        return f"{spec.default:g}" if isinstance(spec.default, float) else str(spec.default)
    if spec.kind == "optint" and spec.default is None:
        return "auto"
    if spec.kind == "bool":
        return "on" if spec.default else "off"
    if spec.default in (None, ()):
        return ""
    return str(spec.default)


def _help_text(spec: Setting) -> str:
    extras = []
    default = _default_text(spec)
    if default:
        extras.append(f"default: {default}")
    if spec.env:
        extras.append("env: " + " or ".join(spec.env))
    if spec.neg_flags:
        extras.append("undo: " + ", ".join(spec.neg_flags))
    text = spec.help + (f" ({'; '.join(extras)})" if extras else "")
    return text.replace("%", "%%")  # argparse %-formats help strings


def _add_setting(group: argparse._ArgumentGroup, spec: Setting) -> None:
    if not spec.flags:
        return
    if spec.kind == "bool":
        group.add_argument(*spec.flags, dest=spec.name, action=_StoreConst, const=True,
                           default=argparse.SUPPRESS, help=_help_text(spec))
        if spec.neg_flags:
            group.add_argument(*spec.neg_flags, dest=spec.name, action=_StoreConst, const=False,
                               default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return
    action = _Append if spec.kind == "strlist" else _Store
    group.add_argument(*spec.flags, dest=spec.name, action=action, default=argparse.SUPPRESS,
                       metavar=spec.metavar or spec.name.upper(), help=_help_text(spec))


def _add_groups(parser: argparse.ArgumentParser, groups: Sequence[str],
                extra: Sequence[str] = ()) -> None:
    """Add the setting flags of ``groups`` (and single settings ``extra``) to ``parser``."""
    seen: set[str] = set()
    for group_name in groups:
        group = parser.add_argument_group(group_name)
        for spec in settings_in_group(group_name):
            _add_setting(group, spec)
            seen.add(spec.name)
    rest = [SETTINGS_BY_NAME[name] for name in extra if name not in seen]
    if rest:
        group = parser.add_argument_group("Run and output")
        for spec in rest:
            _add_setting(group, spec)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(APP_NAME)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and for docs generation)."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Load a Plex library into Qdrant for hybrid semantic search, "
            "from a live dashboard or headless (--no-ui)."
        ),
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_groups(parser, _LOAD_GROUPS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                title="commands (default: load the library)",
                                parser_class=_Parser)

    retry = sub.add_parser("retry-failed", help="replay only the items that failed before",
                           description="Replay only the items that failed in earlier runs "
                                       "(same options as a load).",
                           epilog=EPILOG, formatter_class=_HelpFormatter)
    _add_groups(retry, _LOAD_GROUPS)

    search = sub.add_parser("search", help="hybrid search of the loaded collection",
                            description="Run a hybrid (dense + sparse) query against the collection.",
                            epilog=EPILOG, formatter_class=_HelpFormatter)
    search.add_argument("query", metavar="QUERY", help="what to look for, in plain words")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="number of hits (default: 10)")
    _add_groups(search, _SEARCH_GROUPS, _COMMON_RUN + _COMMON_OUTPUT)

    demo = sub.add_parser("demo-server", help="run the demo Plex/TMDb/IMDb server standalone",
                          description="Serve the synthetic demo library (Plex, TMDb and IMDb APIs) "
                                      "on 127.0.0.1 until interrupted.",
                          formatter_class=_HelpFormatter)
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    demo.add_argument("--port", type=int, default=32400,
                      help="TCP port (default: %(default)s; 0 = a free port, printed)")
    demo.add_argument("--items", type=int, default=SETTINGS_BY_NAME["demo_items"].default,
                      help="items in the library (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=SETTINGS_BY_NAME["demo_seed"].default,
                      help="library seed (default: %(default)s)")
    demo.add_argument("--latency-ms", type=float, default=0.0, help="added latency per request (default: 0)")
    demo.add_argument("--error-rate", type=float, default=0.0,
                      help="share of requests answered with a 5xx, 0..1 (default: 0)")
    demo.add_argument("--malformed-rate", type=float, default=0.0,
                      help="share of responses that are malformed, 0..1 (default: 0)")
    demo.add_argument("--rate-limit", type=float, default=None, metavar="REQ_PER_S",
                      help="answer 429 with Retry-After above this request rate (default: off)")
    demo.add_argument("--token", default=None,
                      help="Plex token the server requires (default: the built-in demo-token; '' = none)")
    demo.add_argument("--tmdb-api-key", dest="demo_tmdb_api_key", default=None, metavar="KEY",
                      help="TMDb key the server requires (default: the built-in demo-tmdb-key; '' = none)")
    _add_groups(demo, (), _COMMON_OUTPUT)

    profiles = sub.add_parser("profiles", help="list, show, save or delete saved profiles",
                              description="Manage saved run profiles (TOML files under "
                                          "<config dir>/profiles).",
                              formatter_class=_HelpFormatter)
    _add_groups(profiles, (), ("config_dir",) + _COMMON_OUTPUT)
    actions = profiles.add_subparsers(dest="profiles_action", metavar="ACTION", required=True,
                                      parser_class=_Parser)
    p_list = actions.add_parser("list", help="list saved profiles", formatter_class=_HelpFormatter)
    _add_groups(p_list, (), ("config_dir",))
    p_show = actions.add_parser("show", help="print a profile (secrets masked)", formatter_class=_HelpFormatter)
    p_show.add_argument("name", metavar="NAME")
    _add_groups(p_show, (), ("config_dir",))
    p_delete = actions.add_parser("delete", help="delete a profile and its secrets file",
                                  formatter_class=_HelpFormatter)
    p_delete.add_argument("name", metavar="NAME")
    _add_groups(p_delete, (), ("config_dir",))
    p_save = actions.add_parser(
        "save", help="save the given flags into a profile (merged into an existing one)",
        description="Save the settings given as flags into profile NAME, keeping what the file "
                    "already holds and its comments. Secrets given as flags are saved as a "
                    "reference to their environment variable, unless --store-secrets.",
        formatter_class=_HelpFormatter,
    )
    p_save.add_argument("name", metavar="NAME")
    p_save.add_argument("--store-secrets", action="store_true",
                        help="write given secrets to NAME.secrets.toml (mode 0600) instead of "
                             "referring to their environment variables")
    p_save.add_argument("--comment", default=None, help="a comment line for a new profile file")
    for secret in SECRET_SETTINGS:
        spec = SETTINGS_BY_NAME[secret]
        p_save.add_argument(f"--{secret.replace('_', '-')}-env", dest=f"{secret}_env", default=None,
                            metavar="VAR", help=f"read {secret} from this environment variable "
                                                f"(default when a {spec.flags[0]} is given: {spec.env[0]})")
    _add_groups(p_save, _LOAD_GROUPS)
    return parser


# --------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------


def configure_logging(level: str, log_file: Path | None, secrets: Sequence[str],
                      *, console: bool = True, stream: TextIO | None = None,
                      log_file_label: str = "--log-file",
                      console_level: str | None = None) -> list[logging.Handler]:
    """Install handlers on the root logger, each with a :class:`RedactingFilter`.

    ``console=False`` leaves the terminal alone (the dashboard owns it).
    ``console_level`` (headless) gives the console its own, usually higher,
    threshold than the log file, so progress lines are not drowned by INFO logs.
    Returns the handlers so that tests (and repeated in-process calls) can remove them.
    """
    root = logging.getLogger()
    redacting = RedactingFilter(secrets)
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    handlers: list[logging.Handler] = []
    levels = [_level(level)]
    if console:
        console_handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        if console_level is not None:
            console_handler.setLevel(_level(console_level))
            # urllib3 warns on every connection retry; the run reports the outcome in
            # one line of its own, so the console skips them (the log file keeps them).
            console_handler.addFilter(_quiet_urllib3)
            levels = [_level(console_level)] + ([_level(level)] if log_file is not None else [])
        handlers.append(console_handler)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{log_file_label}: cannot write {log_file}: {exc.strerror or exc}") from None
    if not handlers:
        # Without any handler Python's last-resort handler would print warnings to
        # stderr, under the dashboard's screen.
        handlers.append(logging.NullHandler())
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.addFilter(redacting)
        root.addHandler(handler)
    # The root passes what the most talkative handler wants; each handler filters the rest.
    root.setLevel(min(levels))
    # Libraries' warnings.warn() (qdrant-client's "insecure connection", ...) go through the
    # same handlers: redacted, in the log file, and never raw under the dashboard's screen.
    logging.captureWarnings(True)
    # Third-party chatter at INFO (httpx logs every request) would drown the progress lines.
    for noisy in ("httpx", "httpcore", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return handlers


def _quiet_urllib3(record: logging.LogRecord) -> bool:
    if record.name == "py.warnings" and isinstance(record.msg, str):
        # A captured warning carries the source line that raised it: keep its first line.
        record.msg = record.msg.strip().splitlines()[0]
    return not (record.name.startswith("urllib3") and record.levelno < logging.ERROR)


def _level(name: str) -> int:
    return getattr(logging, name.upper(), logging.INFO)


def _remove_handlers(handlers: Sequence[logging.Handler]) -> None:
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    if handlers:
        logging.captureWarnings(False)


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------


def _err(message: str, secrets: Sequence[str] = ()) -> None:
    text = mask_in_text(redact(" ".join(str(message).split()), secrets))
    print(f"{PROG}: error: {text}", file=sys.stderr)


def _run_load(config: RunConfig) -> int:
    if config.no_ui:
        from plex_loader_tui.headless import run_headless

        return int(run_headless(config))
    from plex_loader_tui.tui.app import run_dashboard

    return int(run_dashboard(config))


def _run_search(config: RunConfig, query: str, limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise ConfigError(f"--limit: must be between 1 and 1000, got {limit}")
    if not query.strip():
        raise ConfigError("QUERY: must not be empty")
    from plex_loader_tui.load import search_collection

    hits = search_collection(config, query, limit)
    if inspect.isawaitable(hits):
        hits = asyncio.run(hits)
    out = sys.stdout
    if not hits:
        print(f"no hits in collection {config.collection!r} at {config.qdrant_location}", file=out)
        return EXIT_OK
    print(f"{'#':>3}  {'score':>7}  {'type':<7}  title", file=out)
    for rank, hit in enumerate(hits, start=1):
        # display_title names the show and episode of an episode and ends with the year:
        # "Harbor Lights — S02E04 — Fog Bank (2017)".
        print(f"{rank:>3}  {hit.score:>7.4f}  {hit.type or '':<7}  {hit.display_title}", file=out)
    return EXIT_OK


def _run_demo_server(args: argparse.Namespace) -> int:
    checks = [
        ("--port", 0 <= args.port <= 65535, f"must be between 0 and 65535, got {args.port}"),
        ("--items", args.items >= 1, f"must be at least 1, got {args.items}"),
        ("--seed", args.seed >= 0, f"must be at least 0, got {args.seed}"),
        ("--latency-ms", args.latency_ms >= 0, f"must be at least 0, got {args.latency_ms:g}"),
        ("--error-rate", 0 <= args.error_rate <= 1, f"must be between 0 and 1, got {args.error_rate:g}"),
        ("--malformed-rate", 0 <= args.malformed_rate <= 1,
         f"must be between 0 and 1, got {args.malformed_rate:g}"),
        ("--rate-limit", args.rate_limit is None or args.rate_limit > 0,
         f"must be greater than 0, got {args.rate_limit}"),
    ]
    for flag, ok, problem in checks:
        if not ok:
            raise ConfigError(f"{flag}: {problem}")
    from plex_loader_tui.demo.server import run_standalone

    kwargs: dict[str, Any] = {
        "host": args.host, "port": args.port, "items": args.items, "seed": args.seed,
        "latency_ms": args.latency_ms, "error_rate": args.error_rate, "rate_limit": args.rate_limit,
    }
    if args.malformed_rate:
        kwargs["malformed_rate"] = args.malformed_rate
    # Unset credentials keep the server's built-in demo ones; an empty string means "none required".
    if args.token is not None:
        kwargs["token"] = args.token or None
    if args.demo_tmdb_api_key is not None:
        kwargs["tmdb_api_key"] = args.demo_tmdb_api_key or None
    return int(run_standalone(**kwargs))


def _profile_store(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    from plex_loader_tui.profiles import ProfileStore

    config_dir = getattr(args, "config_dir", None) or environ.get("PLEX_LOADER_CONFIG_DIR", "").strip()
    return ProfileStore(Path(config_dir).expanduser() if config_dir else default_config_dir())


def _run_profiles(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from plex_loader_tui.profiles import default_env_name

    store = _profile_store(args, environ)
    out = sys.stdout
    action = args.profiles_action
    if action == "list":
        names = store.list()
        if not names:
            print(f"no profiles in {store.directory}", file=out)
        for name in names:
            note = "  (with stored secrets)" if store.secrets_path(name).is_file() else ""
            print(f"{name}{note}", file=out)
        return EXIT_OK
    if action == "show":
        store.load(args.name)  # validate first: show only what a run would accept
        print(f"# {store.path(args.name)}", file=out)
        print(store.read_text(args.name).rstrip("\n"), file=out)
        secrets = store.stored_secrets(args.name)
        if secrets:
            print(f"\n# secrets stored in {store.secrets_path(args.name)} (mode 0600), masked here:", file=out)
            for key, value in secrets.items():
                print(f'{key} = "{mask(value)}"', file=out)
        return EXIT_OK
    if action == "delete":
        store.delete(args.name)
        print(f"deleted profile {args.name!r} ({store.path(args.name)})", file=out)
        return EXIT_OK
    # save
    flags = {k[len(FLAG_NAME_PREFIX):]: v for k, v in vars(args).items() if k.startswith(FLAG_NAME_PREFIX)}
    given = {k: v for k, v in vars(args).items() if k in SETTINGS_BY_NAME and k not in ("config_dir",)}
    if not given and not any(getattr(args, f"{s}_env", None) for s in SECRET_SETTINGS):
        raise ConfigError("profiles save: give at least one setting flag to save (see `profiles save --help`)")
    for name in given:
        if not SETTINGS_BY_NAME[name].in_profile:
            raise ConfigError(f"{flags.get(name, name)}: cannot be saved in a profile (give it per run)")
    # Resolve the given flags alone: the same parsing and checks as a run.
    resolved = resolve_config({**given, "_flag_names": flags}, {}, None, command="search")
    values: dict[str, Any] = {}
    notes: list[str] = []
    for name in given:
        values[name] = resolved.setting_value(name)
    for secret in SECRET_SETTINGS:
        env_ref = getattr(args, f"{secret}_env", None)
        if secret in values and not args.store_secrets:
            values.pop(secret)
            env_ref = env_ref or default_env_name(secret)
            notes.append(f"{secret} not stored: the profile reads it from ${env_ref} "
                         "(use --store-secrets to store it in a 0600 file)")
        if env_ref:
            values[f"{secret}_env"] = env_ref
    path = store.save(args.name, values, comment=args.comment, store_secrets=args.store_secrets)
    print(f"saved profile {args.name!r} to {path}", file=out)
    if args.store_secrets and any(s in values for s in SECRET_SETTINGS):
        print(f"secrets stored in {store.secrets_path(args.name)} (mode 0600)", file=out)
    for note in notes:
        print(note, file=out)
    return EXIT_OK


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception while no runner has its own handler.

    Runners that drain on SIGTERM (headless) install their own handler on
    the event loop, which takes precedence while they run.
    """
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, AttributeError):
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise _Terminated()

    try:
        signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread: leave signals to the caller
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: Flags whose value is a credential (the settings' and demo-server's own).
_SECRET_FLAGS: tuple[str, ...] = tuple(
    flag for name in SECRET_SETTINGS for flag in SETTINGS_BY_NAME[name].flags
) + ("--token",)


def secrets_in_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """The values given to secret flags in ``argv`` (``--plex-token X`` and ``--plex-token=X``).

    Collected before parsing, so that an argparse error that quotes the command
    line ("unrecognized arguments: --plex-token …") can be redacted. A prefix
    that argparse would accept as an abbreviation (``--plex-tok``) counts too;
    masking a value that was not a secret only costs some of an error line.
    """
    found: list[str] = []
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if not arg.startswith("--") or len(arg) <= 2:
            continue
        option, eq, value = arg.partition("=")
        if not any(flag.startswith(option) for flag in _SECRET_FLAGS):
            continue
        if eq:
            found.append(value)
        elif index + 1 < len(argv):
            found.append(argv[index + 1])
    return tuple(v for v in found if v)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; return the process exit code (see the module docstring)."""
    environ = os.environ if environ is None else environ
    argv = list(sys.argv[1:] if argv is None else argv)
    secrets: tuple[str, ...] = tuple(
        v for v in (environ.get(SETTINGS_BY_NAME[s].env[0]) for s in SECRET_SETTINGS) if v
    ) + secrets_in_argv(argv)
    handlers: list[logging.Handler] = []
    try:
        with _sigterm_raises():
            try:
                args = build_parser().parse_args(argv)
            except _UsageError as exc:
                _err(f"{exc} (see {PROG} --help)", secrets)
                return EXIT_USAGE
            except SystemExit as exc:  # --help / --version
                return int(exc.code or 0)
            command = args.command or "load"
            return _dispatch(command, args, environ, handlers, secrets)
    except ConfigError as exc:
        _err(str(exc), secrets)
        return EXIT_USAGE
    except FatalError as exc:
        _err(str(exc), secrets)
        return EXIT_FATAL
    except KeyboardInterrupt:
        _err("interrupted", secrets)
        return EXIT_SIGINT
    except _Terminated:
        _err("terminated", secrets)
        return EXIT_SIGTERM
    finally:
        _remove_handlers(handlers)


def _dispatch(command: str, args: argparse.Namespace, environ: Mapping[str, str],
              handlers: list[logging.Handler], secrets: tuple[str, ...]) -> int:
    def setup_logging(config: RunConfig | None, console: bool = True, console_level: str | None = None) -> None:
        level = config.log_level if config else _arg_or_env(args, environ, "log_level") or "INFO"
        log_file = config.log_file if config else _path_arg_or_env(args, environ, "log_file")
        known = secrets + (config.secret_values() if config else ())
        label = config.origin("log_file") if config else "--log-file"
        handlers.extend(configure_logging(level, log_file, known, console=console, log_file_label=label,
                                          console_level=console_level))

    if command == "demo-server":
        setup_logging(None)
        return _guard(lambda: _run_demo_server(args), secrets)
    if command == "profiles":
        setup_logging(None)
        return _run_profiles(args, environ)
    config = resolve_config(args, environ, None, command=command)
    secrets = secrets + config.secret_values()
    # The console carries the results (search hits, progress lines), so it shows
    # only warnings unless the user asked for a level; the log file keeps the
    # full --log-level. The dashboard owns the terminal: it gets only the log file.
    level_given = config.origins.get("log_level", DEFAULT_ORIGIN) != DEFAULT_ORIGIN
    if command == "search":
        setup_logging(config, console_level=None if level_given else "WARNING")
        return _guard(lambda: _run_search(config, args.query, args.limit), secrets)
    setup_logging(config, console=config.no_ui,
                  console_level=None if level_given or not config.no_ui else "WARNING")
    logger.debug("effective config: %s", config.masked())
    return _guard(lambda: _run_load(config), secrets)


def _guard(run: Callable[[], int], secrets: Sequence[str]) -> int:
    """Run a front end; map unexpected exceptions to exit 3 with the traceback in the log."""
    try:
        return run()
    except (FatalError, KeyboardInterrupt, _Terminated):
        raise
    except Exception as exc:  # a bug, not a user error: keep the traceback, redacted, in the log
        logger.exception("unexpected error")
        _err(f"unexpected {type(exc).__name__}: {exc} (details in the log)", secrets)
        return EXIT_FATAL


def _arg_or_env(args: argparse.Namespace, environ: Mapping[str, str], name: str) -> str | None:
    spec = SETTINGS_BY_NAME[name]
    value = getattr(args, name, None)
    if value is None:
        value = next((environ[e] for e in spec.env if environ.get(e, "").strip()), None)
    if value is not None and spec.kind == "choice":
        upper = str(value).strip().upper()
        if upper not in spec.choices:
            raise ConfigError(f"{spec.flags[0]}: must be one of {', '.join(spec.choices)}, got {value!r}")
        return upper
    return value


def _path_arg_or_env(args: argparse.Namespace, environ: Mapping[str, str], name: str) -> Path | None:
    value = _arg_or_env(args, environ, name)
    return Path(value).expanduser() if value else None


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
