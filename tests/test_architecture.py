"""The layering of docs/architecture.md, checked: import contracts and module sizes.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are
checked here with import-linter, so breaking a layer fails the suite, not
only a reviewer's eye.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "plex_loader_tui"
#: "~400 lines at most": a little slack, so one more docstring does not fail the suite.
MAX_MODULE_LINES = 450
#: Modules that are data tables, not logic (word lists of the demo library).
DATA_TABLES = {"demo/words.py"}


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_the_import_contracts_hold() -> None:
    # In its own process: import-linter configures logging with dictConfig, which
    # disables every logger that already exists in this one (and so breaks the
    # log-capturing tests that run after it).
    checker = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    result = subprocess.run(
        [sys.executable, "-c", checker], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_engine_contract_names_every_other_top_level_module() -> None:
    """A new top-level module cannot slip past the engine's isolation unnoticed."""
    siblings = {
        f"plex_loader_tui.{entry.stem if entry.is_file() else entry.name}"
        for entry in PACKAGE.iterdir()
        if (entry.suffix == ".py" and entry.stem not in ("__init__", "__main__"))
        or (entry.is_dir() and (entry / "__init__.py").is_file())
    }
    forbidden = set(_contracts()["engine"]["forbidden_modules"])
    missing = sorted(siblings - forbidden - {"plex_loader_tui.pipeline"})
    assert not missing, f"add to the engine contract in pyproject.toml: {', '.join(missing)}"


def test_no_module_is_a_god_module() -> None:
    too_long = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in DATA_TABLES:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{relative} ({lines} lines)")
    assert not too_long, "split these along their seams: " + ", ".join(sorted(too_long))


def test_the_architecture_doc_names_every_top_level_module() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for entry in PACKAGE.iterdir():
        if entry.name.startswith("_") or entry.name == "__pycache__":
            continue
        name = f"{entry.name}/" if entry.is_dir() else entry.name
        if entry.is_dir() or entry.suffix == ".py":
            assert name in doc, f"docs/architecture.md does not mention {name}"


if os.name != "posix":  # pragma: no cover - the contracts are platform-independent
    pytestmark = pytest.mark.skip("checked on POSIX CI")
