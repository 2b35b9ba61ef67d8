"""Where items come from: the Plex ingestion stage."""
