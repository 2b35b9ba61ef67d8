"""Logging for every command: handlers on the root logger, each redacting secrets."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from plex_loader_tui.config import SETTINGS_BY_NAME
from plex_loader_tui.errors import ConfigError
from plex_loader_tui.printable import printable
from plex_loader_tui.secrets import RedactingFilter


class PrintableFormatter(logging.Formatter):
    """Log lines with control characters shown, not obeyed (see :mod:`plex_loader_tui.printable`).

    A message is one line whatever it quotes (an upstream body with a newline
    cannot forge a log line of ours); a traceback keeps its line breaks.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            # Also when a filter (the redaction) formatted the traceback before us.
            record.exc_text = printable(record.exc_text, keep_newlines=True)
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = printable(record.message)
        return super().formatMessage(record)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return printable(super().formatStack(stack_info), keep_newlines=True)


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
    fmt = PrintableFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
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
    """Take ``handlers`` off the root logger again (the end of every command)."""
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    if handlers:
        logging.captureWarnings(False)


def unresolved_log_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, Path | None]:
    """``(level, log file)`` for the commands that resolve no RunConfig (profiles, demo-server).

    Read from the flag, else the variable, with the same spellings and level
    names as a run (an unknown level is a usage error).
    """
    level_spec, file_spec = SETTINGS_BY_NAME["log_level"], SETTINGS_BY_NAME["log_file"]
    level = _flag_or_env(args, environ, "log_level")
    if level is not None:
        typed = level_spec.parse_text(str(level))
        problem = level_spec.problem(typed)
        if problem:
            # The message quotes what the user typed, not its upper-case form.
            raise ConfigError(f"{level_spec.flags[0]}: {problem.replace(repr(typed), repr(level))}")
        level = typed
    log_file = _flag_or_env(args, environ, "log_file")
    return level or level_spec.default, Path(log_file).expanduser() if log_file else file_spec.default


def _flag_or_env(args: argparse.Namespace, environ: Mapping[str, str], name: str) -> str | None:
    value = getattr(args, name, None)
    if value is None:
        value = next((environ[e] for e in SETTINGS_BY_NAME[name].env if environ.get(e, "").strip()), None)
    return value
