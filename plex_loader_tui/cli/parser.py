"""The argument parser: every setting's flags, the subcommands, one-line errors.

The setting flags come from the settings table (each setting adds its own
option: :meth:`~plex_loader_tui.config.Setting.add_to`); this module only
arranges them into groups and subcommands and adds the subcommands' own
arguments.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from plex_loader_tui.config import (
    APP_NAME,
    DEMO_COLLECTION,
    GROUPS,
    SECRET_SETTINGS,
    SERVICE_GROUP,
    SETTINGS_BY_NAME,
    settings_in_group,
)
from plex_loader_tui.exit_codes import EXIT_CODE_TABLE

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


class UsageError(Exception):
    """An argparse error, kept to one line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not exit the process.

    Long options must be written out: an abbreviation (``--embed-worker``) is an
    unknown option, not silently the option it happens to prefix.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# argparse's own test for "this token is a negative number, not an option".
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; an unknown option is reported as such before anything else.

    argparse sets an unknown option aside and goes on, so ``--plex-urll http://x``
    would otherwise be reported as the URL being an invalid COMMAND.
    """
    parser = build_parser()
    check_options(parser, argv)
    return parser.parse_args(argv)


def check_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """Raise :class:`UsageError` for the first option no parser on the way knows.

    Walks ``argv`` as argparse would: options before a subcommand belong to the
    parser above it, options after it to the subcommand's parser.
    """
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            return
        if token.startswith("-") and token != "-" and not _NEGATIVE_NUMBER.match(token):
            name = token.split("=", 1)[0]
            action = parser._option_string_actions.get(name)
            if action is None:
                raise UsageError(_unknown_option(parser, name))
            if action.nargs != 0 and "=" not in token:
                next(tokens, None)  # its value, whatever it looks like
            continue
        sub = _subcommands(parser)
        if sub is None:
            continue  # a positional argument (search's QUERY, a profile NAME)
        if token not in sub.choices:
            close = difflib.get_close_matches(token, list(sub.choices), n=1, cutoff=0.6)
            hint = f": did you mean {close[0]}?" if close else f" (commands: {', '.join(sub.choices)})"
            raise UsageError(f"unknown {sub.metavar.lower() if sub.metavar else 'command'} {token!r}{hint}")
        parser = sub.choices[token]


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _unknown_option(parser: argparse.ArgumentParser, name: str) -> str:
    known = [o for o in parser._option_string_actions if o.startswith("--")]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    # An abbreviation is a prefix of what was meant, however short.
    if not close and name.startswith("--"):
        close = sorted(o for o in known if o.startswith(name))[:1]
    hint = f": did you mean {close[0]}?" if close else ""
    return f"unknown option {name}{hint}"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34, width=min(100, _terminal_width()))


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


def _add_groups(parser: argparse.ArgumentParser, groups: Sequence[str],
                extra: Sequence[str] = ()) -> None:
    """Add the setting flags of ``groups`` (and single settings ``extra``) to ``parser``."""
    seen: set[str] = set()
    for group_name in groups:
        group = parser.add_argument_group(group_name)
        for spec in settings_in_group(group_name):
            spec.add_to(group)
            seen.add(spec.name)
    rest = [SETTINGS_BY_NAME[name] for name in extra if name not in seen]
    if rest:
        group = parser.add_argument_group("Run and output")
        for spec in rest:
            spec.add_to(group)


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
    search.add_argument("--json", action="store_true",
                        help="one JSON object per hit and line: score, id, payload (without the embedded text)")
    search.add_argument("--with-text", action="store_true", help="with --json: keep the embedded text in the payload")
    search.add_argument("--type", dest="item_type", choices=("movie", "episode"), default=None,
                        help="only movies or only episodes")
    search.add_argument("--year", type=int, default=None, metavar="YEAR", help="only items of this year")
    search.add_argument("--genre", default=None, metavar="NAME", help="only items with this genre (exact)")
    search.add_argument("--actor", default=None, metavar="NAME", help="only items with this actor (exact)")
    _add_groups(search, _SEARCH_GROUPS, ("demo",) + _COMMON_RUN + _COMMON_OUTPUT)
    _demo_help(search, "search")

    doctor = sub.add_parser(
        "doctor", help="check the collection and its drift from the load state (--repair fixes)",
        description="Check the collection against what its consumers need (vectors, sparse IDF, payload "
                    "indexes, recorded models) and against the load state (missing, changed and orphan "
                    "points). One line per finding. Exit 0 healthy, 1 findings, 3 cannot connect.",
        epilog=EPILOG, formatter_class=_HelpFormatter)
    doctor.add_argument("--repair", action="store_true",
                        help="fix what can be fixed, delete orphan points and reload drifted items "
                             "(a retry-failed load: needs the source options)")
    _add_groups(doctor, _LOAD_GROUPS)
    _demo_help(doctor, "check")

    status = sub.add_parser(
        "status", help="the collection's size, last run, dead letters and service",
        description="Say how big the collection is, how the last run ended, how many dead letters "
                    "wait for retry-failed, and whether a service runs on it.",
        epilog=EPILOG, formatter_class=_HelpFormatter)
    status.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    _add_groups(status, ("Target",), ("demo",) + _COMMON_RUN + _COMMON_OUTPUT)
    _demo_help(status, "describe")

    serve = sub.add_parser(
        "serve", help="keep the collection in step with Plex (a service with a control API)",
        description="Load incrementally, then watch Plex's notifications and sync each change within "
                    "seconds; a control API and Prometheus metrics listen on --listen. SIGTERM or "
                    "SIGINT drains and exits 0; a second signal stops at once.",
        epilog=EPILOG, formatter_class=_HelpFormatter)
    _add_groups(serve, _LOAD_GROUPS + (SERVICE_GROUP,))

    migrate = sub.add_parser(
        "migrate-store", help="copy a qdrant-client local-mode folder into Qdrant Edge",
        description="Copy every collection of the embedded folder (--qdrant-path, default <data dir>/qdrant) "
                    "from qdrant-client local mode into Qdrant Edge, page by page, checking each page and "
                    "each count; the local-mode files are kept in a backup folder beside it.",
        epilog=EPILOG, formatter_class=_HelpFormatter)
    _add_groups(migrate, (), ("qdrant_path",) + _COMMON_RUN + _COMMON_OUTPUT)

    _add_attach(sub)
    _add_demo_server(sub)
    _add_profiles(sub)
    return parser


#: Where ``web`` serves the attached dashboard by default (the service's API is on 8765).
WEB_LISTEN_DEFAULT = "127.0.0.1:8766"


def _add_attach(sub: argparse._SubParsersAction) -> None:
    url_help = ("the service's control API, e.g. http://127.0.0.1:8765 (default: the service running on the "
                "configured collection, else serve's default address)")
    attach = sub.add_parser(
        "attach", help="the dashboard of a running serve (q detaches; the service keeps running)",
        description="Open the dashboard on a running `serve` through its control API: every panel, tuning, "
                    "pause/resume, drain, retry-failed and search. The token comes from "
                    "PLEX_LOADER_CONTROL_TOKEN or <config dir>/control-token. An unreachable service or a "
                    "refused token is one line and exit 3.",
        epilog=EPILOG, formatter_class=_HelpFormatter)
    attach.add_argument("url", metavar="URL", nargs="?", default=None, help=url_help)
    _add_groups(attach, ("Target",), ("demo",) + _COMMON_RUN + _COMMON_OUTPUT)
    _demo_help(attach, "attach to the service of")

    web = sub.add_parser(
        "web", help="the attached dashboard in a browser (textual-serve, loopback only by default)",
        description="Serve the attached dashboard (as `attach`) to web browsers with textual-serve. It has "
                    "no authentication of its own: it listens on loopback unless --allow-non-loopback; "
                    "reach it through an SSH tunnel or a reverse proxy that authenticates (README).",
        epilog=EPILOG, formatter_class=_HelpFormatter)
    web.add_argument("url", metavar="URL", nargs="?", default=None, help=url_help)
    web.add_argument("--listen", dest="web_listen", default=WEB_LISTEN_DEFAULT, metavar="HOST:PORT",
                     help="where browsers connect (default: %(default)s)")
    web.add_argument("--allow-non-loopback", action="store_true",
                     help="listen on an address other machines reach: anyone who opens the page controls "
                          "the service (put an authenticating proxy in front)")
    web.add_argument("--public-url", default=None, metavar="URL",
                     help="the page's address as browsers see it, behind a reverse proxy "
                          "(default: http://HOST:PORT of --listen)")
    _add_groups(web, ("Target",), ("demo",) + _COMMON_RUN + _COMMON_OUTPUT)
    _demo_help(web, "attach to the service of")


def _demo_help(parser: argparse.ArgumentParser, verb: str) -> None:
    for action in parser._actions:
        if action.dest == "demo" and action.option_strings == ["--demo"]:
            action.help = f"{verb} the collection a --demo load writes ({DEMO_COLLECTION}) unless --collection names one"


def _add_demo_server(sub: argparse._SubParsersAction) -> None:
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
    demo.add_argument("--error-status", type=int, default=None, metavar="CODE",
                      help="status of the --error-rate answers (default: 500 for Plex, 503 for TMDb/IMDb)")
    for flag, what in (("--html-rate", "a captive portal's HTML sign-in page (200)"),
                       ("--wrong-shape-rate", "a 200 that parses but lacks the expected fields"),
                       ("--huge-rate", "a 200 with a --huge-mb body, streamed"),
                       ("--throttle-rate", "a 429 with Retry-After: --retry-after"),
                       ("--stall-rate", "silence for --stall-ms before the headers"),
                       ("--stall-body-rate", "the headers, then silence for --stall-ms")):
        demo.add_argument(flag, type=float, default=0.0, metavar="R",
                          help=f"share of requests answered with {what}, 0..1 (default: 0)")
    demo.add_argument("--huge-mb", type=float, default=200.0, metavar="MB",
                      help="size of a --huge-rate body (default: %(default)g)")
    demo.add_argument("--retry-after", type=int, default=3600, metavar="SECONDS",
                      help="Retry-After of a --throttle-rate answer (default: %(default)s)")
    demo.add_argument("--stall-ms", type=float, default=30_000.0, metavar="MS",
                      help="how long a stalled answer stays silent (default: %(default)g)")
    demo.add_argument("--short-total", type=int, default=None, metavar="N",
                      help="Plex section listings report at most N items in totalSize (default: off)")
    demo.add_argument("--churn", type=int, default=SETTINGS_BY_NAME["demo_churn"].default, metavar="N",
                      help="change N items a minute (touch, add, remove; seeded), telling connected clients "
                           "through Plex's notification stream (default: 0, none)")
    demo.add_argument("--hostile", action="store_true",
                      help="titles, summaries, tags and error bodies carry markup, escape sequences and "
                           "control characters")
    demo.add_argument("--token", default=None,
                      help="Plex token the server requires (default: the built-in demo-token; '' = none)")
    demo.add_argument("--tmdb-api-key", dest="demo_tmdb_api_key", default=None, metavar="KEY",
                      help="TMDb key the server requires (default: the built-in demo-tmdb-key; '' = none)")
    _add_groups(demo, (), _COMMON_OUTPUT)


def _add_profiles(sub: argparse._SubParsersAction) -> None:
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
