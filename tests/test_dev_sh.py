"""``./dev.sh setup`` on a fresh copy: a line per step, no setuptools warning block, a no-op the second time.

This runs the real script in a scratch copy of the project with its own
virtual environment, so it needs the package registries, like ``./dev.sh``
itself (and CI, which runs ``./dev.sh test``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[1]
#: What a fresh clone needs for a setup (the tests and docs are not installed).
PROJECT_FILES = ("dev.sh", "pyproject.toml", "requirements-models.txt", "README.md")


def _fresh_copy(where: Path) -> Path:
    project = where / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "plex_loader_tui", project / "plex_loader_tui",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return project


def _dev_sh(project: Path, venv: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONWARNINGS")}
    env.update(VENV=str(venv), PYTHON=python)
    return subprocess.run(["./dev.sh", "setup"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=840, stdin=subprocess.DEVNULL)


def test_setup_says_each_step_and_shows_no_setuptools_warning_block(tmp_path: Path) -> None:
    project, venv = _fresh_copy(tmp_path), tmp_path / "venv"
    first = _dev_sh(project, venv)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output[-4000:]
    steps = [line for line in first.stderr.splitlines() if line.startswith("dev.sh: ")]
    assert [s.split(" ")[1] for s in steps] == ["creating", "upgrading", "installing", "installing", str(venv)], steps
    assert "editable" in steps[2] and "embedding model" in steps[3] and steps[4].endswith(" is ready"), steps
    assert "BuildBackendWarning" not in output and "Editable installation" not in output, output[-4000:]
    version = subprocess.run([str(venv / "bin" / "plex-loader-tui"), "--version"], capture_output=True, text=True,
                             timeout=60, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("plex-loader-tui "), version

    again = _dev_sh(project, venv)
    assert again.returncode == 0, again.stderr[-4000:]
    assert not [line for line in again.stderr.splitlines() if line.startswith("dev.sh: ")], again.stderr


def test_setup_without_a_usable_python_says_so_in_one_line(tmp_path: Path) -> None:
    project = _fresh_copy(tmp_path)
    result = _dev_sh(project, tmp_path / "venv", python="no-such-python3")
    assert result.returncode == 2
    assert result.stderr == ("dev.sh: needs Python 3.11 or newer; no-such-python3 is not found: "
                             "set PYTHON, e.g. PYTHON=python3.11 ./dev.sh setup\n"), result.stderr
    assert not (tmp_path / "venv").exists()
