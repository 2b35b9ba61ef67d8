"""``python -m plex_loader_tui``: the same as the ``plex-loader-tui`` command."""

from plex_loader_tui.main import main

if __name__ == "__main__":
    raise SystemExit(main())
