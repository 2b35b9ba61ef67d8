"""The sync service (`plex-loader-tui serve`): a load that keeps the collection in step with Plex."""
