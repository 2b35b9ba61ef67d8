"""The Textual dashboard (``plex-loader-tui`` without ``--no-ui``); entry point: :func:`app.run_dashboard`."""
