"""The README stays true: every flag of the command line is documented in it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from plex_loader_tui.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    flags: set[str] = set()
    for action in parser._actions:
        flags.update(o for o in action.option_strings if o.startswith("--") and o != "--help")
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= _flags(sub)
    return flags


def test_every_command_line_flag_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = sorted(f for f in _flags(build_parser()) if not re.search(re.escape(f) + r"(?![\w-])", text))
    assert not missing, f"README.md does not mention: {', '.join(missing)}"


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev.sh test" in README.read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == "./dev.sh test"


def test_every_screenshot_the_readme_shows_exists() -> None:
    text = README.read_text(encoding="utf-8")
    for path in re.findall(r"\((screenshots/[^)]+\.svg)\)", text):
        assert (README.parent / path).is_file(), path


def test_the_readme_exit_code_table_lists_every_exit_code() -> None:
    from plex_loader_tui.exit_codes import ExitCode

    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    listed = {
        int(code)
        for row in section.splitlines()
        if row.startswith("| ") and not row.startswith("| code")
        for code in row.split("|")[1].split("/")
        if code.strip().isdigit()
    }
    assert listed == {int(code) for code in ExitCode}
