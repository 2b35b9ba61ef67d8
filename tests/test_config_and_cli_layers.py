"""The command line and the config package stay on their side of the seams.

The cli package hands a load to the front end that ``plex_loader_tui.main``
passes in, so it imports neither the dashboard nor headless, not even lazily
inside a function; the config package imports no front end and no runner; the
profile files' module knows nothing of resolution (they used to import each other).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "plex_loader_tui"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, as an absolute name."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _reaches(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for module in _imports(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    return bad


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("cli", ("plex_loader_tui.tui", "plex_loader_tui.headless", "plex_loader_tui.main")),
        ("config", ("plex_loader_tui.tui", "plex_loader_tui.headless", "plex_loader_tui.cli",
                    "plex_loader_tui.main", "plex_loader_tui.load")),
    ],
)
def test_package_imports_no_front_end(folder, forbidden):
    assert _reaches(folder, forbidden) == []


def test_profile_files_know_nothing_of_resolution():
    modules = _imports(PACKAGE / "config" / "profiles.py")
    assert not {m for m in modules if m.startswith(("plex_loader_tui.config.resolve", "plex_loader_tui.config.run_config"))}
