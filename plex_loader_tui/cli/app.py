"""The command line from argv to exit code: parse, resolve, set up logging, dispatch.

The load itself (dashboard or headless) is not run from here: the caller
(:mod:`plex_loader_tui.main`) passes it in as ``run_load``, so that the command
line imports no front end.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from plex_loader_tui.config import RunConfig, check_writable_places, resolve_config
from plex_loader_tui.errors import ConfigError, FatalError
from plex_loader_tui.exit_codes import ExitCode

from .logs import _remove_handlers, configure_logging, unresolved_log_settings
from .parser import PROG, UsageError, parse_command_line
from .redaction import known_secrets, print_error
from .signals import Terminated, sigterm_raises
from .terminal import headless_without_terminal

if TYPE_CHECKING:
    from .attach import AttachRunner

logger = logging.getLogger(__name__)

#: Runs a load (or retry-failed) with a resolved config; returns the exit code.
LoadRunner = Callable[[RunConfig], int]


def run_command_line(argv: Sequence[str] | None, environ: Mapping[str, str] | None,
                     run_load: LoadRunner, run_attach: AttachRunner | None = None) -> int:
    """Run the command line; return the process exit code (:class:`ExitCode`).

    ``run_attach`` runs the attached dashboard (``attach``); like ``run_load`` it
    is the caller's, so that this package imports no front end.
    """
    environ = os.environ if environ is None else environ
    argv = list(sys.argv[1:] if argv is None else argv)
    secrets = known_secrets(argv, environ)
    handlers: list[logging.Handler] = []
    try:
        with sigterm_raises():
            try:
                args = parse_command_line(argv)
            except UsageError as exc:
                print_error(f"{exc} (see {PROG} --help)", secrets)
                return ExitCode.USAGE
            except SystemExit as exc:  # --help / --version
                return int(exc.code or 0)
            return _Dispatch(args, environ, handlers, secrets).run(run_load, run_attach)
    except ConfigError as exc:
        print_error(str(exc), secrets)
        return ExitCode.USAGE
    except FatalError as exc:
        print_error(str(exc), secrets)
        return ExitCode.FATAL
    except KeyboardInterrupt:
        print_error("interrupted", secrets)
        return ExitCode.SIGINT
    except Terminated:
        print_error("terminated", secrets)
        return ExitCode.SIGTERM
    finally:
        _remove_handlers(handlers)


class _Dispatch:
    """One parsed command: its logging and its runner."""

    def __init__(self, args: argparse.Namespace, environ: Mapping[str, str],
                 handlers: list[logging.Handler], secrets: tuple[str, ...]) -> None:
        self.args = args
        self.environ = environ
        self.handlers = handlers  # the caller removes them, whatever happens
        self.secrets = secrets

    def run(self, run_load: LoadRunner, run_attach: AttachRunner | None = None) -> int:
        args, command = self.args, self.args.command or "load"
        if command == "demo-server":
            from .demo_server import run_demo_server

            self._log_without_config()
            return self._guard(lambda: run_demo_server(args))
        if command == "profiles":
            from .profiles import run_profiles

            self._log_without_config()
            return run_profiles(args, self.environ)
        # doctor --repair reloads drifted items: it needs what a retry-failed load needs.
        resolve_as = "retry-failed" if command == "doctor" and args.repair else command
        config = resolve_config(args, self.environ, None, command=resolve_as)
        self.secrets += config.secret_values()
        # The console carries the results (search hits, progress lines), so it shows
        # only warnings unless the user asked for a level; the log file keeps the
        # full --log-level. The dashboard owns the terminal: it gets only the log file.
        level_given = config.given("log_level")
        if command == "search":
            from .search import run_search, search_options

            self._log(config, console_level=None if level_given else "WARNING")
            return self._guard(lambda: run_search(config, args.query, args.limit, search_options(args)))
        if command in ("doctor", "status"):
            self._log(config, console_level=None if level_given else "WARNING")
            if command == "status":
                from .status import run_status

                return self._guard(lambda: run_status(config, as_json=args.json))
            from .doctor import run_doctor

            return self._guard(lambda: run_doctor(config, repair=args.repair, run_load=run_load))
        if command == "migrate-store":
            from .migrate import run_migrate_store

            self._log(config, console_level=None if level_given else "WARNING")
            return self._guard(lambda: run_migrate_store(config))
        if command == "attach":
            from .attach import run_attach as attach

            if run_attach is None:
                raise ConfigError("attach: no dashboard in this build")
            # The dashboard owns the terminal: the log file only.
            self._log(config, console=False)
            return self._guard(lambda: attach(config, args.url, run_attach))
        if command == "web":
            from .web import run_web

            self._log(config, console=True)
            return self._guard(lambda: run_web(config, args))
        check_writable_places(config)  # before any work: a bad path costs a line, not a minute
        if config.device != "cpu":  # onnxruntime is imported only for a device that needs asking
            from plex_loader_tui.embed.device import available_providers, select_device

            select_device(config.device, available_providers())  # --device cuda without CUDA: one line, exit 2
        if command == "serve":
            from .serve import run_serve

            # A service logs to its console (journald) at the configured level.
            self._log(config, console=True)
            logger.debug("effective config: %s", config.masked())
            return self._guard(lambda: run_serve(config))
        config, why = headless_without_terminal(config)
        self._log(config, console=config.no_ui,
                  console_level=None if level_given or not config.no_ui else "WARNING")
        if why is not None:  # after the log file is known good: a bad one is the only line
            print(f"{PROG}: {why}", file=sys.stderr, flush=True)
        logger.debug("effective config: %s", config.masked())
        return self._guard(lambda: run_load(config))

    def _log_without_config(self) -> None:
        level, log_file = unresolved_log_settings(self.args, self.environ)
        self.handlers.extend(configure_logging(level, log_file, self.secrets))

    def _log(self, config: RunConfig, *, console: bool = True, console_level: str | None = None) -> None:
        self.handlers.extend(configure_logging(
            config.log_level, config.log_file, self.secrets, console=console,
            log_file_label=config.origin("log_file"), console_level=console_level,
        ))

    def _guard(self, run: Callable[[], int]) -> int:
        """Run a command; map unexpected exceptions to exit 3 with the traceback in the log."""
        try:
            return run()
        except (FatalError, KeyboardInterrupt, Terminated):
            raise
        except Exception as exc:  # a bug, not a user error: keep the traceback, redacted, in the log
            logger.exception("unexpected error")
            print_error(f"unexpected {type(exc).__name__}: {exc} (details in the log)", self.secrets)
            return ExitCode.FATAL
